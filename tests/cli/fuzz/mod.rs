//! Fuzzing the two parsers of user files: the scoring-model TOML and the dataset loader.
//!
//! Each target starts from the seed corpus under `tests/cli/fuzz/corpus/` and applies random
//! mutations (bytes, tokens from a dictionary of troublesome values, whole lines), then runs
//! the parser and, when it accepts the input, the stages behind it. An input passes when the
//! code returns `Ok` or `Err`; a panic fails the test, and proptest shrinks it to a minimal
//! input.
//!
//! `cargo test` runs a short, seeded round of each. For a long run:
//!
//! ```text
//! LEADCAL_FUZZ_SECONDS=900 cargo test --release --test cli fuzz_ -- --nocapture
//! ```
//!
//! Every round has its own fixed seed, so a run is repeatable.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use leadcal::data::{self, LoadOptions};
use leadcal::scoring::config::ScoringModel;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cli/fuzz/corpus")
}

/// One change to a file's bytes. Positions are taken modulo the current length.
#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    /// Replace the `n`th field (split on `,`, `;`, `=` or a newline) with a token.
    Field(usize, Vec<u8>),
    DuplicateLine(usize),
    DeleteLine(usize),
    SwapLines(usize, usize),
    Truncate(usize),
}

/// Values that have broken parsers before: numbers at the edges, dates that do not exist,
/// quotes, delimiters, byte-order marks, bytes that are not UTF-8.
const TOKENS: &[&str] = &[
    "",
    " ",
    "=",
    "[",
    "]",
    "[[",
    "]]",
    "\"",
    "'",
    "\"\"",
    "{",
    "}",
    ",",
    ";",
    "\t",
    "\n",
    "\r\n",
    "#",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "+inf",
    "-1",
    "0",
    "-0",
    "1e308",
    "-1e308",
    "1e400",
    "1e-320",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "4294967296",
    "true",
    "false",
    "NA",
    "null",
    "won",
    "lost",
    "sql",
    "2023-13-45",
    "2023-02-29",
    "1969-12-31",
    "0000-01-01",
    "9999-12-31T23:59:59",
    "2024-03-01T24:00",
    "2024-03-01T09:15:00Z",
    "2024-03-01T09:15:00+25:00",
    "2024-03-01T09:15:00-0000",
    "2024-03-01 09:15:00.1234567890",
    "\u{feff}",
    "é",
    "\u{0}",
    "points",
    "progressive",
    "cap",
    "window_days",
    "half_life_days",
    "no_decay",
    "[[implicit]]",
    "[[explicit]]",
    "[[band]]",
    "[thresholds]",
    "[decay]",
    "[account]",
    "from",
    "mql",
    "sql",
    "min",
    "below",
    "equals",
    "in",
    "missing",
    "attribute",
    "event_type",
    "values",
    "ranges",
    "[]",
    "[1, 2, 3]",
    "top_n",
    "aggregate",
    "mean_top",
    "file",
    "delimiter",
    "columns",
    "null_values",
    "[leads]",
    "[events]",
    "[outcomes]",
    "lead_id",
    "created_at",
    "occurred_at",
    "reached_at",
    "stage",
];

fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => proptest::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 1..8),
        1 => (1usize..6000).prop_map(|n| vec![b'x'; n]),
        1 => Just(vec![0xff, 0xfe]),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), token()).prop_map(|(p, t)| Mutation::Insert(p, t)),
        2 => (any::<usize>(), 1usize..40).prop_map(|(p, n)| Mutation::Delete(p, n)),
        5 => (any::<usize>(), token()).prop_map(|(p, t)| Mutation::Field(p, t)),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 0..6)
}

