//! A first model: calibrate with no live score to compare against (init's all-zero template, a
//! dataset without events, a model whose rules match nothing).

use super::*;

/// The demo's files `files` copied into a fresh folder, with `leadcal init` run there.
fn demo_with_template(files: &[&str]) -> tempfile::TempDir {
    let demo = root().join("notebooks-data/demo");
    let d = tempfile::tempdir().unwrap();
    for f in files {
        std::fs::copy(demo.join(f), d.path().join(f)).unwrap();
    }
    leadcal_in(d.path(), &["init", "."])
        .code(0)
        .stdout_has("recommends a first model");
    d
}

/// The arguments of `calibrate` with init's template unchanged into `out`.
fn template_args(out: &str) -> Vec<&str> {
    vec![
        "calibrate",
        "--data",
        ".",
        "--model",
        "scoring-template.toml",
        "--since",
        "2023-01",
        "--out",
        out,
    ]
}

/// `calibrate -q` with init's template unchanged into `d/out`, and its recommendation.json.
fn calibrate_template(d: &Path, out: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = template_args(out);
    args.push("-q");
    args.extend(extra);
    leadcal_in(d, &args)
        .code(0)
        .stdout_has("First model: there was no live score to compare against");
    serde_json::from_str(&std::fs::read_to_string(d.join(out).join("recommendation.json")).unwrap())
        .unwrap()
}

/// Rules of the written config with points other than 0.
fn nonzero_rules(run: &Path) -> usize {
    let text = std::fs::read_to_string(run.join("recommended-scoring.toml")).unwrap();
    let m = leadcal::scoring::config::ScoringModel::parse(&text, Path::new("x.toml")).unwrap();
    m.implicit
        .iter()
        .filter(|r| match &r.points {
            leadcal::scoring::config::Points::Each(p) => *p != 0.0,
            leadcal::scoring::config::Points::Progressive(v) => v.iter().any(|p| *p != 0.0),
        })
        .count()
        + m.explicit.iter().filter(|r| r.points != 0.0).count()
}

