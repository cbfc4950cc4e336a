//! Integration tests: the `leadcal` binary and the library's public stages, on committed
//! fixtures under `tests/fixtures/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use leadcal::data::{self, LoadOptions};
use polars::prelude::*;

mod corpus;
mod fuzz;

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

fn leadcal_in(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_leadcal"))
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

// ---- CLI skeleton ----------------------------------------------------------------------

#[test]
fn every_command_has_help_with_an_example() {
    for c in [
        "demo",
        "validate",
        "score",
        "evaluate",
        "segments",
        "calibrate",
        "report",
    ] {
        leadcal(&[c, "--help"]).code(0).stdout_has("Example");
    }
}

#[test]
fn report_explains_a_folder_that_is_not_a_run() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().to_str().unwrap();
    leadcal(&["report", p])
        .code(2)
        .stderr_has("report-data.json")
        .stderr_has("expected a run folder written by `leadcal calibrate`");
    std::fs::write(d.path().join("report-data.json"), "{\n  \"schema\": 3\n}\n").unwrap();
    leadcal(&["report", p])
        .code(2)
        .stderr_has("report-data.json: line 2, column")
        .stderr_has("not a leadcal report data file");
    leadcal(&["report", p, "--lang", "fr"])
        .code(2)
        .stderr_has("possible values: en, de");
}

#[test]
fn unknown_flag_is_a_usage_error() {
    leadcal(&["validate", "--no-such-flag"]).code(2);
}

#[test]
fn validate_defaults_to_the_committed_demo() {
    leadcal(&["validate"])
        .code(0)
        .stdout_has("notebooks-data/demo")
        .stdout_has("Event types")
        .stdout_has("Problems: 0 error(s)");
}

// ---- the profile -----------------------------------------------------------------------

#[test]
fn validate_prints_the_profile() {
    validate("good")
        .code(0)
        .stdout_has("leads")
        .stdout_has("2023-01-05 .. 2023-06-30")
        .stdout_has("email_open")
        .stdout_has("won")
        .stdout_has("immature")
        .stdout_has("converted within horizon")
        .stdout_has("Problems: 0 error(s), 0 warning(s)");
}

/// `validate --json --until UNTIL` on the good fixture, parsed.
fn good_profile_until(until: &str) -> serde_json::Value {
    let good = fixture("good");
    let r = leadcal(&[
        "validate",
        good.to_str().unwrap(),
        "--json",
        "--until",
        until,
    ]);
    r.code(0);
    serde_json::from_str(&r.stdout()).unwrap_or_else(|e| panic!("{e}\n{}", r.describe()))
}

#[test]
fn validate_json_is_machine_readable() {
    let v = good_profile_until("2024-12-31");
    assert_eq!(v["tables"][0]["rows"], 6);
    assert_eq!(v["tables"][1]["rows"], 8);
    assert_eq!(v["event_types"][0]["value"], "email_open");
    assert_eq!(v["event_types"][0]["count"], 3);
    // Snapshot +30d, horizon 180d, data end 2024-12-31: every lead is mature.
    // 101 won 2023-04-01 (snapshot 02-04): converted. 105 won 06-10, snapshot 06-19: came in hot.
    assert_eq!(v["labels"]["immature"], 0);
    assert_eq!(v["labels"]["came_in_hot"], 1);
    assert_eq!(v["labels"]["converted"], 1);
    assert_eq!(v["labels"]["evaluable"], 5);
    assert_eq!(v["errors"], 0);
}

#[test]
fn immature_leads_are_counted_against_the_data_end() {
    let v = good_profile_until("2023-09-01");
    // created + 30 + 180 <= 2023-09-01 only for 101 and 102; 105 came in hot, which is
    // known whatever the data end; 103, 104 and 106 are immature.
    assert_eq!(v["labels"]["immature"], 3);
    assert_eq!(v["labels"]["came_in_hot"], 1);
}

#[test]
fn na_region_stays_a_string() {
    let ds = data::load(&fixture("good"), &LoadOptions::default()).unwrap();
    let region = ds.leads.column("region").unwrap();
    assert_eq!(region.dtype(), &DataType::String);
    assert_eq!(region.null_count(), 0);
    assert_eq!(region.str().unwrap().get(0), Some("NA"));
    let size = ds.leads.column("company_size").unwrap();
    assert_eq!(size.dtype(), &DataType::Int64);
    assert_eq!(
        ds.leads.column("budget_confirmed").unwrap().dtype(),
        &DataType::Boolean
    );
}

// ---- each validation problem -----------------------------------------------------------

#[test]
fn missing_required_column_is_named() {
    validate("broken/missing-column")
        .code(2)
        .stderr_has("missing-column/leads.csv: missing required column(s) `created_at`")
        .stderr_has("the file has: `lead_id`, `region`");
}

#[test]
fn duplicate_lead_ids_name_ids_and_rows() {
    validate("broken/duplicate-ids")
        .code(2)
        .stdout_has("duplicate-ids/leads.csv: column `lead_id`: 2 lead id(s) occur more than once: `1` (line 2, line 4), `2` (line 3, line 6)");
}

#[test]
fn null_and_unparseable_timestamps_name_rows() {
    validate("broken/bad-timestamps")
        .code(2)
        .stdout_has("column `created_at`: empty timestamp in 1 row(s): line 4")
        .stdout_has("not a date or date-time (expected ISO 8601 such as 2024-03-01 or 2024-03-01T09:15:00) in 2 row(s): line 3 (`01/02/2023`), line 5 (`2023-02-30`)")
        .stderr_has("the dataset has 2 error(s)");
    validate("broken/bad-event-timestamps")
        .code(2)
        .stdout_has("events.csv: column `occurred_at`: empty timestamp in 1 row(s): line 4")
        .stdout_has("in 1 row(s): line 3 (`yesterday`)");
}

#[test]
fn events_and_outcomes_of_unknown_leads_are_counted() {
    validate("broken/unknown-leads")
        .code(0)
        .stdout_has("events.csv: column `lead_id`: 3 event(s) of 2 lead id(s) not in the leads table")
        .stdout_has("outcomes.csv: column `lead_id`: lead id not in the leads table (counted and left out) in 1 row(s): line 8 (`777`)")
        .stdout_has("0 error(s), 2 warning(s)");
}

#[test]
fn timestamps_before_1990_or_in_the_future_are_errors() {
    validate("broken/out-of-range")
        .code(2)
        .stdout_has("column `created_at`: timestamp outside 1990-01-01 to ")
        .stdout_has("in 2 row(s): line 2 (`1985-06-01`), line 4 (`2099-01-01`)");
}

#[test]
fn empty_tables_are_errors() {
    validate("broken/empty-file")
        .code(2)
        .stderr_has("the leads table is empty: no header and no rows");
    validate("broken/empty-leads")
        .code(2)
        .stderr_has("the leads table has a header but no rows");
    validate("broken/empty-events")
        .code(2)
        .stdout_has("events.csv: the events table has a header but no rows");
}

#[test]
fn wrong_delimiter_is_explained() {
    validate("broken/wrong-delimiter")
        .code(2)
        .stderr_has("wrong delimiter: dataset.toml says `;`, but the header line has none; it is separated by `,`");
    validate("broken/mixed-delimiter")
        .code(2)
        .stderr_has("line 2 has 1 field(s) when split on `,`, but the header has 3");
}

#[test]
fn a_missing_dataset_is_a_user_error() {
    leadcal(&["validate", "no/such/folder"])
        .code(2)
        .stderr_has("no/such/folder: no such file or folder");
}

// ---- dataset.toml ----------------------------------------------------------------------

#[test]
fn dataset_toml_maps_a_differently_named_export() {
    let ds = data::load(&fixture("crm-export"), &LoadOptions::default()).unwrap();
    let names: Vec<&str> = ds
        .leads
        .get_column_names()
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(
        names,
        ["lead_id", "created_at", "account_id", "Region", "Employees"]
    );
    // `n/a` is a declared null marker; Email is ignored; ids are text.
    assert_eq!(
        ds.leads.column("Employees").unwrap().dtype(),
        &DataType::Int64
    );
    assert_eq!(ds.leads.column("Employees").unwrap().null_count(), 1);
    assert_eq!(
        ds.leads.column("lead_id").unwrap().dtype(),
        &DataType::String
    );
    let outcomes = ds.outcomes.as_ref().unwrap();
    assert_eq!(outcomes.height(), 2, "two leads say Yes");
    let events = ds.events().unwrap().collect().unwrap();
    assert_eq!(events.height(), 3);
    assert_eq!(ds.report.problems.len(), 1, "{:?}", ds.report.problems);
    assert_eq!(ds.report.problems[0].code, "unknown-lead");
    validate("crm-export").code(0).stdout_has("Demo Request");
}

#[test]
fn dataset_toml_unknown_key_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("good/leads.csv"), dir.path().join("leads.csv")).unwrap();
    std::fs::write(
        dir.path().join("dataset.toml"),
        "[leads]\nfile = \"leads.csv\"\nnull_value = [\"-\"]\n",
    )
    .unwrap();
    leadcal(&["validate", dir.path().to_str().unwrap()])
        .code(2)
        .stderr_has("dataset.toml: TOML parse error at line 3")
        .stderr_has("null_value");
}

// ---- CSV and Parquet give the same frames ----------------------------------------------