fn lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split_inclusive(|&c| c == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn apply(bytes: &[u8], ms: &[Mutation]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for m in ms {
        let len = b.len().max(1);
        match m {
            Mutation::Insert(p, t) => {
                let p = p % (b.len() + 1);
                b.splice(p..p, t.iter().copied());
            }
            Mutation::Delete(p, n) => {
                let p = p % len;
                let end = (p + n).min(b.len());
                if p < end {
                    b.drain(p..end);
                }
            }
            Mutation::Field(n, t) => {
                let seps: Vec<usize> = std::iter::once(0)
                    .chain(
                        b.iter()
                            .enumerate()
                            .filter(|(_, c)| b",;=\n".contains(c))
                            .map(|(i, _)| i + 1),
                    )
                    .collect();
                let start = seps[n % seps.len()];
                let end = b[start..]
                    .iter()
                    .position(|c| b",;=\n".contains(c))
                    .map_or(b.len(), |e| start + e);
                b.splice(start..end, t.iter().copied());
            }
            Mutation::DuplicateLine(i) => {
                let mut ls = lines(&b);
                if !ls.is_empty() {
                    let l = ls[i % ls.len()].clone();
                    ls.insert(i % ls.len(), l);
                }
                b = ls.concat();
            }
            Mutation::DeleteLine(i) => {
                let mut ls = lines(&b);
                if !ls.is_empty() {
                    ls.remove(i % ls.len());
                }
                b = ls.concat();
            }
            Mutation::SwapLines(i, j) => {
                let mut ls = lines(&b);
                if !ls.is_empty() {
                    let n = ls.len();
                    ls.swap(i % n, j % n);
                }
                b = ls.concat();
            }
            Mutation::Truncate(p) => b.truncate(p % len),
        }
    }
    b
}

fn seeds(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// Run `test` on inputs from `strategy`: one seeded round of `cases` inputs, or rounds until
/// `LEADCAL_FUZZ_SECONDS` have passed. Panics with proptest's minimal failing input.
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    accepted: &AtomicU64,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let seconds: u64 = std::env::var("LEADCAL_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let start = Instant::now();
    let (mut round, mut total) = (0u64, 0u64);
    loop {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&round.to_le_bytes());
        seed[8..8 + name.len().min(24)].copy_from_slice(&name.as_bytes()[..name.len().min(24)]);
        let config = Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("fuzz {name}, round {round}: {e}");
        }
        total += cases as u64;
        round += 1;
        if start.elapsed().as_secs() >= seconds {
            break;
        }
    }
    eprintln!(
        "fuzz {name}: {total} inputs in {round} rounds, {:.1} s, no panic; {} accepted by the parser",
        start.elapsed().as_secs_f64(),
        accepted.load(Ordering::Relaxed)
    );
}

/// The good fixture, loaded once, to score accepted models against.
fn fixture() -> &'static data::Dataset {
    static DS: OnceLock<data::Dataset> = OnceLock::new();
    DS.get_or_init(|| {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/good");
        data::load(&p, &LoadOptions::default(), None).unwrap()
    })
}

