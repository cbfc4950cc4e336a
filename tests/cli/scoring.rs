//! The scoring-model format, scoring as of a date, and the hand-over replay.

use super::*;

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

/// The dataset at `dir` with its events placed under `model`'s rules, as the commands load it.
pub fn load_tagged(dir: &Path, model: &leadcal::scoring::config::ScoringModel) -> data::Dataset {
    let tags = leadcal::scoring::implicit::MatchedEvents::tags(model);
    data::load(dir, &LoadOptions::default(), Some(&tags)).unwrap()
}

fn scores_at(dir: &Path, as_of: &str) -> DataFrame {
    let model =
        leadcal::scoring::config::ScoringModel::from_file(&dir.join("scoring.toml")).unwrap();
    let ds = load_tagged(dir, &model);
    let t = leadcal::timeparse::parse_bound(as_of).unwrap();
    leadcal::scoring::score::score_as_of(&ds, &model, t)
        .unwrap()
        .leads
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
    let model =
        leadcal::scoring::config::ScoringModel::from_file(&dir.join("scoring.toml")).unwrap();
    let ds = load_tagged(&dir, &model);
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
