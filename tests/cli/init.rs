//! `leadcal init`: from an export folder as a German HubSpot portal writes it to a calibrated
//! review, without editing dataset.toml by hand.

use super::*;

/// The committed demo world as a German HubSpot portal exports it: contacts with `;`, dates as
/// 01.03.2024 10:15:00, a revenue written 1.234,50, one date column per lifecycle stage, and the
/// email events keyed by the contact's address.
fn german_hubspot_world(dir: &Path) {
    let demo = root().join("notebooks-data/demo");
    let leads = read_parquet(&demo.join("leads.parquet"));
    let outcomes = read_parquet(&demo.join("outcomes.parquet"));
    let de = |c: &str| col(c).dt().strftime("%d.%m.%Y %H:%M:%S");
    let stages = [
        ("sql", "Became a Sales Qualified Lead Date"),
        ("won", "Became a Customer Date"),
    ];
    let mut contacts = with_stage_dates(&leads, &outcomes, &stages)
        .with_columns([
            de("created_at"),
            de("Became a Sales Qualified Lead Date"),
            de("Became a Customer Date"),
        ])
        .collect()
        .unwrap();
    let address = |id: i64| format!("kontakt{id}@beispiel.de");
    let ids: Vec<i64> = contacts
        .column("lead_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    let emails: Vec<String> = ids.iter().map(|&i| address(i)).collect();
    // A revenue as the portal writes it: 1.234,50.
    let german = |n: i64| {
        let int = n.to_string();
        let mut grouped = String::new();
        for (k, ch) in int.chars().enumerate() {
            if k > 0 && (int.len() - k).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        format!("{grouped},50")
    };
    let revenue: Vec<Option<String>> = contacts
        .column("company_size")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|v| v.map(|n| german(n * 1234)))
        .collect();
    contacts
        .with_column(Column::new("Email".into(), emails))
        .unwrap();
    contacts
        .with_column(Column::new("Jahresumsatz".into(), revenue))
        .unwrap();
    let mut contacts = contacts
        .lazy()
        .rename(
            ["lead_id", "created_at"],
            ["Record ID", "Create Date"],
            true,
        )
        .collect()
        .unwrap();
    let csv = |df: &mut DataFrame, name: &str| {
        let mut f = std::fs::File::create(dir.join(name)).unwrap();
        CsvWriter::new(&mut f)
            .with_separator(b';')
            .finish(df)
            .unwrap();
    };
    csv(&mut contacts, "contacts.csv");
    let mut events = read_parquet(&demo.join("events.parquet"))
        .lazy()
        .select([
            col("lead_id"),
            col("event_type").alias("type"),
            de("occurred_at").alias("created"),
        ])
        .collect()
        .unwrap();
    let recipients: Vec<String> = events
        .column("lead_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|v| address(v.unwrap()))
        .collect();
    let n = events.height();
    events
        .with_column(Column::new("recipient".into(), recipients))
        .unwrap();
    events
        .with_column(Column::new("id".into(), (0..n as i64).collect::<Vec<_>>()))
        .unwrap();
    let mut events = events
        .select(["id", "recipient", "type", "created"])
        .unwrap();
    csv(&mut events, "email_event.csv");
}

/// The demo's live points for the event types an email-event export holds.
const LIVE_POINTS: [(&str, i64); 9] = [
    ("email_open", 1),
    ("email_click", 3),
    ("download", 10),
    ("webinar_attended", 15),
    ("pricing_page_view", 3),
    ("demo_request", 30),
    ("careers_page_view", 5),
    ("offer_ignored", -10),
    ("email_unsubscribe", -20),
];

#[test]
fn init_then_validate_then_calibrate_on_a_german_hubspot_export() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("export");
    std::fs::create_dir(&dir).unwrap();
    german_hubspot_world(&dir);
    let p = dir.to_str().unwrap();
    let init = leadcal(&["init", p]);
    init.code(0)
        .stdout_has("a hubspot export")
        .stdout_has("scoring-template.toml");
    let toml = std::fs::read_to_string(dir.join("dataset.toml")).unwrap();
    for want in [
        "preset = \"hubspot\"",
        "decimal = \",\"",
        "Jahresumsatz",
        "ignore_columns = [\"Email\"]",
    ] {
        assert!(toml.contains(want), "dataset.toml lacks {want}:\n{toml}");
    }
    // Never overwritten.
    leadcal(&["init", p]).code(2).stderr_has("never overwrites");
    assert_eq!(
        std::fs::read_to_string(dir.join("dataset.toml")).unwrap(),
        toml
    );
    leadcal(&["validate", p]).code(0).stdout_has("Jahresumsatz");
    // The analyst types the live points into the template.
    let template = std::fs::read_to_string(dir.join("scoring-template.toml")).unwrap();
    let mut filled = String::new();
    let mut event = None;
    for line in template.lines() {
        if let Some(t) = line.strip_prefix("event_type = ") {
            event = Some(t.trim_matches('"').to_string());
        }
        match (&event, line.starts_with("points = 0")) {
            (Some(e), true) => {
                let pts = LIVE_POINTS.iter().find(|(t, _)| t == e).map_or(0, |p| p.1);
                filled.push_str(&format!("points = {pts}\n"));
                event = None;
            }
            _ => {
                filled.push_str(line);
                filled.push('\n');
            }
        }
    }
    let model = dir.join("live-scoring.toml");
    std::fs::write(&model, filled).unwrap();
    let run = d.path().join("run");
    let cal = leadcal(&[
        "calibrate",
        "--since",
        "2023-01",
        "--data",
        p,
        "--model",
        model.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ]);
    cal.code(0).stdout_has("Recommended changes");
    // No address reaches any output.
    let mut outputs = cal.stdout() + &cal.stderr() + &init.stdout();
    for (name, bytes) in files_in(&run) {
        if !name.ends_with(".png") {
            outputs.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    assert!(
        !outputs.contains("@beispiel.de"),
        "an address reached an output"
    );
}

fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
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
fn init_recognises_every_preset_fixture_and_writes_what_it_loads_as() {
    for preset in [
        "hubspot",
        "salesforce",
        "marketo",
        "account-engagement",
        "mautic",
    ] {
        let d = tempfile::tempdir().unwrap();
        for (name, bytes) in files_in(&fixture(&format!("presets/{preset}"))) {
            if name.ends_with(".csv") {
                std::fs::write(d.path().join(name), bytes).unwrap();
            }
        }
        let p = d.path().to_str().unwrap();
        leadcal(&["init", p])
            .code(0)
            .stdout_has(&format!("a {preset} export"));
        let toml = std::fs::read_to_string(d.path().join("dataset.toml")).unwrap();
        assert!(toml.contains(&format!("preset = \"{preset}\"")), "{toml}");
        // What init wrote loads as the fixture's own dataset.toml does, leads and events alike.
        let ours = data::load(d.path(), &LoadOptions::default(), None).unwrap();
        let theirs = data::load(
            &fixture(&format!("presets/{preset}")),
            &LoadOptions::default(),
            None,
        )
        .unwrap();
        assert_eq!(ours.leads, theirs.leads, "{preset}");
        assert_eq!(
            ours.report
                .tables
                .iter()
                .map(|t| t.rows_used)
                .collect::<Vec<_>>()[..2],
            theirs
                .report
                .tables
                .iter()
                .map(|t| t.rows_used)
                .collect::<Vec<_>>()[..2],
            "{preset}"
        );
        let template = std::fs::read_to_string(d.path().join("scoring-template.toml")).unwrap();
        leadcal::scoring::config::ScoringModel::parse(&template, &d.path().join("t.toml"))
            .unwrap_or_else(|e| panic!("{preset}: the template does not load: {e}"));
    }
}

#[test]
fn init_detects_a_windows_1252_or_utf_16_export_and_writes_its_encoding() {
    // The good fixture's leads with a German header, saved as Excel saves "CSV
    // (Trennzeichen-getrennt)" (Windows-1252) and "Unicode text" (UTF-16 with a mark).
    let leads = std::fs::read_to_string(fixture("good/leads.csv"))
        .unwrap()
        .replace("company_size", "Unternehmensgröße");
    let cp1252: Vec<u8> = leads
        .chars()
        .map(|c| match c {
            'ö' => 0xF6,
            'ß' => 0xDF,
            c => c as u8,
        })
        .collect();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(leads.encode_utf16().flat_map(|u| u.to_le_bytes()));
    for (bytes, label) in [(cp1252, "windows-1252"), (utf16, "utf-16")] {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("leads.csv"), &bytes).unwrap();
        std::fs::copy(fixture("good/outcomes.csv"), d.path().join("outcomes.csv")).unwrap();
        leadcal(&["init", d.path().to_str().unwrap()]).code(0);
        let toml = std::fs::read_to_string(d.path().join("dataset.toml")).unwrap();
        assert!(toml.contains(&format!("encoding = \"{label}\"")), "{toml}");
        let template = std::fs::read_to_string(d.path().join("scoring-template.toml")).unwrap();
        assert!(template.contains("Unternehmensgröße"), "{template}");
        leadcal(&["validate", d.path().to_str().unwrap()])
            .code(0)
            .stdout_has("Unternehmensgröße");
        // The user's file is only read.
        assert_eq!(std::fs::read(d.path().join("leads.csv")).unwrap(), bytes);
    }
}