#[test]
fn inits_all_zero_template_gets_a_first_model_that_ranks_like_the_fitted_model() {
    let d = demo_with_template(&["leads.parquet", "events.parquet", "outcomes.parquet"]);
    let r = calibrate_template(d.path(), "run", &[]);
    let k = &r["ranking"];
    let (rec, model) = (
        k["recommended"]["roc_auc"]["value"].as_f64().unwrap(),
        k["model"]["roc_auc"]["value"].as_f64().unwrap(),
    );
    assert!(
        (rec - model).abs() <= 0.02,
        "first model's test-period ROC AUC {rec} against the fitted model's {model}"
    );
    let f = &r["first_model"];
    assert_eq!(f["all_zero"], true);
    assert_eq!(f["pdo"], 20.0);
    let selected = f["selected"].as_array().unwrap();
    assert!(!selected.is_empty() && selected.len() <= 30, "{f}");
    let written = nonzero_rules(&d.path().join("run"));
    assert!(written > 0 && written <= 30, "{written} rules with points");
    // Negative points are allowed (ignored offers, unsubscribes, students).
    let changes = std::fs::read_to_string(d.path().join("run/changes.md")).unwrap();
    assert!(
        changes.starts_with("# Recommended changes\n\n**This is a first model.**"),
        "{changes}"
    );
    let negative = ["implicit", "explicit"]
        .iter()
        .flat_map(|k| r["weights"][k].as_array().unwrap())
        .any(|c| c["recommended"].as_f64().unwrap() < 0.0);
    assert!(negative, "no negative points:\n{changes}");
    // No "current → recommended" of zeros, no back-test column of a config that hands over
    // nobody, no MQL reason that keeps a ratio today does not have.
    for gone in [
        "| rule | current → recommended | training",
        "today's points",
        "| current (SQL",
        "keeps today's ratio",
    ] {
        assert!(
            !changes.contains(gone),
            "changes.md has {gone:?}:\n{changes}"
        );
    }
    // 0 points is a lead with none of the selected rules; where the average lead's odds sit is
    // stated, read off the written points' probability map.
    let average = r["first_model"]["average_rate"].as_f64().unwrap();
    assert!((average - 655.0 / 6960.0).abs() < 0.02, "{average}");
    assert!(r["first_model"]["average_from"].is_number());
    assert!(changes.contains("on average; from about"), "{changes}");
    // The back-test measures the first model made on the training period only: each rule it
    // gave points is in the table beside the written points, even where those are 0.
    let rules: Vec<&str> = ["implicit", "explicit"]
        .iter()
        .flat_map(|k| r["weights"][k].as_array().unwrap())
        .map(|c| c["rule"].as_str().unwrap())
        .collect();
    for (rule, p) in rules
        .iter()
        .zip(r["validated"]["points"].as_array().unwrap())
    {
        if p.as_f64() != Some(0.0) {
            assert!(
                changes.contains(&format!("| `{rule}` ")),
                "{rule} missing:\n{changes}"
            );
        }
    }
    // Charts of the live score against the model are not drawn for a constant live score; the
    // first model's own points are.
    let run = d.path().join("run");
    for gone in [
        "chart-distribution.png",
        "chart-roc-pr.png",
        "chart-sweep.png",
        "chart-walk.png",
    ] {
        assert!(!run.join(gone).exists(), "{gone} drawn for a first model");
    }
    assert!(run.join("chart-points.png").exists());
    // The report answers for the first model alone: no columns of today's all-zero figures.
    let html = std::fs::read_to_string(d.path().join("run/report.html")).unwrap();
    assert!(html.contains("This is a first model: there was no live score to compare against"));
    for gone in [
        "SQL, current points",
        "today&#39;s points",
        "today's points",
        "live AUC",
    ] {
        assert!(
            !html.contains(gone),
            "the first model's report shows {gone:?}"
        );
    }
    // The default objective is a stated share of leads, since there is no volume to keep.
    assert_eq!(r["objective"]["kind"], "share");
    // A different scale is a different first model, with every point scaled by it.
    let r40 = calibrate_template(d.path(), "run40", &["--pdo", "40"]);
    assert_eq!(r40["weights"]["scaling"]["pdo"], 40.0);
    leadcal_in(d.path(), &["calibrate", "--data", ".", "--pdo", "0", "-q"])
        .code(2)
        .stderr_has("points that double the odds");
}

#[test]
fn a_leads_and_outcomes_only_dataset_gets_a_profile_only_first_model() {
    let d = demo_with_template(&["leads.parquet", "outcomes.parquet"]);
    let r = calibrate_template(d.path(), "run", &[]);
    // The full console output leaves out the constant live score's columns and hand-overs.
    let verbose = leadcal_in(d.path(), &template_args("verbose"));
    verbose
        .code(0)
        .stdout_has("No live score (every lead scores the same): the live columns are left out.")
        .stdout_has("Values that mark converters");
    for gone in [
        "live score               model",
        "Hand-overs at SQL",
        "Conversion by band",
        "live AUC",
    ] {
        assert!(
            !verbose.stdout().contains(gone),
            "{gone:?} in:\n{}",
            verbose.stdout()
        );
    }
    let w = &r["weights"];
    assert!(
        w["implicit"].as_array().unwrap().is_empty(),
        "no behaviour rules"
    );
    let changed = w["explicit"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["recommended"].as_f64() != Some(0.0))
        .count();
    assert!(
        changed > 0,
        "a profile-only first model gives some values points"
    );
    assert!(
        r["ranking"]["recommended"]["roc_auc"]["value"]
            .as_f64()
            .unwrap()
            > 0.6
    );
}