#[test]
fn fuzz_scoring_config() {
    let seeds: Vec<Vec<u8>> = seeds("scoring")
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let n = seeds.len();
    let as_of = leadcal::timeparse::parse_bound("2023-06-01").unwrap();
    let accepted = AtomicU64::new(0);
    fuzz(
        "scoring_config",
        256,
        &accepted,
        (0..n, mutations()),
        |(seed, ms)| {
            let bytes = apply(&seeds[seed], &ms);
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(model) = ScoringModel::parse(&text, Path::new("fuzz.toml"))
                && model.check_columns(&fixture().attributes).is_ok()
            {
                accepted.fetch_add(1, Ordering::Relaxed);
                // An accepted model must also score and replay without a panic.
                let _ = leadcal::scoring::score::score_as_of(fixture(), &model, as_of);
                let _ = leadcal::scoring::implicit::check_replayable(&model);
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_dataset_loader() {
    let sets = seeds("dataset");
    let n = sets.len();
    let accepted = AtomicU64::new(0);
    fuzz(
        "dataset_loader",
        48,
        &accepted,
        (0..n, 0usize..3, mutations(), mutations()),
        |(set, which, a, b)| {
            let tmp = tempfile::tempdir().unwrap();
            let files: Vec<PathBuf> = {
                let mut f: Vec<PathBuf> = std::fs::read_dir(&sets[set])
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                f.sort();
                f
            };
            for (k, f) in files.iter().enumerate() {
                let bytes = std::fs::read(f).unwrap();
                // Two files get mutations: `which` and the dataset.toml or leads file.
                let bytes = if k == which % files.len() {
                    apply(&bytes, &a)
                } else if k == (which + 1) % files.len() {
                    apply(&bytes, &b)
                } else {
                    bytes
                };
                std::fs::write(tmp.path().join(f.file_name().unwrap()), bytes).unwrap();
            }
            let target = if tmp.path().join("dataset.toml").exists() {
                tmp.path().join("dataset.toml")
            } else {
                tmp.path().to_path_buf()
            };
            // Placed under the demo model's rules, so the placement is fuzzed with the checks.
            let model = leadcal::scoring::config::ScoringModel::parse(
                leadcal::demo::LIVE_MODEL,
                std::path::Path::new("live-model.toml"),
            )
            .expect("the demo model parses");
            let tags = leadcal::scoring::implicit::MatchedEvents::tags(&model);
            if let Ok(ds) = data::load(&target, &LoadOptions::default(), Some(&tags))
                && let Ok(ds) = ds.require_valid()
                && let Some(end) = ds.data_end
            {
                accepted.fetch_add(1, Ordering::Relaxed);
                let spec = leadcal::label::LabelSpec::default();
                if let Ok(l) = leadcal::label::label(&ds.leads, ds.outcomes.as_ref(), &spec, end) {
                    let _ = leadcal::label::summarize(&l);
                }
                if let Some(ev) = ds.events() {
                    let _ = ev.collect();
                }
            }
            Ok(())
        },
    );
}

/// A change to one node of a JSON document: the `n`th node (depth first) gets value `kind`
/// of [`json_replacement`], or is removed from its object or array (`kind` past the end).
fn json_mutations() -> impl Strategy<Value = Vec<(usize, usize)>> {
    proptest::collection::vec((any::<usize>(), 0usize..16), 1..4)
}

fn json_replacement(kind: usize) -> Option<serde_json::Value> {
    use serde_json::json;
    Some(match kind {
        0 => json!([]),
        1 => json!({}),
        2 => json!(null),
        3 => json!("x"),
        4 => json!(0),
        5 => json!(-1),
        6 => json!(1e308),
        7 => json!(-1e308),
        8 => json!(2.0),
        9 => json!(0.5),
        10 => json!(1e12),
        11 => json!(vec![0; 500]),
        12 => json!("<script>alert(1)</script>"),
        13 => json!(u64::MAX),
        _ => return None,
    })
}

/// Pointers (RFC 6901) of every node of `v` but the root, depth first.
fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    let children: Vec<(String, &serde_json::Value)> = match v {
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, x)| {
                (
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    x,
                )
            })
            .collect(),
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("{at}/{i}"), x))
            .collect(),
        _ => vec![],
    };
    for (p, x) in children {
        out.push(p.clone());
        pointers(x, p, out);
    }
}

fn mutate_json(v: &mut serde_json::Value, (n, kind): (usize, usize)) {
    let mut ps = Vec::new();
    pointers(v, String::new(), &mut ps);
    if ps.is_empty() {
        return;
    }
    let p = &ps[n % ps.len()];
    match json_replacement(kind) {
        Some(r) => {
            if let Some(x) = v.pointer_mut(p) {
                *x = r;
            }
        }
        None => {
            let (parent, last) = p.rsplit_once('/').unwrap();
            match v.pointer_mut(parent) {
                Some(serde_json::Value::Object(o)) => {
                    o.remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Some(serde_json::Value::Array(a)) => {
                    if let Ok(i) = last.parse::<usize>()
                        && i < a.len()
                    {
                        a.remove(i);
                    }
                }
                _ => {}
            }
        }
    }
}

/// `leadcal report` and `leadcal compare` on an edited or damaged `report-data.json`: every
/// input gives a rendered report or an error, never a panic or a hang (the golden run's file,
/// mutated node by node: empty arrays, 1e308, wrong types, removed keys).
#[test]
fn fuzz_report_data() {
    let golden_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/report-data.json");
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&golden_path).unwrap()).unwrap();
    let good = tempfile::tempdir().unwrap();
    std::fs::copy(&golden_path, good.path().join("report-data.json")).unwrap();
    let accepted = AtomicU64::new(0);
    fuzz("report_data", 24, &accepted, json_mutations(), |ms| {
        let mut v = golden.clone();
        for m in ms {
            mutate_json(&mut v, m);
        }
        let run = tempfile::tempdir().unwrap();
        std::fs::write(
            run.path().join("report-data.json"),
            serde_json::to_string_pretty(&v).unwrap(),
        )
        .unwrap();
        if let Ok(c) = leadcal::compare::compare(good.path(), run.path()) {
            let _ = leadcal::compare::html::page(&c, leadcal::report::Lang::De);
        }
        if let Ok(data) = leadcal::report::Data::load(run.path()) {
            accepted.fetch_add(1, Ordering::Relaxed);
            let out = tempfile::tempdir().unwrap();
            let _ = leadcal::report::render(&data, leadcal::report::Lang::En, out.path());
        }
        Ok(())
    });
}
