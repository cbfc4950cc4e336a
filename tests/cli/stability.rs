//! Rule stability (`metrics.json`'s `rule_stability`) and the decay fitted from the data
//! (`recommendation.json`'s `decay`), on worlds whose truth is known.

use super::*;
use serde_json::Value;

fn metrics_of(data: &Path) -> (tempfile::TempDir, Value) {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    leadcal(&[
        "evaluate",
        "--since",
        "2023-01",
        "--data",
        data.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ])
    .code(0)
    .stdout_has("Rule stability:");
    let m =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    (out, m)
}

fn rule<'a>(m: &'a Value, name: &str) -> &'a Value {
    m["rule_stability"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == name)
        .unwrap_or_else(|| panic!("no rule {name}"))
}

fn abs_z(r: &Value) -> f64 {
    r["drift"]["z"].as_f64().map_or(0.0, f64::abs)
}

#[test]
fn the_planted_webinar_drift_is_the_strongest_change_and_no_other_rule_is_flagged() {
    // notebooks-data/README.md: from 2024-10-01 webinar attendance says nothing about buying.
    let (_keep, m) = metrics_of(&root().join("notebooks-data/demo"));
    let rules = m["rule_stability"].as_array().unwrap();
    let webinar = rule(&m, "webinar_attended");
    assert_eq!(webinar["drift"]["detected"], true, "{webinar:#}");
    assert_eq!(webinar["drift"]["since"], "2024-Q4");
    assert!(webinar["drift"]["q"].as_f64().unwrap() < 0.001);
    let flagged: Vec<&str> = rules
        .iter()
        .filter(|r| r["drift"]["detected"] == true)
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, ["webinar_attended"]);
    for r in rules.iter().filter(|r| r["rule"] != "webinar_attended") {
        assert!(abs_z(r) < abs_z(webinar), "{} moved more: {r:#}", r["rule"]);
    }
    // Every rule (9 behaviour, 13 profile) over every period of the per-period table.
    assert_eq!(rules.len(), 22);
    let periods: Vec<&Value> = m["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["period"])
        .collect();
    for r in rules {
        let got: Vec<&Value> = r["periods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["period"])
            .collect();
        assert_eq!(got, periods);
        for p in r["periods"]
            .as_array()
            .unwrap()
            .iter()
            .chain([&r["training"], &r["test"]])
        {
            // A number only from an estimated fit; never one beside "not enough data".
            let estimated = p["status"] == "estimated";
            assert_eq!(estimated, p["log_odds"].is_number(), "{p:#}");
            assert_eq!(estimated, p["ci"].is_array(), "{p:#}");
            if estimated {
                let (lo, hi) = (p["ci"][0].as_f64().unwrap(), p["ci"][1].as_f64().unwrap());
                assert!(
                    lo < p["log_odds"].as_f64().unwrap() && p["log_odds"].as_f64().unwrap() < hi
                );
            }
        }
    }
    // Periods without mature leads have no estimate.
    let last = webinar["periods"].as_array().unwrap().last().unwrap();
    assert_eq!(last["status"], "not_enough_data");
    assert_eq!(last["leads"], 0);
    // No lead ever lacks a company size: that rule never fired.
    let missing = rule(&m, "company_size missing");
    assert_eq!(missing["training"]["status"], "never_fired");
    assert_eq!(missing["drift"]["detected"], false);
}

/// A copy of the demo world whose events are rewritten by `f`.
fn demo_with_events(f: impl FnOnce(LazyFrame) -> LazyFrame) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let demo = root().join("notebooks-data/demo");
    for name in ["leads.parquet", "outcomes.parquet", "scoring.toml"] {
        std::fs::copy(demo.join(name), d.path().join(name)).unwrap();
    }
    let events = LazyFrame::scan_parquet(
        PlRefPath::from(demo.join("events.parquet").to_str().unwrap()),
        Default::default(),
    )
    .unwrap();
    let mut df = f(events).collect().unwrap();
    let file = std::fs::File::create(d.path().join("events.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();
    d
}

#[test]
fn a_renamed_form_is_flagged_as_a_rule_that_stopped_firing() {
    // From 2025-01-01 (the test period) the demo form sends `demo_request_v2`.
    let from = lit(1_735_689_600_000_000i64); // 2025-01-01, µs
    let d = demo_with_events(|e| {
        e.with_column(
            when(
                col("event_type")
                    .eq(lit("demo_request"))
                    .and(col("occurred_at").cast(DataType::Int64).gt_eq(from)),
            )
            .then(lit("demo_request_v2"))
            .otherwise(col("event_type"))
            .alias("event_type"),
        )
    });
    let (_keep, m) = metrics_of(d.path());
    let r = rule(&m, "demo_request");
    assert_eq!(r["test"]["status"], "never_fired", "{r:#}");
    assert_eq!(r["drift"]["detected"], true, "{r:#}");
    assert_eq!(r["drift"]["kind"], "stopped_firing");
    assert_eq!(r["drift"]["since"], "2025-Q1");
    leadcal(&[
        "evaluate",
        "--since",
        "2023-01",
        "--data",
        d.path().to_str().unwrap(),
        "--out",
        d.path().join("again").to_str().unwrap(),
    ])
    .code(0)
    .stdout_has("demo_request: stopped firing since");
}

/// A world where only recent visits matter: each lead has one burst of interest (visits in the
/// 30 days before it); half the bursts end in a purchase within 40 days. Visits outside a burst
/// are noise, so a visit older than a burst says nothing, and a short window should win.
fn recency_world(dir: &Path) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let day = 86_400i64;
    let start = 1_672_531_200i64; // 2023-01-01
    let (mut leads, mut events, mut outcomes) = (
        String::from("lead_id,created_at,segment\n"),
        String::from("lead_id,occurred_at,event_type\n"),
        String::from("lead_id,stage,reached_at\n"),
    );
    let ts = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    };
    for id in 1..=6000 {
        let created = start + rng.random_range(0..820) * day;
        leads.push_str(&format!("{id},{},{}\n", ts(created), ["a", "b"][id % 2]));
        let burst = created + rng.random_range(0..400) * day;
        for _ in 0..rng.random_range(2..6) {
            events.push_str(&format!(
                "{id},{},visit\n",
                ts(burst - rng.random_range(0..30 * day))
            ));
        }
        for _ in 0..rng.random_range(0..4) {
            events.push_str(&format!(
                "{id},{},visit\n",
                ts(created + rng.random_range(0..500 * day))
            ));
        }
        if rng.random::<f64>() < 0.5 {
            outcomes.push_str(&format!(
                "{id},won,{}\n",
                ts(burst + rng.random_range(1..40) * day)
            ));
        }
    }
    std::fs::write(dir.join("leads.csv"), leads).unwrap();
    std::fs::write(dir.join("events.csv"), events).unwrap();
    std::fs::write(dir.join("outcomes.csv"), outcomes).unwrap();
    std::fs::write(
        dir.join("scoring.toml"),
        "[thresholds]\nmql = 10\nsql = 20\n\n[decay]\nwindow_days = 365   # a year, as the vendor suggests\n\n[[implicit]]\nevent_type = \"visit\"\npoints = 5\n\n[[explicit]]\nattribute = \"segment\"\nvalues = [{ equals = \"a\", points = 5 }]\n",
    )
    .unwrap();
}

