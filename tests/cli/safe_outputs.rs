//! Safe outputs: interrupted runs, `--force`, temporary files.
//!
//! Interrupts are sent at named moments: with `LEADCAL_PAUSE_AT=<checkpoint>` the binary says
//! `leadcal: paused at <checkpoint>` and waits, so the signal lands at that moment on any machine.

use std::io::BufRead;

use super::*;

/// Run leadcal with `args` in the repository root, wait until it pauses at `checkpoint`, send
/// `signal`, and return its exit code and stderr.
fn interrupted_at(args: &[&str], checkpoint: &str, signal: &str) -> (Option<i32>, String) {
    let mut child = leadcal_command()
        .args(args)
        .current_dir(root())
        .env("LEADCAL_PAUSE_AT", checkpoint)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let paused = format!("leadcal: paused at {checkpoint}");
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            panic!("{args:?} ended ({status}) before {checkpoint}:\n{seen}");
        }
        seen.push_str(&line);
        if line.trim_end() == paused {
            break;
        }
    }
    let killed = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success(), "kill -{signal} failed");
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    (status.code(), seen + &rest)
}

fn calibrate_args<'a>(out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "calibrate",
        "--since",
        "2023-01",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn an_interrupted_calibrate_leaves_no_file_that_looks_complete() {
    for (checkpoint, signal) in [
        ("prepared", "INT"),
        ("calibrate: files written", "TERM"),
        ("calibrate: report written", "INT"),
    ] {
        let parent = tempfile::tempdir().unwrap();
        let run = parent.path().join("run");
        let (code, stderr) = interrupted_at(&calibrate_args(&run, &[]), checkpoint, signal);
        assert_eq!(code, Some(130), "SIG{signal} at {checkpoint}:\n{stderr}");
        assert!(
            stderr.contains("interrupted: nothing was written"),
            "{stderr}"
        );
        let files = tree(parent.path());
        assert!(
            files.is_empty(),
            "SIG{signal} at {checkpoint} left {files:?}"
        );
    }
}

#[test]
fn force_replaces_an_earlier_run_only_when_the_new_one_is_complete() {
    let parent = tempfile::tempdir().unwrap();
    let run = parent.path().join("run");
    // An earlier run, as leadcal wrote it (with its marker listing its files).
    leadcal(&calibrate_args(&run, &[])).code(0);
    let earlier = tree(parent.path());
    assert!(
        earlier.contains(&"run/.leadcal-run".to_string()),
        "{earlier:?}"
    );
    let metrics = std::fs::read(run.join("metrics.json")).unwrap();
    // Without --force: refused at once, before any work, and nothing changes.
    leadcal(&[
        "calibrate",
        "--since",
        "2023-01",
        "--out",
        run.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("never overwrites an earlier run");
    // With --force but interrupted with every new file written: the earlier run is still
    // there, untouched.
    let (code, stderr) = interrupted_at(
        &calibrate_args(&run, &["--force"]),
        "calibrate: report written",
        "INT",
    );
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(tree(parent.path()), earlier);
    assert_eq!(std::fs::read(run.join("metrics.json")).unwrap(), metrics);
    // The analyst's own notes in the run folder: --force refuses, naming them.
    std::fs::write(run.join("notes.txt"), "the analyst's own notes").unwrap();
    leadcal(&calibrate_args(&run, &["--force"]))
        .code(2)
        .stderr_has("holds `notes.txt`, which leadcal did not write");
    assert_eq!(
        std::fs::read_to_string(run.join("notes.txt")).unwrap(),
        "the analyst's own notes"
    );
    std::fs::remove_file(run.join("notes.txt")).unwrap();
    // With --force to the end: replaced by the complete new run.
    leadcal(&calibrate_args(&run, &["--force"])).code(0);
    let files = tree(parent.path());
    assert!(files.contains(&"run/report.html".to_string()), "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| !f.contains("partial") && !f.contains("replaced")),
        "{files:?}"
    );
}

#[test]
fn score_out_leaves_no_temporary_file_after_an_error_or_ctrl_c() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("scores.parquet");
    let args = [
        "score",
        "--as-of",
        "2025-06-30",
        "--out",
        out.to_str().unwrap(),
    ];
    // Ctrl-C with the table written to its temporary file, before it gets its name.
    let (code, stderr) = interrupted_at(&args, "score: table written", "INT");
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(tree(d.path()), Vec::<String>::new());
    // The accounts table's name is taken: refused before writing, nothing left.
    std::fs::create_dir(d.path().join("scores-accounts.parquet")).unwrap();
    leadcal(&args).code(2).stderr_has("never overwrites");
    assert_eq!(tree(d.path()), vec!["scores-accounts.parquet/"]);
    // And a complete run leaves the two tables only.
    std::fs::remove_dir(d.path().join("scores-accounts.parquet")).unwrap();
    leadcal(&args).code(0);
    assert_eq!(
        tree(d.path()),
        vec!["scores-accounts.parquet", "scores.parquet"]
    );
}