fn to_parquet(csv: &Path, out: &Path) {
    let mut df = CsvReadOptions::default()
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap();
    // Timestamps as real datetimes, as a Parquet export would hold them.
    for c in ["created_at", "occurred_at", "reached_at"] {
        if df.column(c).is_ok() {
            df = df
                .lazy()
                .with_column(leadcal::timeparse::parse_expr(c).alias(c))
                .collect()
                .unwrap();
        }
    }
    ParquetWriter::new(std::fs::File::create(out).unwrap())
        .finish(&mut df)
        .unwrap();
}

#[test]
fn csv_and_parquet_load_to_equal_frames() {
    let dir = tempfile::tempdir().unwrap();
    for t in ["leads", "events", "outcomes"] {
        to_parquet(
            &fixture(&format!("good/{t}.csv")),
            &dir.path().join(format!("{t}.parquet")),
        );
    }
    let a = data::load(&fixture("good"), &LoadOptions::default()).unwrap();
    let b = data::load(dir.path(), &LoadOptions::default()).unwrap();
    assert!(a.leads.equals_missing(&b.leads), "{}\n{}", a.leads, b.leads);
    let (oa, ob) = (a.outcomes.clone().unwrap(), b.outcomes.clone().unwrap());
    assert!(oa.equals_missing(&ob), "{oa}\n{ob}");
    let ea = a.events().unwrap().collect().unwrap();
    let eb = b.events().unwrap().collect().unwrap();
    assert!(ea.equals_missing(&eb), "{ea}\n{eb}");
    assert_eq!(a.report.event_types, b.report.event_types);
}

// ---- the demo generator ----------------------------------------------------------------

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn demo_is_identical_for_the_same_seed() {
    let d = tempfile::tempdir().unwrap();
    for (name, seed, format) in [
        ("a", "7", "parquet"),
        ("b", "7", "parquet"),
        ("c", "8", "parquet"),
        ("d", "7", "csv"),
        ("e", "7", "csv"),
    ] {
        let out = d.path().join(name);
        leadcal(&[
            "demo",
            "--out",
            out.to_str().unwrap(),
            "--leads",
            "25000",
            "--seed",
            seed,
            "--format",
            format,
        ])
        .code(0);
    }
    assert_eq!(files_of(&d.path().join("a")), files_of(&d.path().join("b")));
    assert_eq!(files_of(&d.path().join("d")), files_of(&d.path().join("e")));
    assert_ne!(files_of(&d.path().join("a")), files_of(&d.path().join("c")));
    // The CSV and Parquet worlds of one seed hold the same data.
    let p = data::load(&d.path().join("a"), &LoadOptions::default()).unwrap();
    let c = data::load(&d.path().join("d"), &LoadOptions::default()).unwrap();
    assert!(p.leads.equals_missing(&c.leads));
    assert_eq!(p.report.event_types, c.report.event_types);
    assert!(!p.report.has_errors(), "{:?}", p.report.problems);
}

#[test]
fn demo_never_overwrites() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("w");
    leadcal(&["demo", "--out", out.to_str().unwrap(), "--leads", "100"]).code(0);
    let before = files_of(&out);
    leadcal(&[
        "demo",
        "--out",
        out.to_str().unwrap(),
        "--leads",
        "200",
        "--seed",
        "1",
    ])
    .code(2)
    .stderr_has("already exists; leadcal never overwrites");
    assert_eq!(before, files_of(&out));
}

#[test]
fn demo_world_has_its_documented_shape() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("w");
    leadcal(&["demo", "--out", out.to_str().unwrap(), "--leads", "20000"]).code(0);
    let ds = data::load(&out, &LoadOptions::default()).unwrap();
    assert!(!ds.report.has_errors());
    let events = ds.report.tables[1].rows as f64 / 20000.0;
    assert!((40.0..60.0).contains(&events), "{events} events per lead");
    let stages: Vec<&str> = ds.report.stages.iter().map(|c| c.value.as_str()).collect();
    for s in ["sql", "won", "lost"] {
        assert!(stages.contains(&s), "{stages:?}");
    }
    // The trap segment engages more but converts less than everybody else.
    let labelled = leadcal::label::label(
        &ds.leads,
        ds.outcomes.as_ref(),
        &Default::default(),
        ds.data_end.unwrap(),
    )
    .unwrap();
    let per_lead = ds
        .events()
        .unwrap()
        .group_by([col("lead_id")])
        .agg([len().alias("n")]);
    let t = ds
        .leads
        .clone()
        .lazy()
        .join(
            labelled.lazy(),
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .join(
            per_lead,
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Left),
        )
        .filter(
            col("status")
                .eq(lit("converted"))
                .or(col("status").eq(lit("not_converted"))),
        )
        .with_column(
            col("region")
                .eq(lit("APAC"))
                .and(col("source").eq(lit("Content Syndication")))
                .alias("trap"),
        )
        .group_by([col("trap")])
        .agg([
            col("n")
                .fill_null(0)
                .cast(DataType::Float64)
                .mean()
                .alias("events"),
            col("status")
                .eq(lit("converted"))
                .cast(DataType::Float64)
                .mean()
                .alias("rate"),
        ])
        .sort(["trap"], Default::default())
        .collect()
        .unwrap();
    let ev = t.column("events").unwrap().f64().unwrap();
    let rate = t.column("rate").unwrap().f64().unwrap();
    assert!(ev.get(1).unwrap() > 2.0 * ev.get(0).unwrap(), "{t}");
    assert!(rate.get(1).unwrap() < 0.5 * rate.get(0).unwrap(), "{t}");
}

// ---- the scoring-model format ----------------------------------------------------------

#[test]
fn the_demo_model_is_checked_against_the_demo_data() {
    leadcal(&["validate", "notebooks-data/demo", "--model", "notebooks-data/demo/scoring.toml"])
        .code(0)
        .stdout_has("Scoring model notebooks-data/demo/scoring.toml: 12 explicit and 10 implicit rules, MQL 40 / SQL 80");
}

#[test]
fn the_committed_demo_model_is_the_generator_s() {
    let committed =
        std::fs::read_to_string(root().join("notebooks-data/demo/scoring.toml")).unwrap();
    assert_eq!(committed, leadcal::demo::LIVE_MODEL);
}

/// `validate` on the demo data with a model written from `text`.
fn validate_demo_with_model(text: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("scoring.toml");
    std::fs::write(&model, text).unwrap();
    leadcal(&[
        "validate",
        "notebooks-data/demo",
        "--model",
        model.to_str().unwrap(),
    ])
}

#[test]
fn a_model_rule_on_a_missing_column_names_file_line_and_key() {
    validate_demo_with_model(
        "[thresholds]\nmql = 40\nsql = 80\n\n[[explicit]]\nattribute = \"seniority\"\nmissing = 3\n",
    )
    .code(2)
    .stderr_has("scoring.toml: line 6: `attribute`: the dataset has no attribute `seniority`");
}

#[test]
fn a_model_with_mql_above_sql_is_a_user_error() {
    validate_demo_with_model("[thresholds]\nmql = 90\nsql = 80\n")
        .code(2)
        .stderr_has(
            "scoring.toml: line 2: `mql`: the MQL threshold (90) must be below the SQL threshold (80)",
        );
}

// ---- scoring as of a date ----------------------------------------------------------------

const HAND_MODEL: &str = r#"
[thresholds]
mql = 40
sql = 80

[[explicit]]
attribute = "job_level"
group = "fit"
values = [{ equals = "VP", points = 15 }]

[[implicit]]
event_type = "download"
progressive = [10, 20]
cap = 40
group = "content"

[[implicit]]
event_type = "email_open"
progressive = [1, 2, 3]

[[implicit]]
event_type = "offer_ignored"
points = -10

[[implicit]]
event_type = "pricing_page_view"
points = 3
window_days = 365

[[implicit]]
event_type = "webinar_attended"
points = 8
half_life_days = 30
"#;

const HAND_EVENTS: [&str; 9] = [
    "1,2023-01-10,download",
    "1,2023-02-10,download",
    "1,2023-01-05,email_open",
    "1,2023-01-06,email_open",
    "1,2023-01-07,email_open",
    "1,2023-01-08,email_open",
    "1,2023-03-01,offer_ignored",
    "1,2023-01-02,pricing_page_view",
    "2,2023-05-01,webinar_attended",
];

fn hand_world(events: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("leads.csv"),
        "lead_id,created_at,account_id,job_level\n1,2023-01-01,A,VP\n2,2023-01-01,A,Manager\n3,2023-12-01,,VP\n",
    )
    .unwrap();
    let mut ev = String::from("lead_id,occurred_at,event_type\n");
    for e in events {
        ev.push_str(e);
        ev.push('\n');
    }
    std::fs::write(d.path().join("events.csv"), ev).unwrap();
    std::fs::write(d.path().join("scoring.toml"), HAND_MODEL).unwrap();
    d
}