#[test]
fn a_model_whose_rules_match_nothing_gets_a_first_model_that_names_them() {
    // A live model whose only rules match no lead (a hostile value, too): every score is 0.
    let d = demo_with_template(&["leads.parquet", "events.parquet", "outcomes.parquet"]);
    let template = std::fs::read_to_string(d.path().join("scoring-template.toml")).unwrap();
    let model = format!(
        "{template}\n[[explicit]]\nattribute = \"region\"\nvalues = [{{ equals = \"<script>alert(1)</script>\", points = 5 }}]\n\n[[implicit]]\nevent_type = \"webinar_atended\"\npoints = 10\n"
    );
    std::fs::write(d.path().join("live.toml"), model).unwrap();
    let run = leadcal_in(
        d.path(),
        &[
            "calibrate",
            "--data",
            ".",
            "--model",
            "live.toml",
            "--since",
            "2023-01",
            "--out",
            "run",
            "-q",
        ],
    );
    run.code(0)
        .stdout_has("First model: there was no live score to compare against (the live model gives every lead the same score)")
        .stdout_has("Warning: 2 rule(s) of the live model match no lead in this data")
        .stdout_has("webinar_atended");
    let changes = std::fs::read_to_string(d.path().join("run/changes.md")).unwrap();
    assert!(
        changes.contains(
            "match no lead in this data:** `webinar_atended`, `region = <script>alert(1)</script>`"
        ),
        "{changes}"
    );
    // Regression: the written config kept the unmatched rules' live points (10 and 5) while
    // changes.md said they get 0. A first model's scale is its own: they are written as 0.
    let text = std::fs::read_to_string(d.path().join("run/recommended-scoring.toml")).unwrap();
    let m = leadcal::scoring::config::ScoringModel::parse(&text, Path::new("x.toml")).unwrap();
    let webinar = m
        .implicit
        .iter()
        .find(|r| r.event_type == "webinar_atended")
        .unwrap();
    assert_eq!(
        webinar.points,
        leadcal::scoring::config::Points::Each(0.0),
        "{text}"
    );
    assert!(
        m.explicit
            .iter()
            .all(|r| r.name != "region = <script>alert(1)</script>" || r.points == 0.0)
    );
    assert!(changes.contains("no training lead fired this rule; 0 points in a first model"));
}

