//! `evaluate`.

use super::*;

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
        .stderr_has("possible values: quarter, 3m, 6m");
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
        let model =
            leadcal::scoring::config::ScoringModel::from_file(&dir.join("scoring.toml")).unwrap();
        let ds = crate::scoring::load_tagged(dir, &model);
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

#[test]
fn psi_is_measured_against_the_training_period_not_a_tiny_first_period() {
    // Olist-like: a first period of a few leads made every PSI read 0.000 (issue 21).
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("run");
    let run = leadcal(&[
        "evaluate",
        "--since",
        "2023-03-30",
        "--out",
        out.to_str().unwrap(),
    ]);
    run.code(0)
        .stdout_has("PSI compares each period's live scores with the training period's");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["psi_baseline"]["period"], "training");
    assert_eq!(m["psi_baseline"]["leads"], m["split"]["train_leads"]);
    let periods = m["periods"].as_array().unwrap();
    assert!(
        periods[0]["evaluable"].as_u64().unwrap() < 30,
        "{:#}",
        periods[0]
    );
    assert!(periods[0]["psi"].is_null(), "too few leads for a PSI");
    let psi: Vec<f64> = periods.iter().filter_map(|p| p["psi"].as_f64()).collect();
    assert!(psi.len() >= 8 && psi.iter().any(|v| *v > 0.01), "{psi:?}");
}

#[test]
fn periods_without_evaluable_leads_show_a_dash_not_minus_zero() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("run");
    let run = leadcal(&[
        "evaluate",
        "--since",
        "2023-01",
        "--out",
        out.to_str().unwrap(),
    ]);
    run.code(0);
    let text = run.stdout();
    let last = text
        .lines()
        .find(|l| l.trim_start().starts_with("2025-Q3"))
        .unwrap();
    assert!(!last.contains("-0"), "{last}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let p = m["periods"].as_array().unwrap().last().unwrap();
    assert_eq!(p["evaluable"], 0);
    assert!(p["sql_handovers_per_month"].is_null(), "{p:#}");
}