fn scores_at(dir: &Path, as_of: &str) -> DataFrame {
    let ds = data::load(dir, &LoadOptions::default()).unwrap();
    let model =
        leadcal::scoring::config::ScoringModel::from_file(&dir.join("scoring.toml")).unwrap();
    let t = leadcal::timeparse::parse_bound(as_of).unwrap();
    leadcal::scoring::score::score_as_of(&ds, &model, t)
        .unwrap()
        .leads
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

#[test]
fn hand_worked_scores_follow_the_source_material() {
    let w = hand_world(&HAND_EVENTS);
    let s = scores_at(w.path(), "2023-06-01");
    assert_eq!(s.height(), 2, "lead 3 is created after the as-of date");
    // First download 10, related download 20; opens 1, 2, 3, 3; ignored offer -10; pricing 3.
    assert_eq!(f(&s, "pts:download", 0), 30.0);
    assert_eq!(f(&s, "fires:download", 0), 2.0);
    assert_eq!(f(&s, "pts:email_open", 0), 9.0);
    assert_eq!(f(&s, "pts:offer_ignored", 0), -10.0);
    assert_eq!(f(&s, "explicit_score", 0), 15.0);
    assert_eq!(f(&s, "implicit_score", 0), 32.0);
    assert_eq!(f(&s, "score", 0), 47.0);
    assert_eq!(f(&s, "group:fit", 0), 15.0);
    assert_eq!(f(&s, "group:content", 0), 30.0);
    assert_eq!(
        s.column("band").unwrap().str().unwrap().get(0),
        Some("warm")
    );
    assert_eq!(
        s.column("stage").unwrap().str().unwrap().get(0),
        Some("mql")
    );
    // Half-life 30 days: 8 points 31 days later (2023-05-01 -> 06-01) are 8 * 0.5^(31/30).
    let expected = 8.0 * 0.5f64.powf(31.0 / 30.0);
    assert!((f(&s, "pts:webinar_attended", 1) - expected).abs() < 1e-9);
}

#[test]
fn under_a_365_day_window_a_366_day_old_point_no_longer_counts() {
    let w = hand_world(&HAND_EVENTS);
    assert_eq!(
        f(
            &scores_at(w.path(), "2024-01-02"),
            "pts:pricing_page_view",
            0
        ),
        3.0
    );
    assert_eq!(
        f(
            &scores_at(w.path(), "2024-01-03"),
            "pts:pricing_page_view",
            0
        ),
        0.0
    );
}

#[test]
fn an_as_of_time_before_all_events_gives_the_explicit_score_alone() {
    let w = hand_world(&HAND_EVENTS);
    let s = scores_at(w.path(), "2023-01-01");
    assert_eq!(f(&s, "implicit_score", 0), 0.0);
    assert_eq!(f(&s, "score", 0), f(&s, "explicit_score", 0));
    assert_eq!(f(&s, "score", 0), 15.0);
}

#[test]
fn shuffling_input_rows_changes_nothing() {
    let a = hand_world(&HAND_EVENTS);
    let mut rev = HAND_EVENTS;
    rev.reverse();
    let b = hand_world(&rev);
    for t in ["2023-02-01", "2023-06-01", "2024-01-03"] {
        let (x, y) = (scores_at(a.path(), t), scores_at(b.path(), t));
        assert!(x.equals_missing(&y), "{x}\n{y}");
    }
}

#[test]
fn an_event_with_positive_points_never_lowers_a_later_score() {
    let base = hand_world(&HAND_EVENTS);
    let mut more = HAND_EVENTS.to_vec();
    more.push("1,2023-01-20,download");
    more.push("1,2023-01-03,email_open");
    let plus = hand_world(&more);
    for t in [
        "2023-01-20",
        "2023-02-01",
        "2023-03-01",
        "2023-06-01",
        "2024-06-01",
    ] {
        let (x, y) = (scores_at(base.path(), t), scores_at(plus.path(), t));
        assert!(f(&y, "score", 0) >= f(&x, "score", 0), "{t}: {x}\n{y}");
    }
}

#[test]
fn score_command_prints_a_summary_and_writes_tables() {
    leadcal(&["score", "--as-of", "2025-01-01"])
        .code(0)
        .stdout_has("Scores as of 2025-01-01")
        .stdout_has("Band")
        .stdout_has("SQL (80+)")
        .stdout_has("Score quantiles");
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("s.parquet");
    leadcal(&[
        "score",
        "--as-of",
        "2025-01-01",
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0)
    .stdout_has("account scores")
    .stdout_has("WITH LEAD IDS");
    // The file that holds lead ids says so in its Parquet metadata (the footer's key-value
    // pairs are stored as plain strings).
    let raw = std::fs::read(&out).unwrap();
    assert!(raw.windows(16).any(|w| w == b"leadcal.contains"));
    let leads = ParquetReader::new(std::fs::File::open(&out).unwrap())
        .finish()
        .unwrap();
    let accounts =
        ParquetReader::new(std::fs::File::open(d.path().join("s-accounts.parquet")).unwrap())
            .finish()
            .unwrap();
    assert!(leads.column("pts:pricing_page_view").is_ok());
    assert!(leads.column("fires:pricing_page_view").is_ok());
    // Account score = the highest lead score of the account (aggregate = "max").
    let max = leads
        .clone()
        .lazy()
        .group_by([col("account_id")])
        .agg([col("score").max()])
        .collect()
        .unwrap();
    assert_eq!(max.height(), accounts.height());
    leadcal(&[
        "score",
        "--as-of",
        "2025-01-01",
        "--out",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("already exists");
}

// ---- hand-over replay --------------------------------------------------------------------

fn micros_col(df: &DataFrame, column: &str) -> Vec<Option<i64>> {
    df.column(column)
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect()
}

#[test]
fn hand_over_replay_finds_the_first_crossing() {
    let w = hand_world(&HAND_EVENTS);
    let s = scores_at(w.path(), "2023-06-01");
    // 15 (VP) +3 +1 +2 +3 +3 +10 = 37 until the second download on 2023-02-10 makes it 57.
    let feb10 =
        leadcal::timeparse::to_micros(leadcal::timeparse::parse_bound("2023-02-10").unwrap());
    assert_eq!(micros_col(&s, "mql_at")[0], Some(feb10));
    assert_eq!(micros_col(&s, "sql_at")[0], None);
}

#[test]
fn replayed_hand_over_times_agree_with_score_just_before_and_after() {
    let dir = root().join("notebooks-data/demo");
    let ds = data::load(&dir, &LoadOptions::default()).unwrap();
    let model =
        leadcal::scoring::config::ScoringModel::from_file(&dir.join("scoring.toml")).unwrap();
    let at = |us: i64| leadcal::timeparse::from_micros(us).unwrap();
    let end = leadcal::timeparse::parse_bound("2025-01-01").unwrap();
    let s = leadcal::scoring::score::score_as_of(&ds, &model, end)
        .unwrap()
        .leads;
    let ids: Vec<Option<i64>> = micros_col(&s, "lead_id");
    for (column, threshold) in [("sql_at", model.sql), ("mql_at", model.mql)] {
        let times = micros_col(&s, column);
        // A spread of crossing times, including ones caused by window expiry if any.
        let mut distinct: Vec<i64> = times.iter().flatten().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(
            distinct.len() > 100,
            "{column}: {} crossings",
            distinct.len()
        );
        for k in [
            0,
            distinct.len() / 3,
            distinct.len() / 2,
            distinct.len() - 1,
        ] {
            let t = distinct[k];
            let after = leadcal::scoring::score::score_as_of(&ds, &model, at(t))
                .unwrap()
                .leads;
            let before = leadcal::scoring::score::score_as_of(&ds, &model, at(t - 1))
                .unwrap()
                .leads;
            for (i, ti) in times.iter().enumerate() {
                if *ti != Some(t) {
                    continue;
                }
                let id = ids[i];
                let score_of = |df: &DataFrame| {
                    let pos = micros_col(df, "lead_id").iter().position(|x| *x == id);
                    pos.map(|p| f(df, "score", p))
                };
                assert!(
                    score_of(&after).unwrap() >= threshold,
                    "{column} lead {id:?} at {t}"
                );
                if let Some(b) = score_of(&before) {
                    assert!(b < threshold, "{column} lead {id:?} just before {t}: {b}");
                }
            }
        }
    }
}

#[test]
fn a_rule_filter_on_a_missing_event_column_names_the_model_line() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("scoring.toml");
    std::fs::write(&model, "[thresholds]\nmql = 40\nsql = 80\n[[implicit]]\nevent_type = \"Email Open\"\ntopic = \"x\"\npoints = 1\n").unwrap();
    let data = fixture("crm-export");
    leadcal(&["score", "--as-of", "2023-06", "--data", data.to_str().unwrap(), "--model", model.to_str().unwrap()])
        .code(2)
        .stderr_has("scoring.toml: line 4: `topic`: rule `Email Open [topic=x]` filters on `topic`, but the events table has no topic column");
}

#[test]
fn a_header_naming_a_column_twice_is_an_error() {
    validate("broken/duplicate-column")
        .code(2)
        .stderr_has("duplicate-column/leads.csv: the header names column `region` twice (columns 3 and 4); rename one");
}

// ---- metrics and model against scikit-learn / scipy ------------------------------------------

/// Columns of a numeric CSV fixture (header, then rows of numbers).
fn numeric_csv(rel: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(fixture(rel)).unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut cols = vec![Vec::new(); names.len()];
    for line in lines {
        for (c, v) in cols.iter_mut().zip(line.split(',')) {
            c.push(v.parse::<f64>().unwrap());
        }
    }
    (names, cols)
}

fn expected_metrics() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("metrics/expected.json")).unwrap())
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

#[test]
fn metrics_equal_scikit_learn_and_scipy() {
    use leadcal::evaluate::metrics as m;
    let (_, cols) = numeric_csv("metrics/scores.csv");
    let y: Vec<bool> = cols[0].iter().map(|v| *v == 1.0).collect();
    let exp = expected_metrics();
    for (k, name) in [(1, "points"), (2, "prob")] {
        let s = &cols[k];
        let o = m::order_desc(s);
        let e = &exp[name];
        close(
            m::roc_auc(&y, s, &o, None),
            &e["roc_auc"],
            1e-9,
            &format!("{name} AUC"),
        );
        close(
            m::average_precision(&y, s, &o, None),
            &e["average_precision"],
            1e-9,
            &format!("{name} AP"),
        );
        close(m::ks(&y, s, &o), &e["ks"], 1e-9, &format!("{name} KS"));
    }
    let p = &cols[2];
    close(m::brier(&y, p), &exp["prob"]["brier"], 1e-9, "Brier");
    close(
        m::log_loss(&y, p),
        &exp["prob"]["log_loss"],
        1e-9,
        "log-loss",
    );
    close(Some(m::z95()), &exp["z95"], 1e-12, "z for 95%");
    // Unit weights give the unweighted values (the bootstrap relies on this).
    let s = &cols[1];
    let o = m::order_desc(s);
    let ones = vec![1.0; y.len()];
    assert_eq!(
        m::roc_auc(&y, s, &o, Some(&ones)),
        m::roc_auc(&y, s, &o, None)
    );
}

#[test]
fn roc_and_precision_recall_curves_equal_scikit_learn() {
    use leadcal::evaluate::metrics as m;
    let (_, cols) = numeric_csv("metrics/scores.csv");
    let y: Vec<bool> = cols[0].iter().map(|v| *v == 1.0).collect();
    let exp = expected_metrics();
    let list = |v: &serde_json::Value| -> Vec<Option<f64>> {
        v.as_array().unwrap().iter().map(|x| x.as_f64()).collect()
    };
    for (k, name) in [(1, "points"), (2, "prob")] {
        let s = &cols[k];
        let o = m::order_desc(s);
        let roc = m::roc_curve(&y, s, &o).unwrap();
        let e = &exp[name]["roc_curve"];
        let (thr, fpr, tpr) = (list(&e["threshold"]), list(&e["fpr"]), list(&e["tpr"]));
        assert_eq!(roc.len(), thr.len(), "{name}: ROC points");
        for (i, p) in roc.iter().enumerate() {
            // serde_json's default float parsing may be one ulp off: compare to 1e-12.
            match thr[i] {
                None => assert!(p.threshold.is_infinite(), "{name}: ROC threshold {i}"),
                Some(t) => close(
                    Some(p.threshold),
                    &t.into(),
                    1e-12,
                    &format!("{name} ROC threshold {i}"),
                ),
            }
            close(Some(p.x), &fpr[i].into(), 1e-12, &format!("{name} FPR {i}"));
            close(Some(p.y), &tpr[i].into(), 1e-12, &format!("{name} TPR {i}"));
        }
        // scikit-learn: lowest threshold first, plus a final (recall 0, precision 1).
        let pr = m::pr_curve(&y, s, &o).unwrap();
        let e = &exp[name]["pr_curve"];
        let (thr, prec, rec) = (
            list(&e["threshold"]),
            list(&e["precision"]),
            list(&e["recall"]),
        );
        assert_eq!(pr.len(), thr.len(), "{name}: PR points");
        assert_eq!(
            (prec.last(), rec.last()),
            (Some(&Some(1.0)), Some(&Some(0.0)))
        );
        for (i, p) in pr.iter().enumerate() {
            let j = thr.len() - 1 - i;
            close(
                Some(p.threshold),
                &thr[j].into(),
                1e-12,
                &format!("{name} PR threshold {i}"),
            );
            close(
                Some(p.x),
                &rec[j].into(),
                1e-12,
                &format!("{name} recall {i}"),
            );
            close(
                Some(p.y),
                &prec[j].into(),
                1e-12,
                &format!("{name} precision {i}"),
            );
        }
    }
    assert!(m::roc_curve(&[true, true], &[0.1, 0.2], &[1, 0]).is_none());
    assert!(m::pr_curve(&[false], &[0.1], &[0]).is_none());
}

#[test]
fn wilson_and_psi_equal_hand_computed_values() {
    use leadcal::evaluate::metrics as m;
    // Wilson, 3 of 10, z = 1.959964: centre (0.3 + z²/20) / (1 + z²/10) = 0.355507,
    // half-width z·sqrt(0.021 + z²/400) / (1 + z²/10) = 0.247715.
    let (lo, hi) = m::wilson(3, 10).unwrap();
    assert!(
        (lo - 0.107791).abs() < 1e-6 && (hi - 0.603222).abs() < 1e-6,
        "{lo} {hi}"
    );
    // 0 of 20: [0, z²/(20 + z²)] = [0, 0.161125].
    let (lo, hi) = m::wilson(0, 20).unwrap();
    assert!(lo == 0.0 && (hi - 0.161125).abs() < 1e-6, "{lo} {hi}");
    // PSI of shares (0.5, 0.3, 0.2) against (0.4, 0.4, 0.2):
    // (0.4-0.5)·ln(0.8) + (0.4-0.3)·ln(4/3) + 0 = 0.022314 + 0.028768 = 0.051083.
    let v = m::psi(&[50, 30, 20], &[40, 40, 20]).unwrap();
    assert!((v - 0.0510826).abs() < 1e-6, "{v}");
    // An empty bin uses the 0.0001 floor:
    // (0.0001-0.5)·ln(0.0002) + (1-0.5)·ln(2) = 0.4999·8.517193 + 0.346574 = 4.604318.
    let v = m::psi(&[50, 50], &[0, 100]).unwrap();
    assert!((v - 4.604318).abs() < 1e-5, "{v}");
}

#[test]
fn logistic_coefficients_equal_scikit_learn() {
    use leadcal::model::fit_alpha;
    let (names, cols) = numeric_csv("metrics/design.csv");
    let exp = expected_metrics();
    let y: Vec<bool> = cols[0].iter().map(|v| *v == 1.0).collect();
    let n = y.len();
    // Standardise as StandardScaler does (population standard deviation).
    let mut x = ndarray::Array2::<f64>::zeros((n, names.len() - 1));
    for (j, c) in cols[1..].iter().enumerate() {
        let mean = c.iter().sum::<f64>() / n as f64;
        let sd = (c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        for i in 0..n {
            x[[i, j]] = (c[i] - mean) / sd;
        }
    }
    for alpha in ["1.0", "10.0"] {
        let want = &exp["logistic"]["fits"][alpha];
        let (w, b) = fit_alpha(x.view(), &y, alpha.parse().unwrap(), None, 1e-9, 10_000).unwrap();
        // Tolerance 1e-6 on every coefficient (sklearn tol=1e-12; linfa gradient 1e-9).
        close(
            Some(b),
            &want["intercept"],
            1e-6,
            &format!("intercept, alpha {alpha}"),
        );
        for (j, wj) in w.iter().enumerate() {
            close(
                Some(*wj),
                &want["coef"][j],
                1e-6,
                &format!("{}, alpha {alpha}", names[j + 1]),
            );
        }
    }
}

#[test]
fn linfa_majority_class_flip_is_undone() {
    // Converters are the minority in the fixture: linfa takes non-converters as its positive
    // class. The same data with labels inverted must give exactly the negated model.
    use leadcal::model::fit_alpha;
    let (_, cols) = numeric_csv("metrics/design.csv");
    let y: Vec<bool> = cols[0].iter().map(|v| *v == 1.0).collect();
    assert!(y.iter().filter(|v| **v).count() * 2 < y.len());
    let x = ndarray::Array2::from_shape_fn((y.len(), 2), |(i, j)| cols[j + 1][i]);
    let (w, b) = fit_alpha(x.view(), &y, 1.0, None, 1e-9, 10_000).unwrap();
    let inv: Vec<bool> = y.iter().map(|v| !v).collect();
    let (wi, bi) = fit_alpha(x.view(), &inv, 1.0, None, 1e-9, 10_000).unwrap();
    // More opens means more conversions: the converting direction is positive.
    assert!(w[0] > 0.0, "opens coefficient {w}");
    for j in 0..2 {
        assert!((w[j] + wi[j]).abs() < 1e-6, "{w} vs {wi}");
    }
    assert!((b + bi).abs() < 1e-6);
}

// ---- evaluate ---------------------------------------------------------------------------------

#[test]
fn evaluate_runs_on_the_demo_and_states_the_lead_counts() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    let r = leadcal(&[
        "evaluate",
        "--since",
        "2023-01",
        "--out",
        dir.to_str().unwrap(),
    ]);
    r.code(0)
        .stdout_has("immature (excluded)")
        .stdout_has("came in hot")
        .stdout_has("ROC AUC")
        .stdout_has("SQL at 80")
        .stdout_has("Per period");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["schema"], "leadcal.metrics/1");
    let l = &m["labels"];
    assert_eq!(
        l["leads"].as_u64().unwrap(),
        l["immature"].as_u64().unwrap()
            + l["came_in_hot"].as_u64().unwrap()
            + l["evaluable"].as_u64().unwrap()
    );
    // Default test set: the last two quarters holding mature leads.
    assert_eq!(m["split"]["test_from"], "2025-01-01");
    // The demo's planted truth: the fitted model ranks better than the badly tuned live model.
    let auc = |w: &str| m["test"][w]["roc_auc"]["value"].as_f64().unwrap();
    assert!(
        auc("model") > auc("live") + 0.05,
        "model {} live {}",
        auc("model"),
        auc("live")
    );
    let low = m["test"]["live"]["roc_auc"]["low"].as_f64().unwrap();
    assert!(low < auc("live"));
    // Every feature is named and traced to its source.
    let names = m["model"]["fitted"]["names"].as_array().unwrap();
    assert_eq!(names.len(), m["model"]["sources"].as_array().unwrap().len());
    assert!(names.iter().any(|n| n == "rule:pricing_page_view"));
    assert!(names.iter().any(|n| n == "job_level=Student"));
    assert!(names.iter().any(|n| n == "company_size in [50, 1000)"));
    // A second run goes to a new folder and is byte-identical.
    let r2 = leadcal(&[
        "evaluate",
        "--since",
        "2023-01",
        "--out",
        dir.to_str().unwrap(),
    ]);
    r2.code(0).stdout_has("run-2");
    let (a, b) = (
        std::fs::read_to_string(dir.join("metrics.json")).unwrap(),
        std::fs::read_to_string(out.path().join("run-2/metrics.json")).unwrap(),
    );
    if let Some((k, (x, y))) = a
        .lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
    {
        panic!(
            "metrics.json differs between two runs at line {}: {x:?} vs {y:?}",
            k + 1
        );
    }
    assert_eq!(a, b);
}

