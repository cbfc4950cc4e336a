//! `leadcal compare`: two runs of the demo world whose differences are known.

use super::*;
use serde_json::Value;

fn calibrate(dir: &Path, model: Option<&Path>) {
    let mut args = vec![
        "calibrate",
        "--since",
        "2023-01",
        "--out",
        dir.to_str().unwrap(),
        "-q",
    ];
    if let Some(m) = model {
        args.extend(["--model", m.to_str().unwrap()]);
    }
    leadcal(&args).code(0);
}

fn compare(old: &Path, new: &Path, extra: &[&str]) -> (Run, Value) {
    let run = leadcal(
        &[
            &["compare", old.to_str().unwrap(), new.to_str().unwrap()][..],
            extra,
        ]
        .concat(),
    );
    run.code(0);
    let dir = run
        .stdout()
        .lines()
        .find_map(|l| {
            l.strip_prefix("wrote ")
                .or_else(|| l.strip_prefix("geschrieben: "))
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| panic!("{}", run.describe()));
    let c =
        serde_json::from_str(&std::fs::read_to_string(dir.join("compare.json")).unwrap()).unwrap();
    (run, c)
}

fn statuses(c: &Value) -> Vec<(String, String)> {
    c["adoption"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["rule"].as_str().unwrap().to_string(),
                a["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn compare_tells_an_adopted_recommendation_from_one_that_was_not() {
    let d = tempfile::tempdir().unwrap();
    let (q1, adopted, kept) = (
        d.path().join("q1"),
        d.path().join("q3-adopted"),
        d.path().join("q3-kept"),
    );
    calibrate(&q1, None);
    // The meeting adopted everything: the next run's live config is q1's recommendation.
    calibrate(&adopted, Some(&q1.join("recommended-scoring.toml")));
    // The meeting adopted nothing: the next run's live config is still the demo's.
    calibrate(&kept, None);
    let rec: Value =
        serde_json::from_str(&std::fs::read_to_string(q1.join("recommendation.json")).unwrap())
            .unwrap();
    let changed: Vec<String> = ["implicit", "explicit"]
        .iter()
        .flat_map(|k| rec["weights"][k].as_array().unwrap().clone())
        .filter(|r| r["current"] != r["recommended"])
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect();
    assert!(changed.len() >= 10);

    let (_, c) = compare(&q1, &adopted, &[]);
    for (rule, status) in statuses(&c) {
        let expected = if changed.contains(&rule) || rule.ends_with("threshold") {
            "adopted"
        } else {
            "unchanged"
        };
        assert_eq!(status, expected, "{rule}");
    }
    // Same data, adopted config: the old back-test promised what the procedure, fitted on the
    // training period, gave on the test period; the written points were refitted on every
    // mature lead, so the new run measures them within the promise's intervals, not to the digit.
    let p = c["promised_vs_measured"].as_array().unwrap();
    assert_eq!(p.len(), 4);
    assert_eq!(p[0]["figure"], "roc_auc");
    assert_eq!(c["first_review"], false);
    for row in p {
        assert_eq!(row["verdict"], "within_intervals", "{row:#}");
    }
    assert_eq!(c["windows_overlap"], true);
    assert!(c["missing"].as_array().unwrap().is_empty(), "{c:#}");

    let (_, c) = compare(&q1, &kept, &["--lang", "de"]);
    for (rule, status) in statuses(&c) {
        let expected =
            if changed.contains(&rule) || rule == "SQL threshold" || rule == "MQL threshold" {
                "not_adopted"
            } else {
                "unchanged"
            };
        assert_eq!(status, expected, "{rule}");
    }
    assert!(c["promised_vs_measured"].as_array().unwrap().is_empty());
    // The same run twice: nothing moved, every segment still flagged, no drift verdict changed.
    for q in c["quality"].as_array().unwrap() {
        assert_eq!(q["old"], q["new"]);
        assert_eq!(q["verdict"], "within_intervals");
    }
    assert!(
        c["segments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "still_flagged")
    );
    assert!(c["drift"].as_array().unwrap().is_empty());

    // The page opens offline; aggregates only: no lead or account id anywhere.
    let out = kept.join("compare-q1");
    let html = std::fs::read_to_string(out.join("compare.html")).unwrap();
    assert!(html.contains("<html lang=\"de\">") && html.contains("nicht übernommen"));
    let english = english_in_german(&readable_text(&html));
    assert!(
        english.is_empty(),
        "English on the German compare page:\n{english:#?}"
    );
    browser_check(&out.join("compare.html"), 0);
    let both = html + &std::fs::read_to_string(out.join("compare.json")).unwrap();
    let ids = regex_free_ids(&both);
    assert!(ids.is_empty(), "ids in the comparison: {ids:?}");
    // Never overwrites: a second comparison goes beside the first.
    let (run, _) = compare(&q1, &kept, &[]);
    run.stdout_has("compare-q1-2");
}

/// Account ids of the demo (`A` and 8 digits) found in `text`.
fn regex_free_ids(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(9))
        .filter(|&i| b[i] == b'A' && b[i + 1..i + 9].iter().all(u8::is_ascii_digit))
        .map(|i| text[i..i + 9].to_string())
        .collect()
}

#[test]
fn a_run_of_an_earlier_version_is_compared_where_it_can_be() {
    let d = tempfile::tempdir().unwrap();
    let (old, new) = (d.path().join("old"), d.path().join("new"));
    calibrate(&new, None);
    // An older run: no rule stability in its metrics, no report data.
    std::fs::create_dir(&old).unwrap();
    let mut m: Value =
        serde_json::from_str(&std::fs::read_to_string(new.join("metrics.json")).unwrap()).unwrap();
    m.as_object_mut().unwrap().remove("rule_stability");
    std::fs::write(old.join("metrics.json"), m.to_string()).unwrap();
    std::fs::copy(
        new.join("recommendation.json"),
        old.join("recommendation.json"),
    )
    .unwrap();
    let (run, c) = compare(&old, &new, &[]);
    run.stdout_has("not compared: the old run has no report-data.json");
    let missing = c["missing"].as_array().unwrap();
    assert!(
        missing
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("rule drift")),
        "{missing:?}"
    );
    assert!(
        missing
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("flagged segments"))
    );
    assert!(!c["quality"].as_array().unwrap().is_empty());
    // A hand-edited recommendation with a wrong type and a hostile string: named, not guessed.
    let mut r: Value =
        serde_json::from_str(&std::fs::read_to_string(new.join("recommendation.json")).unwrap())
            .unwrap();
    r["weights"]["implicit"][0]["current"] = serde_json::json!("<script>alert(1)</script>");
    std::fs::write(old.join("recommendation.json"), r.to_string()).unwrap();
    let (run, c) = compare(&old, &new, &[]);
    run.stdout_has("what was adopted: the old run's recommendation.json: `weights.implicit[0].current` is not a number");
    assert!(c["adoption"].as_array().unwrap().is_empty());
    let out = new.join("compare-old-2");
    assert!(
        !std::fs::read_to_string(out.join("compare.html"))
            .unwrap()
            .contains("<script")
    );
    // An empty file is an error naming it; nothing is written.
    std::fs::write(old.join("metrics.json"), "").unwrap();
    leadcal(&["compare", old.to_str().unwrap(), new.to_str().unwrap()])
        .code(2)
        .stderr_has("metrics.json: line 1, column 0: not a leadcal run file");
    assert!(!new.join("compare-old-3").exists());
    // A folder that is no run is a user error naming it.
    leadcal(&["compare", d.path().to_str().unwrap(), new.to_str().unwrap()])
        .code(2)
        .stderr_has("not a run folder");
}
