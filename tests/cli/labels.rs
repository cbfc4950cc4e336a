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
        "die Stufe „gewonnen“",
    ] {
        assert!(page.contains(shown), "{shown}");
    }
    assert!(!page.contains("job_level = Student"));
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
fn an_empty_label_is_an_error_naming_the_section() {
    let demo = root().join("notebooks-data/demo");
    let d = tempfile::tempdir().unwrap();
    for f in ["leads.parquet", "events.parquet", "outcomes.parquet"] {
        std::fs::copy(demo.join(f), d.path().join(f)).unwrap();
    }
    std::fs::write(
        d.path().join("dataset.toml"),
        "[leads]\nfile = \"leads.parquet\"\n[events]\nfile = \"events.parquet\"\n[outcomes]\nfile = \"outcomes.parquet\"\n[labels]\njob_level = \" \"\n",
    )
    .unwrap();
    leadcal_in(d.path(), &["validate", "."])
        .code(2)
        .stderr_has("dataset.toml")
        .stderr_has("[labels] \"job_level\"");
}