#[test]
fn evaluate_explains_data_it_cannot_use() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().join("x");
    let o = o.to_str().unwrap();
    leadcal(&["evaluate", "--since", "2027-01", "--out", o])
        .code(2)
        .stderr_has("lies after the end of the data");
    leadcal(&["evaluate", "--since", "2025-09", "--out", o])
        .code(2)
        .stderr_has("is mature");
    leadcal(&["evaluate", "--min-converters", "100000", "--out", o])
        .code(2)
        .stderr_has("converters in the training period; at least 100000");
    leadcal(&["evaluate", "--target", "no-such-stage", "--out", o])
        .code(2)
        .stderr_has("no outcome has the target stage `no-such-stage`");
    leadcal(&["evaluate", "--period", "week", "--out", o])
        .code(2)
        .stderr_has("expected quarter, 3m or 6m");
    assert!(!out.path().join("x").join("metrics.json").exists());
}

#[test]
fn events_after_the_snapshot_change_no_feature() {
    use leadcal::features::{self, FeatureSpec};
    let demo = root().join("notebooks-data/demo");
    let w = tempfile::tempdir().unwrap();
    for f in ["leads.parquet", "outcomes.parquet", "scoring.toml"] {
        std::fs::copy(demo.join(f), w.path().join(f)).unwrap();
    }
    // Every event again, moved to one second after its lead's snapshot.
    let events = LazyFrame::scan_parquet(
        PlRefPath::from(demo.join("events.parquet").to_str().unwrap()),
        Default::default(),
    )
    .unwrap();
    let leads = LazyFrame::scan_parquet(
        PlRefPath::from(demo.join("leads.parquet").to_str().unwrap()),
        Default::default(),
    )
    .unwrap()
    .select([col("lead_id"), col("created_at").alias("__c")]);
    let names: Vec<String> = events
        .clone()
        .collect_schema()
        .unwrap()
        .iter_names()
        .map(|n| n.to_string())
        .collect();
    let late = events
        .clone()
        .join(
            leads,
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .with_column(
            (col("__c").cast(DataType::Int64) + lit(30 * 86_400_000_000i64 + 1_000_000))
                .cast(DataType::Datetime(TimeUnit::Microseconds, None))
                .cast(
                    events
                        .clone()
                        .collect_schema()
                        .unwrap()
                        .get("occurred_at")
                        .unwrap()
                        .clone(),
                )
                .alias("occurred_at"),
        )
        .select(names.iter().map(|n| col(n.as_str())).collect::<Vec<_>>());
    let mut both = concat([events, late], UnionArgs::default())
        .unwrap()
        .collect()
        .unwrap();
    let file = std::fs::File::create(w.path().join("events.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut both).unwrap();

    let build = |dir: &Path| {
        let ds = data::load(dir, &LoadOptions::default()).unwrap();
        let model =
            leadcal::scoring::config::ScoringModel::from_file(&dir.join("scoring.toml")).unwrap();
        let t =
            |s: &str| leadcal::timeparse::to_micros(leadcal::timeparse::parse_bound(s).unwrap());
        let spec = FeatureSpec {
            label: Default::default(),
            since: t("2023-01"),
            until: t("2026-01-01"),
            data_end: t("2026-01-01"),
            test_from: t("2025-01"),
            min_level_count: 30,
            max_levels: 30,
        };
        features::build(&ds, &model, &spec).unwrap()
    };
    let a = build(&demo);
    let b = build(w.path());
    assert_eq!(a.names, b.names);
    assert_eq!(a.y, b.y);
    let moved = a
        .live_score
        .iter()
        .zip(&b.live_score)
        .filter(|(x, y)| x != y)
        .count();
    assert_eq!(moved, 0, "{moved} live scores at the snapshot changed");
    let changed = a.x.iter().zip(b.x.iter()).filter(|(x, y)| x != y).count();
    assert_eq!(changed, 0, "{changed} feature values changed");
    // The late events are really there: the replayed hand-overs (which look past the snapshot)
    // do change.
    assert_ne!(a.sql_at, b.sql_at);
}

// ---- calibrate --------------------------------------------------------------------------------

#[test]
fn calibrate_writes_a_run_folder_whose_config_scores_the_demo() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("review");
    let d = dir.to_str().unwrap();
    let live_before = std::fs::read(root().join("notebooks-data/demo/scoring.toml")).unwrap();
    leadcal(&[
        "calibrate",
        "--since",
        "2023-01",
        "--objective",
        "capacity:124/month",
        "--out",
        d,
    ])
    .code(0)
    .stdout_has("Recommended changes")
    .stdout_has("Back-test on the test period")
    // Progress messages appear on a terminal only, never in a pipe.
    .stderr_lacks("leadcal: ");
    for f in [
        "recommended-scoring.toml",
        "changes.md",
        "recommendation.json",
        "metrics.json",
        "segments.json",
        "segments.csv",
        "chart-distribution.png",
        "chart-calibration.png",
        "chart-roc-pr.png",
        "chart-gains.png",
        "chart-trend.png",
        "chart-segments.png",
        "chart-matrix.png",
        "chart-sweep.png",
        "chart-points.png",
        "report-data.json",
        "report.html",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    // The report opens in a real browser: every image loads, nothing is fetched, no errors.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Summary"));
    browser_check(&dir.join("report.html"), 9);
    // `leadcal report` re-renders it in German from the saved results, beside the run's files.
    leadcal(&["report", d, "--lang", "de"])
        .code(0)
        .stdout_has("report-de/report.html");
    let de = dir.join("report-de/report.html");
    let text = std::fs::read_to_string(&de).unwrap();
    assert!(text.contains("<html lang=\"de\">") && text.contains("Zusammenfassung"));
    assert_eq!(
        std::fs::read_to_string(dir.join("report.html")).unwrap(),
        html
    );
    browser_check(&de, 9);
    // A second rendering never replaces the first.
    leadcal(&["report", d, "--lang", "de"])
        .code(0)
        .stdout_has("report-de-2/report.html");
    // The input config is untouched.
    assert_eq!(
        std::fs::read(root().join("notebooks-data/demo/scoring.toml")).unwrap(),
        live_before
    );
    // The recommended config loads back into `score` and scores the demo world.
    let rec = dir.join("recommended-scoring.toml");
    leadcal(&[
        "score",
        "--as-of",
        "2025-07-01",
        "--model",
        rec.to_str().unwrap(),
    ])
    .code(0)
    .stdout_has("Stage");
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(text.starts_with("# Recommended by leadcal"), "{text}");
    assert!(text.contains("Inputs (SHA-256)"));
    // Every comment line of the live config survives, in order.
    let live = String::from_utf8(live_before).unwrap();
    let comments = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with('#'))
            .map(String::from)
            .collect()
    };
    let kept = comments(&text);
    assert!(comments(&live).iter().all(|c| kept.contains(c)));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("recommendation.json")).unwrap())
            .unwrap();
    assert_eq!(r["objective_met"], true);
    // The capacity objective is met out of time too, with an interval around it.
    let per_month = &r["recommended"]["handovers_per_month"];
    let v = per_month["value"].as_f64().unwrap();
    assert!(v > 0.0 && v <= 124.0, "{per_month}");
    assert!(per_month["low"].as_f64().unwrap() <= v && v <= per_month["high"].as_f64().unwrap());
    // Planted truth: careers-page views have the wrong sign today and are flagged; pricing-page
    // views (the strongest frequent signal) gain points; Students lose theirs.
    let rule = |name: &str| {
        r["weights"]["implicit"]
            .as_array()
            .unwrap()
            .iter()
            .chain(r["weights"]["explicit"].as_array().unwrap())
            .find(|c| c["rule"] == name)
            .unwrap()
            .clone()
    };
    assert!(rule("careers_page_view")["recommended"].as_f64().unwrap() < 0.0);
    assert_eq!(rule("careers_page_view")["flags"][0], "sign_contradicts");
    assert!(rule("pricing_page_view")["recommended"].as_f64().unwrap() > 3.0);
    assert!(rule("job_level = Student")["recommended"].as_f64().unwrap() < 0.0);
    // A second run into the same folder is refused, and --force replaces it.
    leadcal(&["calibrate", "--since", "2023-01", "--out", d])
        .code(2)
        .stderr_has("never overwrites an earlier run");
    leadcal(&[
        "calibrate",
        "--since",
        "2023-01",
        "--out",
        d,
        "--force",
        "--quiet",
    ])
    .code(0);
}

