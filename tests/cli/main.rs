//! Integration tests: the `leadcal` binary and the library's public stages, on committed
//! fixtures under `tests/fixtures/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use leadcal::data::{self, LoadOptions};
use polars::prelude::*;

mod calibrate;
mod cli;
mod compare;
mod corpus;
mod dataset_toml;
mod demo;
mod evaluate;
mod exports;
mod first_model;
mod fuzz;
mod init;
mod labels;
mod layering;
mod metrics;
mod privacy;
mod progress;
mod real_exports;
mod report;
mod safe_outputs;
mod scoring;
mod segments;
mod sql;
mod stability;
mod trust;
mod validate;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// The result of one run of the binary, printed whole when an assertion fails.
struct Run {
    cwd: PathBuf,
    args: Vec<String>,
    out: Output,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    fn describe(&self) -> String {
        format!(
            "cwd: {}\nargs: {:?}\nstatus: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.cwd.display(),
            self.args,
            self.out.status,
            self.stdout(),
            self.stderr()
        )
    }
    fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.out.status.code(),
            Some(expected),
            "{}",
            self.describe()
        );
        self
    }
    fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout().contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }
    fn stderr_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stderr().contains(needle),
            "stderr should not contain {needle:?}\n{}",
            self.describe()
        );
        self
    }

    fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr().contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }
}

/// The events cache every run of this test binary shares: its own folder under the build's
/// temporary folder, emptied once per test binary, so that runs of the same data exercise the
/// cache while no developer's own cache is touched.
fn test_cache() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("leadcal-cache");
        let _ = std::fs::remove_dir_all(&d);
        d
    })
}

/// The binary, with the test binary's events cache.
fn leadcal_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leadcal"));
    c.env("LEADCAL_CACHE_DIR", test_cache());
    c
}

fn leadcal_in(cwd: &Path, args: &[&str]) -> Run {
    let out = leadcal_command()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs");
    Run {
        cwd: cwd.to_path_buf(),
        args: args.iter().map(|s| s.to_string()).collect(),
        out,
    }
}

fn leadcal(args: &[&str]) -> Run {
    leadcal_in(&root(), args)
}

fn validate(rel: &str) -> Run {
    let p = fixture(rel);
    leadcal(&["validate", p.to_str().unwrap()])
}

fn f(df: &DataFrame, column: &str, row: usize) -> f64 {
    df.column(column)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .get(row)
        .unwrap()
}

fn close(got: Option<f64>, want: &serde_json::Value, tol: f64, what: &str) {
    let want = want.as_f64().unwrap();
    let got = got.unwrap_or_else(|| panic!("{what}: no value"));
    assert!(
        (got - want).abs() <= tol,
        "{what}: leadcal {got} vs reference {want} (tolerance {tol})"
    );
}

/// A check that needs a tool this machine lacks: skipped with a message on a developer's
/// machine, a failure in CI (`CI` set), where `.ci/run` installs every tool.
fn skip_outside_ci(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{what}; CI is set, so this is a failure, not a skip"
    );
    eprintln!("skipped: {what}");
}

/// Render `html` in headless Chromium with a probe script injected first in `<head>`: every
/// image must load (natural width above 0), nothing outside the page may be requested, the page
/// itself may hold no script, nothing may reach the console, and at 1,280 px the page may not
/// scroll sideways. Without Chromium the check is skipped with a message, unless
/// LEADCAL_REQUIRE_BROWSER=1 (as `.ci/run` sets).
fn browser_check(html: &Path, images: usize) {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        assert!(
            std::env::var("LEADCAL_REQUIRE_BROWSER").is_err(),
            "LEADCAL_REQUIRE_BROWSER is set but no chromium is installed (apt-get install chromium)"
        );
        skip_outside_ci(&format!(
            "browser check of {}: chromium not installed",
            html.display()
        ));
        return;
    };
    let page = std::fs::read_to_string(html).unwrap();
    let probe = r##"<script>