#[test]
fn the_run_after_a_first_model_is_compared_as_its_first_review() {
    // q1 recommends a first model; the team adopts it, and q3 calibrates it as the live model.
    let d = demo_with_template(&["leads.parquet", "outcomes.parquet"]);
    calibrate_template(d.path(), "q1", &[]);
    leadcal_in(
        d.path(),
        &[
            "calibrate",
            "--data",
            ".",
            "--model",
            "q1/recommended-scoring.toml",
            "--since",
            "2023-01",
            "--out",
            "q3",
            "-q",
        ],
    )
    .code(0);
    let run = leadcal_in(d.path(), &["compare", "q1", "q3", "--out", "c"]);
    run.code(0)
        .stdout_has("First review: q1 recommended a first model");
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("c/compare.json")).unwrap())
            .unwrap();
    assert_eq!(c["first_review"], true);
    assert_eq!(c["old"]["first_model"], true);
    // No live quality "then": q1's constant score (ROC AUC 0.5, nobody handed over) is not a
    // baseline the adopted model beat.
    let quality: Vec<&str> = c["quality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["figure"].as_str().unwrap())
        .collect();
    assert_eq!(quality, ["recommended_roc_auc"]);
    assert!(
        c["missing"][0].as_str().unwrap().contains("first review"),
        "{c:#}"
    );
    // Every rule the first model gave points is adopted; the promise is set against the live
    // score, ranking first. q3's test period lies inside q1's data: said, since it flatters.
    assert!(
        c["adoption"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["status"] == "adopted")
    );
    assert!(
        c["adoption"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| matches!(a["status"].as_str(), Some("adopted" | "unchanged"))),
        "{c:#}"
    );
    let promised: Vec<&str> = c["promised_vs_measured"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["figure"].as_str().unwrap())
        .collect();
    assert_eq!(
        promised,
        [
            "roc_auc",
            "sql_precision",
            "sql_recall",
            "sql_handovers_per_month"
        ]
    );
    // q3 re-reads q1's data: its whole test period was fitted on.
    assert_eq!(c["measured_in_fit"], "whole");
    let html = std::fs::read_to_string(d.path().join("c/compare.html")).unwrap();
    assert!(html.contains("this is the first review of the model it recommended"));
    assert!(html.contains("is in-sample and flatters them"));
    // The other way round, the new run is the first model: nothing of q3's recommendation is
    // live, so nothing is called adopted or not adopted.
    let c2 = leadcal_in(d.path(), &["compare", "q3", "q1", "--out", "c2"]);
    c2.code(0).stdout_has(
        "not compared: what was adopted: the new run's config gives every lead the same score",
    );
    let c2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("c2/compare.json")).unwrap())
            .unwrap();
    assert_eq!(c2["first_review"], false);
    assert!(c2["adoption"].as_array().unwrap().is_empty());
    assert!(c2["promised_vs_measured"].as_array().unwrap().is_empty());
    let html2 = std::fs::read_to_string(d.path().join("c2/compare.html")).unwrap();
    assert!(html2.contains("nothing of the earlier recommendation is live"));
    assert!(!html2.contains("Of the 0 changes"));
    // In German, console and page alike: no English reason left.
    let de = leadcal_in(
        d.path(),
        &["compare", "q3", "q1", "--out", "c2de", "--lang", "de"],
    );
    de.code(0)
        .stdout_has("nicht verglichen: was übernommen wurde: die Konfiguration des neuen Laufs")
        .stdout_has("geschrieben:");
    assert!(!de.stdout().contains("not compared"), "{}", de.stdout());
    let page = std::fs::read_to_string(d.path().join("c2de/compare.html")).unwrap();
    // Page and console alike: no English outside a bracketed first mention (the run
    // folders' own names are quoted or in code).
    for (what, text) in [
        ("page", readable_text(&page)),
        (
            "console",
            de.stdout().replace(d.path().to_str().unwrap(), ""),
        ),
    ] {
        let english = english_in_german(&text);
        assert!(
            english.is_empty(),
            "English in the German compare {what}:\n{english:#?}"
        );
    }
    // The first model's own German page, too (init's template names its bands in English:
    // they are the user's words, to rename in the template).
    leadcal_in(d.path(), &["report", "q1", "--lang", "de", "--out", "q1de"]).code(0);
    let mut text =
        readable_text(&std::fs::read_to_string(d.path().join("q1de/report.html")).unwrap());
    for band in ["cold", "warm", "hot"] {
        text = text.replace(band, " ");
    }
    let english = english_in_german(&text);
    assert!(
        english.is_empty(),
        "English on the first model's German page:\n{english:#?}"
    );
    assert!(page.contains("Qualität des Live-Scores damals und heute: der neue Lauf"));
    assert!(!page.contains("live-score quality then and now"));
    // A first model is told by its constant live score too, when the key is gone; a key of
    // another type is an error naming the file, never a guess.
    let rec = d.path().join("q1/recommendation.json");
    let saved = std::fs::read_to_string(&rec).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&saved).unwrap();
    v.as_object_mut().unwrap().remove("first_model");
    std::fs::write(&rec, serde_json::to_string(&v).unwrap()).unwrap();
    leadcal_in(d.path(), &["compare", "q1", "q3", "--out", "c3"])
        .code(0)
        .stdout_has("First review: q1 recommended a first model");
    v["first_model"] = serde_json::json!("yes");
    std::fs::write(&rec, serde_json::to_string(&v).unwrap()).unwrap();
    leadcal_in(d.path(), &["compare", "q1", "q3", "--out", "c4"])
        .code(2)
        .stderr_has("recommendation.json")
        .stderr_has("key `first_model`: expected an object");
    assert!(!d.path().join("c4").exists());
    std::fs::write(&rec, saved).unwrap();
    // The same run twice is refused; --force replaces only a comparison leadcal wrote, never a run.
    leadcal_in(d.path(), &["compare", "q3", "./q3/", "--out", "c5"])
        .code(2)
        .stderr_has("the same run folder");
    leadcal_in(d.path(), &["compare", "q3", "q1", "--out", "c2", "--force"]).code(0);
    leadcal_in(d.path(), &["compare", "q3", "q1", "--out", "q1", "--force"])
        .code(2)
        .stderr_has("never replaces a folder with an input inside");
    assert!(d.path().join("q1/recommendation.json").exists());
}