// ---- segments ---------------------------------------------------------------------------------

#[test]
fn segment_statistics_equal_scipy() {
    use leadcal::segments as s;
    let exp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("segments/expected.json")).unwrap())
            .unwrap();
    for t in exp["tables"].as_array().unwrap() {
        let v: Vec<u64> = t["table"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()))
            .collect();
        let (a, b, c, d) = (v[0], v[1], v[2], v[3]);
        close(
            Some(s::fisher(a, b, c, d)),
            &t["fisher"],
            1e-9,
            &format!("Fisher {v:?}"),
        );
        close(
            Some(s::chi_square_yates(a, b, c, d)),
            &t["chi2_yates"],
            1e-9,
            &format!("chi2 {v:?}"),
        );
        assert_eq!(
            s::two_by_two(a, b, c, d).1,
            t["test"].as_str().unwrap(),
            "{v:?}"
        );
    }
    let p: Vec<f64> = exp["bh"]["p"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for (got, want) in s::benjamini_hochberg(&p)
        .iter()
        .zip(exp["bh"]["q"].as_array().unwrap())
    {
        close(Some(*got), want, 1e-9, "Benjamini-Hochberg");
    }
    for w in exp["wilson"].as_array().unwrap() {
        let (k, n) = (w["k"].as_u64().unwrap(), w["n"].as_u64().unwrap());
        let (lo, hi) = leadcal::evaluate::metrics::wilson(k, n).unwrap();
        close(Some(lo), &w["low"], 1e-9, &format!("Wilson low {k}/{n}"));
        close(Some(hi), &w["high"], 1e-9, &format!("Wilson high {k}/{n}"));
    }
    for b in exp["binomtest"].as_array().unwrap() {
        let (k, n, p0) = (
            b["k"].as_u64().unwrap(),
            b["n"].as_u64().unwrap(),
            b["p0"].as_f64().unwrap(),
        );
        let got = s::binomial_test(k, n, p0);
        if (n as f64) * p0 * (1.0 - p0) < 10.0 {
            close(
                Some(got),
                &b["p"],
                1e-9,
                &format!("binomial {k}/{n} vs {p0}"),
            );
        } else {
            // The normal approximation: the same verdict at 0.05 and within a factor of 2.
            let want = b["p"].as_f64().unwrap();
            assert!(
                (got < 0.05) == (want < 0.05) && got / want < 2.0 && want / got < 2.0,
                "{got} vs {want}"
            );
        }
    }
}

