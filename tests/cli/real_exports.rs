//! Real export shapes (`tests/fixtures/exports/`, written by its `make_exports.py` with each
//! system's exact headers) go through `init` → `validate` → `calibrate` as a new user runs
//! them, with no hand-made data file; their evaluated and converted leads equal those of the
//! same data written in canonical form (`canonical/`).

use super::*;

/// The shape's raw files (not its canonical form) in a fresh folder.
fn export(shape: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixture(&format!("exports/{shape}"))).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() && p.extension().is_some_and(|x| x == "csv") {
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    dir
}

/// `labels` of `validate --json`: (leads, evaluable, converted).
fn counts(dir: &Path, target: &str) -> (u64, u64, u64) {
    let run = leadcal_in(dir, &["validate", ".", "--json", "--target", target]);
    let v: serde_json::Value = serde_json::from_slice(&run.out.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}", run.describe()));
    let l = &v["labels"];
    let n = |k: &str| l[k].as_u64().unwrap_or_else(|| panic!("{k} in {l}"));
    (n("leads"), n("evaluable"), n("converted"))
}

/// The template `init` wrote, with the points a user types in: 10 on each first value of
/// every rule and every event type.
fn fill_in(template: &Path) -> PathBuf {
    let text = std::fs::read_to_string(template).unwrap();
    let mut out = String::new();
    let mut first = true;
    for line in text.lines() {
        let l = if line.starts_with("[[") {
            first = true;
            line.to_string()
        } else if first && line.contains("points = 0") {
            first = false;
            line.replacen("points = 0", "points = 10", 1)
        } else {
            line.to_string()
        };
        out.push_str(&l);
        out.push('\n');
    }
    let live = template.with_file_name("live-scoring.toml");
    std::fs::write(&live, out).unwrap();
    live
}

/// `init`, `validate` and `calibrate` on the raw export; the counts against the canonical
/// form's. Returns init's and validate's output for further checks.
fn new_user(shape: &str, target: &str) -> (tempfile::TempDir, String, String) {
    let dir = export(shape);
    let init = leadcal_in(dir.path(), &["init", "."]);
    init.code(0);
    let validate = leadcal_in(dir.path(), &["validate", ".", "--target", target]);
    validate.code(0);
    let raw = counts(dir.path(), target);
    let canonical = counts(&fixture(&format!("exports/{shape}/canonical")), target);
    assert_eq!(
        raw, canonical,
        "{shape}: (leads, evaluable, converted) raw vs canonical"
    );
    assert!(
        raw.2 >= 30,
        "{shape}: too few converted leads to calibrate: {raw:?}"
    );
    let live = fill_in(&dir.path().join("scoring-template.toml"));
    let out = dir.path().join("run");
    leadcal_in(
        dir.path(),
        &[
            "calibrate",
            "--data",
            ".",
            "--model",
            live.to_str().unwrap(),
            "--target",
            target,
            "--out",
            out.to_str().unwrap(),
            "-q",
        ],
    )
    .code(0);
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert!(metrics.is_object());
    (dir, init.stdout(), validate.stdout())
}

#[test]
fn olist_two_tables_are_recognised_and_calibrate() {
    let (dir, init, _) = new_user("olist", "won");
    assert!(
        init.contains("leads     olist_marketing_qualified_leads_dataset.csv"),
        "{init}"
    );
    assert!(
        init.contains("outcomes  olist_closed_deals_dataset.csv"),
        "{init}"
    );
    let toml = std::fs::read_to_string(dir.path().join("dataset.toml")).unwrap();
    assert!(toml.contains("stage = \"won\""), "{toml}");
    // The header gives the leads' own range: the last MQL came on 31 May 2018; the later
    // won dates set the data end only.
    let m = metrics(dir.path());
    assert_eq!(m["window"]["last_created"], "2018-05-31", "{}", m["window"]);
    assert!(
        m["window"]["until"].as_str().unwrap() > "2018-06",
        "{}",
        m["window"]
    );
    let page = std::fs::read_to_string(dir.path().join("run/report.html")).unwrap();
    // The dates are links to the appendix: the header is read as text.
    let text = without_tags(&page);
    assert!(
        text.contains("Leads created 1 Jun 2017 to 31 May 2018"),
        "header"
    );
}

fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run/metrics.json")).unwrap()).unwrap()
}

