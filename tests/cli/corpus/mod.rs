//! The bad-input corpus: every folder under `tests/bad-inputs/` is one case.
//!
//! A case is a `case.toml` plus the files it lays over a base dataset:
//!
//! ```toml
//! about = "what is wrong with the input"
//! base = "good"            # tests/fixtures/good (default), "demo" (3,000 generated leads) or "none"
//! remove = ["events.csv"]  # base files to delete first
//! args = ["validate", "{data}"]   # the default; {data} is the case's temporary folder
//! exit = 2                 # expected exit code
//! expect = ["leads.csv", "line 4", "column `created_at`"]   # must all appear in stdout or stderr
//! absent = ["is empty in every row"]   # must appear in neither
//! parquet = ["leads.csv"]  # convert these overlay CSVs to Parquet before the run
//! fill = { file = "leads.csv", marker = "@@1MB@@", bytes = 1048576 }   # generated content
//! ```
//!
//! An overlay file replaces the base file of the same table (`leads.csv` replaces
//! `leads.parquet` too). Every case must exit with its code and print every expected text, no
//! case may panic, and no input file may change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use polars::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    about: String,
    #[serde(default = "good")]
    base: String,
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    args: Option<Vec<String>>,
    exit: i32,
    expect: Vec<String>,
    /// Texts that must appear in neither stdout nor stderr.
    #[serde(default)]
    absent: Vec<String>,
    #[serde(default)]
    parquet: Vec<String>,
    #[serde(default)]
    fill: Option<Fill>,
    /// Keep a base file whose table the overlay also provides (to test the ambiguity).
    #[serde(default)]
    keep_base: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fill {
    file: String,
    marker: String,
    bytes: usize,
}

fn good() -> String {
    "good".into()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_leadcal")
}

/// A 3,000-lead demo world, generated once per test run.
fn demo_world() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let d = tempfile::tempdir().expect("a temporary folder");
        let out = d.path().join("world");
        let status = Command::new(bin())
            .args(["demo", "--out", out.to_str().unwrap(), "--leads", "3000"])
            .output()
            .expect("leadcal demo runs");
        assert!(status.status.success(), "{status:?}");
        (d, out)
    })
    .1
}

fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

/// A CSV as a Parquet file: columns typed by inference, text timestamps parsed, as an export
/// from a warehouse would hold them.
fn csv_to_parquet(csv: &Path) {
    let mut df = CsvReadOptions::default()
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap();
    for c in ["created_at", "occurred_at", "reached_at"] {
        if df.column(c).is_ok_and(|s| s.dtype() == &DataType::String) {
            df = df
                .lazy()
                .with_column(leadcal::timeparse::parse_expr(c).alias(c))
                .collect()
                .unwrap();
        }
    }
    let out = csv.with_extension("parquet");
    ParquetWriter::new(std::fs::File::create(out).unwrap())
        .finish(&mut df)
        .unwrap();
    std::fs::remove_file(csv).unwrap();
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            p.is_file().then(|| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
        })
        .collect()
}

/// Run one case; `Err` describes what went wrong, with the whole output.
fn run_case(dir: &Path) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(dir.join("case.toml")).map_err(|e| format!("{e}"))?;
    let case: Case = toml::from_str(&text).map_err(|e| format!("case.toml: {e}"))?;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    match case.base.as_str() {
        "good" => copy_dir(&root().join("tests/fixtures/good"), data),
        "demo" => copy_dir(demo_world(), data),
        "none" => {}
        other => return Err(format!("unknown base {other:?}")),
    }
    for r in &case.remove {
        std::fs::remove_file(data.join(r)).map_err(|e| format!("remove {r}: {e}"))?;
    }
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let f = p.file_name().unwrap().to_string_lossy().into_owned();
        if f == "case.toml" {
            continue;
        }
        if !case.keep_base {
            for t in ["csv", "parquet"] {
                let _ = std::fs::remove_file(data.join(format!("{}.{t}", stem(&f))));
            }
        }
        std::fs::copy(&p, data.join(&f)).unwrap();
    }
    if let Some(fill) = &case.fill {
        let p = data.join(&fill.file);
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, t.replace(&fill.marker, &"x".repeat(fill.bytes))).unwrap();
    }
    for p in &case.parquet {
        csv_to_parquet(&data.join(p));
    }
    let before = snapshot(data);
    let ds = data.to_str().unwrap();
    let args: Vec<String> = case
        .args
        .clone()
        .unwrap_or_else(|| vec!["validate".into(), "{data}".into()])
        .iter()
        .map(|a| a.replace("{data}", ds))
        .collect();
    let out = Command::new(bin())
        .args(&args)
        .current_dir(data)
        .output()
        .expect("the binary runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).replace(ds, "{data}"),
        String::from_utf8_lossy(&out.stderr).replace(ds, "{data}"),
    );
    let mut wrong = vec![];
    if out.status.code() != Some(case.exit) {
        wrong.push(format!(
            "exit {:?}, expected {}",
            out.status.code(),
            case.exit
        ));
    }
    if stderr.contains("panicked") || out.status.code() == Some(101) {
        wrong.push("panicked".into());
    }
    for e in &case.expect {
        if !stdout.contains(e.as_str()) && !stderr.contains(e.as_str()) {
            wrong.push(format!("output lacks {e:?}"));
        }
    }
    for a in &case.absent {
        if stdout.contains(a.as_str()) || stderr.contains(a.as_str()) {
            wrong.push(format!("output holds {a:?}"));
        }
    }
    let after = snapshot(data);
    for (f, bytes) in &before {
        if after.get(f) != Some(bytes) {
            wrong.push(format!("input {f} was changed or removed"));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "case {name} ({}): {}\nargs: {args:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            case.about,
            wrong.join("; ")
        ))
    }
}

#[test]
fn every_bad_input_gets_its_message_and_none_panics() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("tests/bad-inputs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.toml").is_file())
        .collect();
    cases.sort();
    let controls = cases
        .iter()
        .filter(|p| p.to_string_lossy().ends_with("-good"))
        .count();
    assert!(
        cases.len() - controls >= 40,
        "the corpus has {} bad inputs; the hardening issue asks for at least 40",
        cases.len() - controls
    );
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<_> = cases
            .chunks(cases.len().div_ceil(4))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|c| run_case(c).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        chunks.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