#[test]
fn segments_find_the_planted_pair_above_the_student_echoes() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("seg");
    leadcal(&[
        "segments",
        "--since",
        "2023-01",
        "--pairs",
        "--out",
        dir.to_str().unwrap(),
    ])
    .code(0)
    .stdout_has("Hand-overs that convert worst")
    .stdout_has("region=APAC & source=Content Syndication")
    .stdout_has("Fit × engagement");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("segments.json")).unwrap()).unwrap();
    let groups = r["segments"]["non_converting"]["groups"]
        .as_array()
        .unwrap();
    let label = |g: &serde_json::Value| {
        g["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("{}={}", v[0].as_str().unwrap(), v[1].as_str().unwrap()))
            .collect::<Vec<_>>()
            .join(" & ")
    };
    let shown: Vec<&serde_json::Value> =
        groups.iter().filter(|g| g["redundant"] == false).collect();
    // The trap pair (harmless-looking apart, bad together) is the first pair and in the top two,
    // behind only the single value that never converts; no Student pair outranks it.
    let first_pair = shown
        .iter()
        .find(|g| g["values"].as_array().unwrap().len() == 2)
        .unwrap();
    assert_eq!(
        label(first_pair),
        "region=APAC & source=Content Syndication"
    );
    assert!(first_pair["rank"].as_u64().unwrap() <= 2, "{first_pair}");
    for g in &shown {
        if g["rank"].as_u64() < first_pair["rank"].as_u64() {
            assert_eq!(g["values"].as_array().unwrap().len(), 1, "{}", label(g));
        }
    }
    // Student pairs are there, marked redundant.
    assert!(
        groups
            .iter()
            .any(|g| label(g).contains("job_level=Student &") && g["redundant"] == true)
    );
    // No group under the minimum size, in any question; the CSV holds the same groups.
    for q in ["non_converting", "converter_marks"] {
        for g in r["segments"][q]["groups"].as_array().unwrap() {
            assert!(g["leads"].as_u64().unwrap() >= 30);
        }
    }
    let csv = std::fs::read_to_string(dir.join("segments.csv")).unwrap();
    let rows = csv.lines().count() - 1;
    let total = groups.len()
        + r["segments"]["converter_marks"]["groups"]
            .as_array()
            .unwrap()
            .len();
    assert_eq!(rows, total);
    // Matrix cells under the minimum size show no rate; no lead ids anywhere.
    for c in r["matrix"].as_array().unwrap() {
        assert_eq!(c["rate"].is_null(), c["leads"].as_u64().unwrap() < 30);
    }
    let text = std::fs::read_to_string(dir.join("segments.json")).unwrap();
    assert!(
        !text.contains("lead_id"),
        "lead ids have no place in segments.json"
    );
}

#[test]
fn calibrate_is_byte_identical_across_runs_and_thread_counts() {
    let out = tempfile::tempdir().unwrap();
    let (a, b) = (out.path().join("a"), out.path().join("b"));
    // The second run uses one thread in rayon and in polars: results must not depend on how
    // work is split.
    for (d, threads) in [(&a, None), (&b, Some("1"))] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_leadcal"));
        c.args([
            "calibrate",
            "--since",
            "2023-01",
            "--quiet",
            "--out",
            d.to_str().unwrap(),
        ])
        .current_dir(root());
        if let Some(t) = threads {
            c.env("RAYON_NUM_THREADS", t).env("POLARS_MAX_THREADS", t);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let mut names: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".png")).count(),
        9,
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "report.html"), "{names:?}");
    // The German rendering is byte-identical across runs too.
    for d in [&a, &b] {
        leadcal(&["report", d.to_str().unwrap(), "--lang", "de"]).code(0);
    }
    for n in std::fs::read_dir(a.join("report-de")).unwrap() {
        let n = n.unwrap().file_name();
        assert!(
            std::fs::read(a.join("report-de").join(&n)).unwrap()
                == std::fs::read(b.join("report-de").join(&n)).unwrap(),
            "report-de/{n:?} differs between two runs on the same input"
        );
    }
    for n in &names {
        let (x, y) = (
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
        );
        assert!(x == y, "{n} differs between two runs on the same input");
        if n.ends_with(".png") {
            assert_eq!(&x[..8], b"\x89PNG\r\n\x1a\n", "{n} is not a PNG");
        }
    }
}

/// Render `html` in headless Chromium with a probe script injected first in `<head>`: every
/// image must load (natural width above 0), nothing outside the page may be requested, the page
/// itself may hold no script, and nothing may reach the console. Without Chromium the check is
/// skipped with a message, unless LEADCAL_REQUIRE_BROWSER=1 (as `.ci/run` sets).
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
        eprintln!(
            "browser check of {} skipped: chromium not installed",
            html.display()
        );
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
    scripts: document.scripts.length, errors: __errors };
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
}

/// The report with its volatile parts masked: the tool version and the chart images (the
/// golden files cover the data model and the text, not pixels).
fn masked(text: &str) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let mut out = text
        .replace(&format!("leadcal {version}"), "leadcal <version>")
        .replace(
            &format!("\"version\": \"{version}\""),
            "\"version\": \"<version>\"",
        );
    let tag = "data:image/png;base64,";
    let mut from = 0;
    while let Some(k) = out[from..].find(tag) {
        let start = from + k + tag.len();
        let end = start + out[start..].find('"').unwrap();
        out.replace_range(start..end, "<png>");
        from = start;
    }
    out
}

/// Compare with `tests/golden/<name>`; LEADCAL_BLESS=1 rewrites the file instead.
fn golden(name: &str, got: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var("LEADCAL_BLESS").is_ok() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (LEADCAL_BLESS=1 writes it)", path.display()));
    if want != got {
        let line = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(got.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\n  golden: {:?}\n  now:    {:?}\n(LEADCAL_BLESS=1 cargo test golden rewrites it after review)",
            line + 1,
            want.lines().nth(line),
            got.lines().nth(line)
        );
    }
}

#[test]
fn browser_check_fails_on_a_missing_image_and_on_console_output() {
    if !Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: chromium not installed");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    for (name, body, images) in [
        ("missing.html", "<img src=\"no-such.png\" alt=\"x\">", 1),
        (
            "console.html",
            "<p>x</p><script>console.error(\"boom\")</script>",
            0,
        ),
        ("fine.html", "<p>x</p>", 0),
    ] {
        let p = d.path().join(name);
        std::fs::write(
            &p,
            format!("<!DOCTYPE html><html><head></head><body>{body}</body></html>"),
        )
        .unwrap();
        let caught = std::panic::catch_unwind(|| browser_check(&p, images));
        assert_eq!(caught.is_err(), name != "fine.html", "{name}");
    }
}

#[test]
fn report_data_and_text_match_the_golden_files() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    let d = dir.to_str().unwrap();
    leadcal(&["calibrate", "--since", "2023-01", "--out", d]).code(0);
    leadcal(&["report", d, "--lang", "de"]).code(0);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    // One element per line, so that a difference shows as a readable line.
    let html = |f: &str| masked(&read(f)).replace("><", ">\n<");
    let (data, en, de) = (
        masked(&read("report-data.json")),
        html("report.html"),
        html("report-de/report.html"),
    );
    // Aggregates only: no account ids (A + 8 digits in the demo) in the report or its data.
    for (name, text) in [("report-data.json", &data), ("report.html", &en)] {
        let b = text.as_bytes();
        let id = (0..b.len().saturating_sub(9))
            .find(|&i| b[i] == b'A' && b[i + 1..i + 9].iter().all(u8::is_ascii_digit));
        assert!(id.is_none(), "{name} holds an account id at byte {id:?}");
    }
    golden("report-data.json", &data);
    golden("report.en.html", &en);
    golden("report.de.html", &de);
}