window.__errors = [];
addEventListener("error", function (e) { __errors.push(String(e.message || (e.target && (e.target.src || e.target.href)) || e)); }, true);
addEventListener("load", function () {
  var im = Array.prototype.slice.call(document.images);
  var refs = Array.prototype.slice.call(document.querySelectorAll("[src],[href]")).map(function (e) { return e.getAttribute("src") || e.getAttribute("href"); });
  var r = { images: im.length,
    broken: im.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return i.alt; }),
    external: refs.filter(function (u) { return u.indexOf("data:") !== 0 && u.charAt(0) !== "#"; }),
    scripts: document.scripts.length, errors: __errors,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth };
  var p = document.createElement("pre"); p.id = "leadcal-check"; p.textContent = JSON.stringify(r); document.body.appendChild(p);
});
</script>"##;
    assert_eq!(page.matches("<head>").count(), 1);
    let dir = tempfile::tempdir().unwrap();
    let probe_path = dir.path().join("probe.html");
    std::fs::write(
        &probe_path,
        page.replacen("<head>", &format!("<head>{probe}"), 1),
    )
    .unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=20000",
            // The width of a meeting-room laptop: the page must not scroll sideways there.
            "--window-size=1280,900",
            "--dump-dom",
        ])
        .arg(format!("file://{}", probe_path.display()))
        .output()
        .unwrap();
    let (dom, log) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let what = format!("{} in {chromium}", html.display());
    assert!(out.status.success(), "{what}: exit {:?}\n{log}", out.status);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "{what}: console messages {console:#?}");
    let start = dom
        .find("<pre id=\"leadcal-check\">")
        .unwrap_or_else(|| panic!("{what}: the probe did not run\n{log}"));
    let json = &dom[start + 24..];
    let json = json[..json.find("</pre>").unwrap()]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(r["images"], images, "{what}: {r}");
    assert_eq!(
        r["broken"],
        serde_json::json!([]),
        "{what}: images that did not load: {r}"
    );
    assert_eq!(
        r["external"],
        serde_json::json!([]),
        "{what}: external requests: {r}"
    );
    assert_eq!(
        r["scripts"], 1,
        "{what}: the page holds a script of its own: {r}"
    );
    assert_eq!(r["errors"], serde_json::json!([]), "{what}: {r}");
    assert_eq!(
        r["overflow"], 0,
        "{what}: the page scrolls sideways at 1,280 px by this many pixels: {r}"
    );
}

/// English words a German page or console must not use outside a bracketed first mention: the
/// glossary's English technical names, and the everyday English of the statistics pages.
fn english_terms() -> Vec<String> {
    use leadcal::report::glossary::Term;
    let mut words: Vec<String> = Term::ALL
        .iter()
        .filter(|t| t.english())
        .map(|t| t.technical().to_lowercase())
        .collect();
    words.extend(
        [
            "precision",
            "recall",
            "lift",
            "gains",
            "in-sample",
            "out of time",
            "out-of-time",
            "folds",
            "log-loss",
            "log-odds",
            "walk-forward",
            "half-life",
            "threshold",
            "hand-over",
            "hand-overs",
            "converted",
            "converters",
            "non-converters",
            "average",
            "odds",
            "drift",
            "ranking",
            "back-test",
            "not compared",
            "written",
            "adopted",
            "missing",
        ]
        .map(String::from),
    );
    words.sort();
    words.dedup();
    words
}

