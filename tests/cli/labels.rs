//! Display labels: `dataset.toml`'s `[labels]` on the page and the charts, never in the files
//! a program reads.

use super::*;

#[test]
fn labels_rename_names_on_the_page_and_leave_the_json_files_alone() {
    let demo = root().join("notebooks-data/demo");
    let d = tempfile::tempdir().unwrap();
    for f in [
        "leads.parquet",
        "events.parquet",
        "outcomes.parquet",
        "scoring.toml",
    ] {
        std::fs::copy(demo.join(f), d.path().join(f)).unwrap();
    }
    leadcal_in(d.path(), &["init", "."]).code(0);
    let toml = d.path().join("dataset.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    // init labels every name with itself, for the user to overwrite.
    for line in [
        "[labels]",
        "\"job_level\" = \"job_level\"",
        "\"Content Syndication\" = \"Content Syndication\"",
        "\"webinar_attended\" = \"webinar_attended\"",
        "\"won\" = \"won\"",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    let calibrate = |out: &str| {
        leadcal_in(
            d.path(),
            &[
                "calibrate",
                "--data",
                ".",
                "--model",
                "scoring.toml",
                "--since",
                "2023-01",
                "--lang",
                "de",
                "-q",
                "--out",
                out,
            ],
        )
        .code(0);
    };
    calibrate("plain");
    let mut labelled = text.clone();
    for (raw, label) in [
        ("job_level", "Position"),
        ("Student", "Studierende"),
        ("Content Syndication", "Content-Syndizierung"),
        ("webinar_attended", "Webinar besucht"),
        ("won", "gewonnen"),
    ] {
        labelled = labelled.replace(
            &format!("\"{raw}\" = \"{raw}\""),
            &format!("\"{raw}\" = \"{label}\""),
        );
    }
    // A label of something the report never names (a lead id) stays out of its files.
    labelled.push_str("\"lead-000123\" = \"Max Mustermann\"\n");
    std::fs::write(&toml, &labelled).unwrap();
    calibrate("labelled");
    let read = |run: &str, f: &str| std::fs::read_to_string(d.path().join(run).join(f)).unwrap();
    // What a program reads keeps the raw names.
    for f in [
        "metrics.json",
        "segments.json",
        "recommendation.json",
        "segments.csv",
        "changes.md",
        "recommended-scoring.toml",
    ] {
        assert_eq!(read("plain", f), read("labelled", f), "{f}");
    }
    let data: serde_json::Value =
        serde_json::from_str(&read("labelled", "report-data.json")).unwrap();
    assert!(!read("labelled", "report-data.json").contains("Max Mustermann"));
    assert_eq!(data["labels"]["job_level"], "Position");
    assert_eq!(
        data["labels"].as_object().unwrap().len(),
        5,
        "{}",
        data["labels"]
    );
    let plain: serde_json::Value =
        serde_json::from_str(&read("plain", "report-data.json")).unwrap();
    assert!(
        plain.get("labels").is_none(),
        "labels equal to their names are not kept"
    );
    // The page uses them, whole names only.
    let page = read("labelled", "report.html");
    for shown in [
        "Position = Studierende",
        "source = Content-Syndizierung",
        "Webinar besucht",
        "die Stufe „<span class=\"nm\">gewonnen</span>“",
    ] {
        assert!(page.contains(shown), "{shown}");
    }
    assert!(!page.contains("job_level = Student"));
    // `compare` uses the newer run's labels on its page.
    leadcal_in(
        d.path(),
        &[
            "compare", "plain", "labelled", "--lang", "de", "--out", "cmp",
        ],
    )
    .code(0);
    let cmp = std::fs::read_to_string(d.path().join("cmp/compare.html")).unwrap();
    assert!(cmp.contains("Position = Studierende"), "{cmp}");
    // `report` renders the same page from report-data.json alone.
    let alone = d.path().join("alone");
    std::fs::create_dir(&alone).unwrap();
    std::fs::write(
        alone.join("report-data.json"),
        read("labelled", "report-data.json"),
    )
    .unwrap();
    leadcal(&[
        "report",
        alone.to_str().unwrap(),
        "--lang",
        "de",
        "--out",
        alone.join("page").to_str().unwrap(),
    ])
    .code(0);
    let again = std::fs::read_to_string(alone.join("page/report.html")).unwrap();
    assert!(again.contains("Position = Studierende") && again.contains("Webinar besucht"));
}

#[test]
fn labels_that_would_mislead_are_errors_naming_the_line() {
    let demo = root().join("notebooks-data/demo");
    let d = tempfile::tempdir().unwrap();
    for f in ["leads.parquet", "events.parquet", "outcomes.parquet"] {
        std::fs::copy(demo.join(f), d.path().join(f)).unwrap();
    }
    let tables = "[leads]\nfile = \"leads.parquet\"\n[events]\nfile = \"events.parquet\"\n[outcomes]\nfile = \"outcomes.parquet\"\n[labels]\n";
    for (labels, says) in [
        // Empty or blank: nothing to show.
        ("job_level = \"   \"\n", "the label is empty"),
        // Two names shown alike: two rows of the report would look the same.
        (
            "\"Trade Show\" = \"Messe\"\n\"Referral\" = \"Messe\"\n",
            "would both show as \"Messe\"",
        ),
        // Another name's own word.
        (
            "job_level = \"industry\"\nindustry = \"industry\"\n",
            "would both show as \"industry\"",
        ),
        // A character a reader cannot see, or one that reorders the text on screen.
        ("APAC = \"A\\u202eB\"\n", "invisible character U+202E"),
        ("APAC = \"A\\u0000B\"\n", "invisible character U+0000"),
    ] {
        std::fs::write(d.path().join("dataset.toml"), format!("{tables}{labels}")).unwrap();
        leadcal_in(d.path(), &["validate", "."])
            .code(2)
            .stderr_has("dataset.toml")
            .stderr_has("[labels]")
            .stderr_has(says);
    }
}