#[test]
fn report_escapes_strings_from_the_data() {
    // The committed golden data with hostile attribute values, rule and file names in every
    // place the page shows a string from the data.
    let text = std::fs::read_to_string(root().join("tests/golden/report-data.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let script = "<script>alert(1)</script>";
    let attr = "x\" onerror=\"alert(2)";
    v["segments"]["worst"][0]["values"] =
        serde_json::json!([["region", script], ["industry", attr]]);
    v["segments"]["converter_marks"][0]["values"] = serde_json::json!([[script, attr]]);
    v["weights"]["rules"][0]["rule"] = serde_json::json!(format!("email_open {script}"));
    v["weights"]["suggestions"][0]["feature"] = serde_json::json!(format!("region={attr}"));
    v["matrix"][0]["fit"] = serde_json::json!(script);
    v["quality"]["tables"][0]["file"] = serde_json::json!(format!("{attr}.csv"));
    v["window"]["target"] = serde_json::json!(script);
    v["thresholds"]["objective"] = serde_json::json!(attr);
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("report-data.json"), v.to_string()).unwrap();
    let out = d.path().join("out");
    leadcal(&[
        "report",
        d.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        !html.to_lowercase().contains("<script"),
        "a script tag got through"
    );
    assert!(!html.contains("onerror=\""), "an attribute got through");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("x&quot; onerror=&quot;alert(2)"));
    browser_check(&out.join("report.html"), 9);
}

#[test]
fn calibrate_explains_a_model_that_matches_nothing() {
    // A live model whose only rule matches no lead (a hostile value, too): every score is 0.
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("live.toml");
    std::fs::write(
        &model,
        "[thresholds]\nmql = 40\nsql = 80\n[[explicit]]\nattribute = \"region\"\nvalues = [{ equals = \"<script>alert(1)</script>\", points = 5 }]\n",
    )
    .unwrap();
    let out = d.path().join("run");
    leadcal(&[
        "calibrate",
        "--since",
        "2023-01",
        "--model",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("points cannot be scaled")
    .stderr_has("check that the live model's rules match this data");
    assert!(!out.exists(), "no run folder for a failed run");
}

// ---- safe outputs ----------------------------------------------------------------------

/// Start `calibrate` on the demo into `out`, send `signal` after `after`, and return its
/// exit code and stderr.
fn calibrate_interrupted(
    out: &Path,
    extra: &[&str],
    signal: &str,
    after: std::time::Duration,
) -> (Option<i32>, String) {
    let mut args = vec![
        "calibrate",
        "--since",
        "2023-01",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let child = Command::new(env!("CARGO_BIN_EXE_leadcal"))
        .args(&args)
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let killed = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success() || child.id() == 0);
    let o = child.wait_with_output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
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

#[test]
fn an_interrupted_calibrate_leaves_no_file_that_looks_complete() {
    let ms = std::time::Duration::from_millis;
    let mut interrupted = 0;
    for (signal, after) in [
        ("INT", ms(200)),
        ("INT", ms(2500)),
        ("TERM", ms(6000)),
        ("INT", ms(9000)),
    ] {
        let parent = tempfile::tempdir().unwrap();
        let run = parent.path().join("run");
        let (code, stderr) = calibrate_interrupted(&run, &[], signal, after);
        let files = tree(parent.path());
        interrupted += usize::from(code == Some(130));
        match code {
            Some(130) => {
                assert!(
                    stderr.contains("interrupted: nothing was written"),
                    "{stderr}"
                );
                assert!(
                    files.is_empty(),
                    "SIG{signal} after {after:?} left {files:?}"
                );
            }
            // The run finished before the signal: then its folder is whole.
            Some(0) => assert!(files.contains(&"run/report.html".to_string()), "{files:?}"),
            other => panic!("SIG{signal} after {after:?}: exit {other:?}\n{stderr}"),
        }
    }
    assert!(
        interrupted >= 2,
        "only {interrupted} of 4 runs were caught working"
    );
}

#[test]
fn force_replaces_an_earlier_run_only_when_the_new_one_is_complete() {
    let parent = tempfile::tempdir().unwrap();
    let run = parent.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::write(run.join("notes.txt"), "the analyst's own notes").unwrap();
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
    // With --force but interrupted: the earlier run is still there, untouched.
    let (code, _) = calibrate_interrupted(
        &run,
        &["--force"],
        "INT",
        std::time::Duration::from_millis(1500),
    );
    assert_eq!(code, Some(130));
    assert_eq!(tree(parent.path()), vec!["run/", "run/notes.txt"]);
    // With --force to the end: replaced by the complete new run.
    leadcal(&[
        "calibrate",
        "--since",
        "2023-01",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
        "--force",
    ])
    .code(0);
    let files = tree(parent.path());
    assert!(!files.contains(&"run/notes.txt".to_string()), "{files:?}");
    assert!(files.contains(&"run/report.html".to_string()), "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| !f.contains("partial") && !f.contains("replaced")),
        "{files:?}"
    );
}

// ---- privacy ---------------------------------------------------------------------------

/// Replace an integer `lead_id` column with text ids that are easy to search for.
fn text_ids(df: &mut DataFrame) {
    let ids: Vec<String> = df
        .column("lead_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|v| format!("LEAD-{:07}-PII", v.unwrap()))
        .collect();
    df.with_column(Column::new("lead_id".into(), ids)).unwrap();
}

fn read_parquet(p: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(p).unwrap())
        .finish()
        .unwrap()
}

fn write_parquet(mut df: DataFrame, p: &Path) {
    ParquetWriter::new(std::fs::File::create(p).unwrap())
        .finish(&mut df)
        .unwrap();
}

#[test]
fn no_output_of_calibrate_holds_a_lead_id_or_personal_field() {
    let d = tempfile::tempdir().unwrap();
    let world = d.path().join("world");
    let w = world.to_str().unwrap();
    leadcal(&["demo", "--out", w, "--leads", "3000"]).code(0);
    // The demo world with text lead ids and the personal columns a CRM export carries.
    let mut leads = read_parquet(&world.join("leads.parquet"));
    let n: Vec<i64> = leads
        .column("lead_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let col_of = |f: &dyn Fn(i64) -> String| n.iter().map(|&i| f(i)).collect::<Vec<String>>();
    for (name, values) in [
        ("email", col_of(&|i| format!("person{i}@example.com"))),
        ("full_name", col_of(&|i| format!("Firstname{i} Surname{i}"))),
        (
            "notes",
            col_of(&|i| format!("called {i}, PII-NOTE about pricing")),
        ),
        // Few distinct values: not an identifier, so only its name marks it as personal.
        (
            "First Name",
            col_of(&|i| ["Anna", "Ben", "Chloe"][i as usize % 3].to_string() + "-PIIFIRST"),
        ),
    ] {
        leads.with_column(Column::new(name.into(), values)).unwrap();
    }
    text_ids(&mut leads);
    write_parquet(leads, &world.join("leads.parquet"));
    for t in ["events", "outcomes"] {
        let p = world.join(format!("{t}.parquet"));
        let mut df = read_parquet(&p);
        text_ids(&mut df);
        write_parquet(df, &p);
    }
    let run = d.path().join("run");
    let model_before = std::fs::read(world.join("scoring.toml")).unwrap();
    let r = leadcal(&[
        "calibrate",
        "--data",
        w,
        "--since",
        "2023-01",
        "--out",
        run.to_str().unwrap(),
    ]);
    r.code(0);
    // The input model is only read; the recommendation is a new file in the run folder.
    assert_eq!(
        std::fs::read(world.join("scoring.toml")).unwrap(),
        model_before
    );
    let mut texts = vec![
        ("stdout".to_string(), r.stdout()),
        ("stderr".to_string(), r.stderr()),
    ];
    for f in tree(&run) {
        let p = run.join(&f);
        if p.is_file() {
            texts.push((
                f,
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            ));
        }
    }
    assert!(
        texts.len() > 15,
        "{:?}",
        texts.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for (file, text) in &texts {
        for needle in [
            "LEAD-",
            "@example.com",
            "Surname",
            "Firstname",
            "PII-NOTE",
            "PIIFIRST",
        ] {
            assert!(!text.contains(needle), "{file} contains `{needle}`");
        }
    }
    // Every group shown has at least the minimum size.
    let seg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("segments.json")).unwrap()).unwrap();
    let min = seg["segments"]["spec"]["min_size"].as_u64().unwrap();
    let mut groups = 0;
    for list in ["non_converting", "converter_marks"] {
        for g in seg["segments"][list]["groups"]
            .as_array()
            .into_iter()
            .flatten()
        {
            groups += 1;
            assert!(g["leads"].as_u64().unwrap() >= min, "{g}");
        }
    }
    assert!(groups > 0);
    // The personal columns were recognised and left out, and `validate` says so.
    leadcal(&["validate", w])
        .code(0)
        .stdout_has("column `email` holds personal data")
        .stdout_has("column `First Name` holds personal data")
        .stdout_has("column `notes` holds personal data");
}

// ---- SQL for warehouses and Spark ------------------------------------------------------

/// The query of `leadcal sql` for every dialect, and its result on the real engines listed in
/// LEADCAL_SQL_ENGINES (e.g. `duckdb,postgres,spark`, as `.ci/run` sets, with
/// LEADCAL_SQL_PYTHON pointing at a Python that has tests/sql/requirements.txt), compared with
/// leadcal's own per-lead table value by value.
#[test]
fn sql_on_real_engines_equals_leadcal_at_every_snapshot() {
    let d = tempfile::tempdir().unwrap();
    let world = d.path().join("world");
    let w = world.to_str().unwrap();
    leadcal(&["demo", "--out", w, "--leads", "3000"]).code(0);
    let models = [
        world.join("scoring.toml"),
        root().join("tests/sql/half-life.toml"),
    ];
    for dialect in ["duckdb", "spark", "postgres", "bigquery", "snowflake"] {
        for m in &models {
            let r = leadcal(&["sql", "--model", m.to_str().unwrap(), "--dialect", dialect]);
            r.code(0)
                .stdout_has("ROW_NUMBER() OVER")
                .stdout_has("lc_scored");
        }
    }
    let engines = std::env::var("LEADCAL_SQL_ENGINES").unwrap_or_default();
    let python = std::env::var("LEADCAL_SQL_PYTHON").unwrap_or_else(|_| "python3".into());
    if engines.is_empty() {
        eprintln!("LEADCAL_SQL_ENGINES is not set: SQL results were not run on an engine");
        return;
    }
    for (k, m) in models.iter().enumerate() {
        let expected_path = d.path().join(format!("expected-{k}.parquet"));
        leadcal(&[
            "score",
            "--snapshot-days",
            "30",
            "--data",
            w,
            "--model",
            m.to_str().unwrap(),
            "--out",
            expected_path.to_str().unwrap(),
        ])
        .code(0);
        let expected = read_parquet(&expected_path);
        for engine in engines.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let got_path = d.path().join(format!("{engine}-{k}.parquet"));
            run_on_engine(&python, engine, &world, m, &[], &got_path);
            let got = read_parquet(&got_path);
            if let Err(e) = same_table(&expected, &got) {
                panic!("{engine}, model {}: {e}", m.display());
            }
            eprintln!(
                "{engine}: {} leads equal leadcal's ({})",
                got.height(),
                m.display()
            );
        }
    }
    // calibrate on the warehouse's per-lead table (with its event lists) gives the results of
    // calibrate on the raw events.
    let raw = d.path().join("raw");
    leadcal(&[
        "calibrate",
        "--since",
        "2023-01",
        "--data",
        w,
        "--quiet",
        "--out",
        raw.to_str().unwrap(),
    ])
    .code(0);
    for engine in engines.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let features = d.path().join(format!("{engine}-features.parquet"));
        run_on_engine(
            &python,
            engine,
            &world,
            &world.join("scoring.toml"),
            &["--with-events"],
            &features,
        );
        let out = d.path().join(format!("from-{engine}"));
        leadcal(&[
            "calibrate",
            "--since",
            "2023-01",
            "--data",
            w,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
            "--features",
            features.to_str().unwrap(),
        ])
        .code(0);
        let files = tree(&raw);
        assert!(files.len() > 15, "{files:?}");
        let mut compared = 0;
        for f in files {
            // Provenance names the files read: the events file in one run, the warehouse
            // table in the other; everything else must be equal.
            let strip = |bytes: &[u8]| -> String {
                let t = String::from_utf8_lossy(bytes).into_owned();
                match f.as_str() {
                    "recommendation.json" => {
                        let mut v: serde_json::Value = serde_json::from_str(&t).unwrap();
                        v.as_object_mut().unwrap().remove("inputs");
                        v.to_string()
                    }
                    "recommended-scoring.toml" => t
                        .lines()
                        .filter(|l| !l.starts_with("#   "))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    _ => t,
                }
            };
            let analysis = [
                "metrics.json",
                "segments.json",
                "segments.csv",
                "changes.md",
                "recommendation.json",
                "recommended-scoring.toml",
            ];
            if f.ends_with(".png") || analysis.contains(&f.as_str()) {
                let (a, b) = (
                    std::fs::read(raw.join(&f)).unwrap(),
                    std::fs::read(out.join(&f)).unwrap(),
                );
                assert!(
                    strip(&a) == strip(&b),
                    "{engine}: {f} differs from the run on raw events"
                );
                compared += 1;
            }
        }
        assert_eq!(compared, 15);
        eprintln!(
            "{engine}: calibrate --features equals calibrate on the raw events ({compared} files)"
        );
        // evaluate and segments take the same table.
        for (cmd, file) in [("evaluate", "metrics.json"), ("segments", "segments.json")] {
            let (a, b) = (
                d.path().join(format!("{cmd}-raw-{engine}")),
                d.path().join(format!("{cmd}-wh-{engine}")),
            );
            let base = ["--since", "2023-01", "--data", w];
            leadcal(&[&[cmd][..], &base, &["--out", a.to_str().unwrap()]].concat()).code(0);
            leadcal(
                &[
                    &[cmd][..],
                    &base,
                    &[
                        "--out",
                        b.to_str().unwrap(),
                        "--features",
                        features.to_str().unwrap(),
                    ],
                ]
                .concat(),
            )
            .code(0);
            assert!(
                std::fs::read(a.join(file)).unwrap() == std::fs::read(b.join(file)).unwrap(),
                "{engine}: {cmd} --features: {file} differs from the run on raw events"
            );
        }
    }
}

/// Write the query of `leadcal sql` for `model` (with `extra` options), run it with
/// tests/sql/run.py on `engine` over the dataset `world`, and leave the result in `out`.
fn run_on_engine(
    python: &str,
    engine: &str,
    world: &Path,
    model: &Path,
    extra: &[&str],
    out: &Path,
) {
    let mut args = vec![
        "sql",
        "--model",
        model.to_str().unwrap(),
        "--dialect",
        engine,
    ];
    args.extend_from_slice(extra);
    let sql = leadcal(&args);
    sql.code(0);
    let sql_path = out.with_extension("sql");
    std::fs::write(&sql_path, sql.stdout()).unwrap();
    let run = Command::new(python)
        .args([
            root().join("tests/sql/run.py").to_str().unwrap(),
            "--engine",
            engine,
            "--data",
            world.to_str().unwrap(),
            "--sql",
            sql_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{engine} on {}:\n{}",
        model.display(),
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Equal tables up to row order: same columns in the same order, integers, text and times
/// exactly, floating point to 1e-9 (sums of decayed points may be added in another order).
fn same_table(expected: &DataFrame, got: &DataFrame) -> Result<(), String> {
    let names = |df: &DataFrame| -> Vec<String> {
        df.get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    if names(expected) != names(got) {
        return Err(format!(
            "columns differ:\n  leadcal {:?}\n  engine  {:?}",
            names(expected),
            names(got)
        ));
    }
    if expected.height() != got.height() {
        return Err(format!(
            "{} rows, expected {}",
            got.height(),
            expected.height()
        ));
    }
    let sort = |df: &DataFrame| df.sort(["lead_id"], Default::default()).unwrap();
    let (a, b) = (sort(expected), sort(got));
    for name in names(&a) {
        let (x, y) = (a.column(&name).unwrap(), b.column(&name).unwrap());
        let numeric = |c: &Column| c.dtype().is_primitive_numeric();
        if numeric(x) && numeric(y) {
            let (x, y) = (
                x.cast(&DataType::Float64).unwrap(),
                y.cast(&DataType::Float64).unwrap(),
            );
            for (i, (p, q)) in x
                .f64()
                .unwrap()
                .iter()
                .zip(y.f64().unwrap().iter())
                .enumerate()
            {
                let (p, q) = (p.unwrap_or(f64::NAN), q.unwrap_or(f64::NAN));
                let close = (p - q).abs() <= 1e-9 * p.abs().max(1.0);
                if !close {
                    return Err(format!(
                        "column {name}, lead {}: leadcal {p}, engine {q}",
                        a.column("lead_id").unwrap().get(i).unwrap()
                    ));
                }
            }
        } else {
            let text = |c: &Column| -> Vec<Option<String>> {
                let c = if matches!(c.dtype(), DataType::Datetime(_, _)) {
                    c.cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                        .unwrap()
                        .cast(&DataType::Int64)
                        .unwrap()
                } else {
                    c.clone()
                };
                c.cast(&DataType::String)
                    .unwrap()
                    .str()
                    .unwrap()
                    .iter()
                    .map(|s| s.map(str::to_string))
                    .collect()
            };
            let (p, q) = (text(x), text(y));
            if let Some(i) = (0..p.len()).find(|&i| p[i] != q[i]) {
                return Err(format!(
                    "column {name}, row {i}: leadcal {:?}, engine {:?}",
                    p[i], q[i]
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn a_warehouse_table_with_a_non_integer_event_time_is_refused_not_dropped() {
    let d = tempfile::tempdir().unwrap();
    for f in ["leads.csv", "outcomes.csv"] {
        std::fs::copy(fixture("good").join(f), d.path().join(f)).unwrap();
    }
    let model = root().join("tests/bad-inputs/model-good/scoring.toml");
    let m = leadcal::scoring::config::ScoringModel::from_file(&model).unwrap();
    let fp = leadcal::sql::model_fingerprint(&m);
    std::fs::write(
        d.path().join("features.csv"),
        format!(
            "lead_id,lc_model,last_event_at,lc_t,lc_mask\n101,{fp},1673000000000000,\"[1672995600000000, 1673000000000000]\",\"[1, 1]\"\n102,{fp},1673000000000000,\"[1672995600000000, 2023-01-06]\",\"[1, 1]\"\n"
        ),
    )
    .unwrap();
    let out = d.path().join("run");
    for cmd in ["evaluate", "segments", "calibrate"] {
        leadcal(&[
            cmd,
            "--data",
            d.path().to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--features",
            d.path().join("features.csv").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .code(2)
        .stderr_has("features.csv: column `lc_t`: a list entry that is not an integer in 1 row(s), lead(s) `102`");
    }
    assert!(!out.exists());
}
