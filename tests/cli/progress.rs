//! Progress on stderr: shown on a terminal, never with `--quiet` or when stderr is piped, and
//! never in an output.

use super::*;

/// `leadcal args` on a pseudo-terminal (util-linux `script`): what the terminal received.
fn on_terminal(cwd: &Path, args: &[&str]) -> Option<String> {
    let has_script = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        skip_outside_ci("progress on a terminal: util-linux `script` is not installed");
        return None;
    }
    let command = std::iter::once(env!("CARGO_BIN_EXE_leadcal"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let log = tempfile::NamedTempFile::new().unwrap();
    // Stdout to /dev/null: only stderr is on the terminal's screen.
    let out = Command::new("script")
        .args(["-qfec", &format!("{command} >/dev/null")])
        .arg(log.path())
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(out.status.success(), "{command}: {out:?}");
    Some(std::fs::read_to_string(log.path()).unwrap())
}

#[test]
fn progress_shows_on_a_terminal_and_never_with_quiet_or_a_pipe() {
    let d = tempfile::tempdir().unwrap();
    let out = |name: &str| d.path().join(name).to_string_lossy().into_owned();
    let steps = [
        "reading",
        "replaying the live model",
        "fitting",
        "evaluating",
    ];
    let (a, b) = (out("shown"), out("quiet"));
    let Some(shown) = on_terminal(&root(), &["calibrate", "--since", "2023-01", "--out", &a])
    else {
        return;
    };
    let seen: Vec<&str> = steps.into_iter().filter(|s| shown.contains(s)).collect();
    assert!(
        seen.len() >= 2,
        "a terminal shows the steps: {seen:?}\n{shown}"
    );
    let quiet = on_terminal(
        &root(),
        &["calibrate", "--since", "2023-01", "--out", &b, "--quiet"],
    )
    .unwrap();
    for s in steps {
        assert!(!quiet.contains(s), "--quiet shows {s:?}:\n{quiet}");
    }
    // Piped, nothing either; and the run folders do not depend on it.
    let piped = out("piped");
    let run = leadcal(&["calibrate", "--since", "2023-01", "--out", &piped]);
    run.code(0);
    for s in steps {
        run.stderr_lacks(s);
    }
    for f in tree(Path::new(&piped)) {
        let (x, y) = (Path::new(&piped).join(&f), Path::new(&a).join(&f));
        if f.ends_with(".json") || f.ends_with(".toml") || f.ends_with(".md") {
            // Run folders name themselves; the rest of each file is equal.
            let (x, y) = (
                std::fs::read_to_string(x).unwrap(),
                std::fs::read_to_string(y).unwrap(),
            );
            assert_eq!(x.replace(&piped, "RUN"), y.replace(&a, "RUN"), "{f}");
        } else if !f.ends_with(".html") {
            assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap(), "{f}");
        }
    }
}