/// What a reader sees of a page, without what may hold English: brackets (the first mention
/// of a technical term), „quoted“ names from the data, `<code>` (file names and settings).
/// A page's text with its tags removed and nothing else changed (links in a sentence leave it
/// whole).
fn without_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn readable_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    // Style and code are not read as prose.
    while let Some(i) = rest.find('<') {
        text.push_str(&rest[..i]);
        let tail = &rest[i..];
        let skip_to = ["style", "code"]
            .iter()
            .find(|t| tail.starts_with(&format!("<{t}")))
            .map(|t| format!("</{t}>"));
        let end = match skip_to {
            Some(close) => tail.find(&close).map_or(tail.len(), |k| k + close.len()),
            None => tail.find('>').map_or(tail.len(), |k| k + 1),
        };
        text.push(' ');
        rest = &tail[end..];
    }
    text.push_str(rest);
    let text = text
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace("&#39;", "'");
    // Brackets, innermost first, and quoted names.
    let mut out = String::new();
    let (mut depth, mut quoted) = (0usize, false);
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            '„' => quoted = true,
            '“' if quoted => quoted = false,
            _ if depth == 0 && !quoted => out.push(c),
            _ => {}
        }
    }
    out
}

/// English words in German text outside brackets, and value ranges in square brackets
/// (`[59, 133]` reads as one number with a German decimal comma): each with its context.
fn english_in_german(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let word_char = |c: char| c.is_alphanumeric() || c == '-';
    let mut found = Vec::new();
    for w in english_terms() {
        let mut from = 0;
        while let Some(k) = lower[from..].find(&w) {
            let (a, b) = (from + k, from + k + w.len());
            let before = lower[..a].chars().next_back().is_some_and(word_char);
            let after = lower[b..].chars().next().is_some_and(word_char);
            if !before && !after {
                let start = lower[..a]
                    .char_indices()
                    .rev()
                    .nth(40)
                    .map_or(0, |(i, _)| i);
                let end = lower[b..]
                    .char_indices()
                    .nth(30)
                    .map_or(lower.len(), |(i, _)| b + i);
                found.push(format!("{w}: …{}…", &lower[start..end]));
            }
            from = b;
        }
    }
    let number = |t: &str| {
        let t = t.trim();
        !t.is_empty()
            && t.chars().any(|c| c.is_ascii_digit())
            && t.chars().all(|c| c.is_ascii_digit() || ".−-".contains(c))
    };
    for (i, _) in text.match_indices('[') {
        let tail = &text[i + 1..];
        let Some(j) = tail.find([']', ')']) else {
            continue;
        };
        let parts: Vec<&str> = tail[..j].split(',').collect();
        if parts.len() == 2 && parts.iter().all(|p| number(p)) {
            found.push(format!("a range in square brackets: [{}", &tail[..=j]));
        }
    }
    found
}

#[test]
fn the_english_check_finds_terms_outside_brackets_and_bracketed_ranges() {
    let bad = english_in_german(&readable_text(
        "<p>26,6 % Precision, company_size = [59, 133]</p><code>--objective volume</code>",
    ));
    assert_eq!(bad.len(), 2, "{bad:?}");
    let fine = english_in_german(&readable_text(
        "<p>Abschlussquote (Precision) 0,613 [0,556; 0,671], Ziel „won“, 59–133</p>",
    ));
    assert!(fine.is_empty(), "{fine:?}");
}

/// Every file below `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut v = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            v.push(format!("{name}/"));
            v.extend(tree(&p).into_iter().map(|n| format!("{name}/{n}")));
        } else {
            v.push(name);
        }
    }
    v.sort();
    v
}

fn read_parquet(p: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(p).unwrap())
        .finish()
        .unwrap()
}

/// `leads` with one column per stage of `stages` (stage, column name): the first time each
/// lead reached it in `outcomes`, as HubSpot exports lifecycle stages.
fn with_stage_dates(leads: &DataFrame, outcomes: &DataFrame, stages: &[(&str, &str)]) -> LazyFrame {
    let mut contacts = leads.clone().lazy();
    for (stage, label) in stages {
        let first = outcomes
            .clone()
            .lazy()
            .filter(col("stage").eq(lit(*stage)))
            .group_by([col("lead_id")])
            .agg([col("reached_at").min().alias(*label)]);
        contacts = contacts.join(
            first,
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Left),
        );
    }
    contacts
}