#[test]
fn a_short_window_is_recommended_where_only_recent_visits_matter_and_the_back_test_replays_it() {
    let d = tempfile::tempdir().unwrap();
    recency_world(d.path());
    let run = d.path().join("run");
    leadcal(&[
        "calibrate",
        "--since",
        "2023-01",
        "--until",
        "2025-12",
        "--data",
        d.path().to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ])
    .code(0)
    .stdout_has("## How long behaviour points count (decay)");
    let rec: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("recommendation.json")).unwrap())
            .unwrap();
    let global = &rec["decay"][0];
    assert_eq!(global["rule"], "*");
    assert_eq!(
        global["current"],
        serde_json::json!({"kind": "window", "days": 365.0})
    );
    let best = global["recommended"].clone();
    let days = best["days"].as_f64().unwrap_or(f64::INFINITY);
    assert!(best["kind"] != "none" && days <= 90.0, "{global:#}");
    // Ten candidates (nine, and today's setting among them), each with a loss; the
    // recommended one has the lowest among the eligible.
    let c = global["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 9);
    let loss = |s: &Value| {
        c.iter().find(|k| k["setting"] == *s).unwrap()["log_loss"]
            .as_f64()
            .unwrap()
    };
    assert!(
        c.iter()
            .filter(|k| k["eligible"] == true)
            .all(|k| loss(&best) <= k["log_loss"].as_f64().unwrap())
    );
    assert!(global["gain"].as_f64().unwrap() >= 3.0 * global["gain_se"].as_f64().unwrap());
    // Written into the config in the user's layout, and it loads back with that decay.
    let text = std::fs::read_to_string(run.join("recommended-scoring.toml")).unwrap();
    let key = if best["kind"] == "window" {
        "window_days"
    } else {
        "half_life_days"
    };
    assert!(text.contains(&format!("{key} = {days}")), "{text}");
    let back = leadcal::scoring::config::ScoringModel::parse(&text, Path::new("r.toml")).unwrap();
    assert_ne!(
        back.decay,
        leadcal::scoring::config::Decay::Window { days: 365.0 }
    );
    // The back-test replayed that config: it hands over leads on the test period.
    assert!(rec["recommended"]["handovers"].as_u64().unwrap() > 0);
    let changes = std::fs::read_to_string(run.join("changes.md")).unwrap();
    assert!(changes.contains("365-day window →"), "{changes}");
    // The written points were refitted on the visits the short window counts: a recent visit
    // is worth more than a visit of the last year was.
    assert_eq!(
        rec["deployed"]["refitted_under_decay"], true,
        "{}",
        rec["deployed"]
    );
    assert!(
        changes.contains("recounted under the chosen decay"),
        "{changes}"
    );
    let visit = &rec["weights"]["implicit"][0];
    assert_eq!(visit["rule"], "visit");
    let (written, training_only) = (
        visit["recommended"].as_f64().unwrap(),
        rec["validated"]["points"][0].as_f64().unwrap(),
    );
    assert!(
        written > training_only,
        "visit: {written} against {training_only} under the old window"
    );
}