#[test]
fn maven_pipeline_with_accounts_loads_from_a_dataset_toml_alone() {
    let (dir, init, validate) = new_user("maven", "won");
    assert!(init.contains("leads     sales_pipeline.csv"), "{init}");
    assert!(init.contains("accounts  accounts.csv"), "{init}");
    assert!(
        init.contains("not used  sales_teams.csv (a lookup of the leads' `sales_agent`"),
        "{init}"
    );
    assert!(validate.contains("168 of 2,800 rows are not leads ([leads.rows]) and are left out: 168 of stage `Prospecting`"), "{validate}");
    assert!(
        validate.contains("25 have no account and 53 name an account"),
        "{validate}"
    );
    assert!(
        validate.contains("`subsidiary_of` holds other accounts' ids"),
        "{validate}"
    );
    // The accounts' firmographics are attributes; the agent's name is not.
    for a in ["sector", "employees", "revenue"] {
        assert!(
            validate.lines().any(|l| l.trim_start().starts_with(a)),
            "{a}\n{validate}"
        );
    }
    let template = std::fs::read_to_string(dir.path().join("scoring-template.toml")).unwrap();
    assert!(template.contains("attribute = \"sector\""), "{template}");
    assert!(
        !template.contains("sales_agent"),
        "a person's name reached the template"
    );
}

#[test]
fn salesforce_report_exports_load_in_both_locales() {
    for shape in ["salesforce-us", "salesforce-de"] {
        let (dir, init, validate) = new_user(shape, "converted");
        assert!(init.contains("a salesforce export"), "{init}");
        assert!(
            validate.contains("the last 6 lines are the footer a Salesforce report export appends"),
            "{validate}"
        );
        let revenue = validate
            .lines()
            .find(|l| l.trim_start().starts_with("Annual Revenue"))
            .unwrap_or_else(|| panic!("{validate}"));
        assert!(revenue.contains("float"), "{shape}: {revenue}");
        for state in ["Lead Status", "Rating", "Company / Account"] {
            assert!(
                !validate.lines().any(|l| l.trim_start().starts_with(state)),
                "{state} is today's state\n{validate}"
            );
        }
        let _ = dir;
    }
}

#[test]
fn marketo_outcomes_come_from_the_activity_log() {
    let (dir, init, _) = new_user("marketo", "won");
    assert!(init.contains("outcomes  activities.csv"), "{init}");
    let template = std::fs::read_to_string(dir.path().join("scoring-template.toml")).unwrap();
    assert!(
        template.contains("event_type = \"fill_out_form\""),
        "{template}"
    );
    assert!(
        !template.contains("attribute = \"updatedAt\""),
        "{template}"
    );
}

#[test]
fn hubspot_companies_become_attributes_of_their_contacts() {
    let (_dir, init, validate) = new_user("hubspot-companies", "won");
    assert!(
        init.contains("leads     hubspot-crm-exports-all-contacts-2023-12-31.csv"),
        "{init}"
    );
    assert!(
        init.contains("accounts  hubspot-crm-exports-all-companies-2023-12-31.csv"),
        "{init}"
    );
    assert!(
        validate.contains("74 have no account and 25 name an account"),
        "{validate}"
    );
    assert!(
        validate
            .lines()
            .any(|l| l.trim_start().starts_with("Industry")),
        "{validate}"
    );
    assert!(!validate.contains("Company name"), "{validate}");
}

#[test]
fn init_without_an_outcome_source_says_so_and_template_only_reuses_a_dataset_toml() {
    let dir = export("olist");
    std::fs::remove_file(dir.path().join("olist_closed_deals_dataset.csv")).unwrap();
    leadcal_in(dir.path(), &["init", "."])
        .code(0)
        .stdout_has("NO OUTCOME SOURCE FOUND");
    std::fs::remove_file(dir.path().join("scoring-template.toml")).unwrap();
    leadcal_in(dir.path(), &["init", "."])
        .code(2)
        .stderr_has("leadcal init --template-only");
    leadcal_in(dir.path(), &["init", "--template-only", "."])
        .code(0)
        .stdout_has("scoring-template.toml from");
}

#[test]
fn calibrate_outside_the_repository_says_no_dataset_was_given() {
    let dir = tempfile::tempdir().unwrap();
    let run = leadcal_in(dir.path(), &["calibrate", "--since", "2023-01"]);
    run.code(2)
        .stderr_has("no dataset was given")
        .stderr_has("--data")
        .stderr_lacks("line 0");
    // A missing model names no line either.
    let data = export("olist");
    leadcal_in(data.path(), &["init", "."]).code(0);
    leadcal_in(data.path(), &["calibrate"])
        .code(2)
        .stderr_has("this folder has a dataset.toml: --data .");
    leadcal_in(data.path(), &["calibrate", "--data", "."])
        .code(2)
        .stderr_has("scoring.toml: no such file")
        .stderr_lacks("line 0");
}
