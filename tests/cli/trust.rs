//! Inputs that gave a confident wrong number: a column that gives the outcome away, one lead
//! with millions of events. Each test plants the case in a 3,000-lead demo world and checks
//! the number that used to be wrong.

use super::*;

fn write_parquet(mut df: DataFrame, p: &Path) {
    ParquetWriter::new(std::fs::File::create(p).unwrap())
        .finish(&mut df)
        .unwrap();
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A demo world of `leads` leads in `dir/world`.
fn world(dir: &Path, leads: &str) -> PathBuf {
    let w = dir.join("world");
    leadcal(&["demo", "--out", w.to_str().unwrap(), "--leads", leads]).code(0);
    w
}

/// `leadcal calibrate --since 2023-01` on `data` into `out`.
fn calibrate(data: &Path, out: &Path) -> Run {
    leadcal(&[
        "calibrate",
        "--data",
        data.to_str().unwrap(),
        "--since",
        "2023-01",
        "--out",
        out.to_str().unwrap(),
    ])
}

/// Lead ids that reached `stage`.
fn reached(world: &Path, stage: &str) -> std::collections::HashSet<i64> {
    let o = read_parquet(&world.join("outcomes.parquet"));
    let ids = o.column("lead_id").unwrap().i64().unwrap();
    let st = o.column("stage").unwrap().str().unwrap();
    ids.iter()
        .zip(st.iter())
        .filter(|(_, s)| *s == Some(stage))
        .filter_map(|(i, _)| i)
        .collect()
}

#[test]
fn a_status_column_that_gives_the_outcome_away_is_left_out_of_model_segments_and_recommendation() {
    let d = tempfile::tempdir().unwrap();
    let w = world(d.path(), "3000");
    // Salesforce's "Lead Status": today's state, written after the sale.
    let won = reached(&w, "won");
    let mut leads = read_parquet(&w.join("leads.parquet"));
    let status: Vec<String> = leads
        .column("lead_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|i| {
            let i = i.unwrap();
            if won.contains(&i) {
                "Closed - Converted".to_string()
            } else {
                ["Open", "Working", "Nurture"][i as usize % 3].to_string()
            }
        })
        .collect();
    leads
        .with_column(Column::new("Lead Status".into(), status))
        .unwrap();
    write_parquet(leads, &w.join("leads.parquet"));
    let run = d.path().join("run");
    let r = calibrate(&w, &run);
    r.code(0).stdout_has(
        "Left out: column `Lead Status` gives the outcome away: its name says the lead's current state; on its own it ranks converters with ROC AUC",
    );
    let m = json(&run.join("metrics.json"));
    let skipped = m["model"]["skipped_attributes"].as_array().unwrap();
    let leak = skipped
        .iter()
        .find(|s| s["attribute"] == "Lead Status")
        .unwrap_or_else(|| panic!("{skipped:?}"));
    assert_eq!(leak["leak"]["sign"], "name");
    assert!(leak["leak"]["auc"].as_f64().unwrap() > 0.9, "{leak}");
    assert_eq!(leak["leak"]["value"], "Closed - Converted");
    // The model is honest again: far from the 0.998 the leak gave it.
    let auc = m["test"]["model"]["roc_auc"]["value"]
        .as_f64()
        .or_else(|| m["test"]["model"]["roc_auc"].as_f64())
        .unwrap_or_else(|| panic!("{}", m["test"]["model"]));
    assert!(auc < 0.9, "model AUC {auc}");
    // Nothing the meeting acts on mentions the column.
    for f in [
        "segments.json",
        "segments.csv",
        "recommendation.json",
        "recommended-scoring.toml",
        "changes.md",
    ] {
        let text = std::fs::read_to_string(run.join(f)).unwrap();
        assert!(
            !text.contains("Lead Status"),
            "{f} mentions the leaking column"
        );
    }
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(page.contains("Columns that give the outcome away (left out)"));
    // Listed as deliberate in dataset.toml, it is used (and not called a leak).
    std::fs::write(
        w.join("dataset.toml"),
        "[leads]\nfile = \"leads.parquet\"\ndeliberate_attributes = [\"Lead Status\"]\n\n[events]\nfile = \"events.parquet\"\n\n[outcomes]\nfile = \"outcomes.parquet\"\n",
    )
    .unwrap();
    let run2 = d.path().join("run2");
    let r = leadcal(&[
        "evaluate",
        "--data",
        w.join("dataset.toml").to_str().unwrap(),
        "--model",
        w.join("scoring.toml").to_str().unwrap(),
        "--since",
        "2023-01",
        "--out",
        run2.to_str().unwrap(),
    ]);
    r.code(0);
    assert!(
        !r.stdout().contains("Left out: column `Lead Status`"),
        "{}",
        r.stdout()
    );
}

#[test]
fn one_lead_with_200000_events_moves_the_recommendation_only_within_rounding() {
    let d = tempfile::tempdir().unwrap();
    let w = world(d.path(), "3000");
    let run = |out: &Path| {
        let r = calibrate(&w, out);
        r.code(0);
        (r.stdout(), json(&out.join("recommendation.json")))
    };
    let (_, before) = run(&d.path().join("before"));
    // A lead of the training period that never bought gets 200,000 page views (a bot, a
    // monitoring script) in its first day.
    let leads = read_parquet(&w.join("leads.parquet"));
    let won = reached(&w, "won");
    let ids = leads.column("lead_id").unwrap().i64().unwrap();
    let created = leads.column("created_at").unwrap();
    let k = (0..leads.height())
        .find(|&k| !won.contains(&ids.get(k).unwrap()) && k > 200)
        .unwrap();
    let (id, at) = (ids.get(k).unwrap(), created.get(k).unwrap());
    let mut events = read_parquet(&w.join("events.parquet"));
    let n = 200_000;
    let mut extra = events.head(Some(1));
    extra = extra
        .lazy()
        .with_columns([
            lit(id)
                .cast(events.column("lead_id").unwrap().dtype().clone())
                .alias("lead_id"),
            lit(at.try_extract::<i64>().unwrap())
                .cast(events.column("occurred_at").unwrap().dtype().clone())
                .alias("occurred_at"),
            lit("pricing_page_view")
                .cast(events.column("event_type").unwrap().dtype().clone())
                .alias("event_type"),
        ])
        .collect()
        .unwrap();
    let extra = extra.new_from_index(0, n);
    events.vstack_mut(&extra).unwrap();
    write_parquet(events, &w.join("events.parquet"));
    let (stdout, after) = run(&d.path().join("after"));
    assert!(
        stdout.contains("Capped: rule `pricing_page_view` counted as"),
        "{stdout}"
    );
    // The scale, thresholds and every rule's points as without the lead, within rounding.
    for key in ["mql", "sql"] {
        let (a, b) = (before[key].as_f64().unwrap(), after[key].as_f64().unwrap());
        assert!((a - b).abs() <= 1.0, "{key}: {a} -> {b}");
    }
    for kind in ["implicit", "explicit"] {
        let (a, b) = (
            before["weights"][kind].as_array().unwrap(),
            after["weights"][kind].as_array().unwrap(),
        );
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            let (p, q) = (
                x["recommended"].as_f64().unwrap(),
                y["recommended"].as_f64().unwrap(),
            );
            assert!((p - q).abs() <= 1.0, "{}: {p} -> {q}", x["rule"]);
        }
    }
}
