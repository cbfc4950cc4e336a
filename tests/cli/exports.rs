//! Exports as CRMs write them: outcomes as one date column per stage (HubSpot), a lone
//! conversion date, and a table of won deals without a stage column.

use super::*;

/// HubSpot's label for the date a contact reached each of the demo's stages.
const HUBSPOT_STAGE_DATES: [(&str, &str); 3] = [
    ("sql", "Became a Sales Qualified Lead Date"),
    ("won", "Became a Customer Date"),
    ("lost", "Became a Lost Date"),
];

/// metrics.json without the two lines that name the input folders.
fn metrics_without_paths(dir: &Path) -> serde_json::Value {
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let w = m["window"].as_object_mut().unwrap();
    w.remove("dataset");
    w.remove("live_model");
    m
}

#[test]
fn a_hubspot_style_export_of_the_demo_gives_the_demo_s_metrics() {
    let demo = root().join("notebooks-data/demo");
    let d = tempfile::tempdir().unwrap();
    let export = d.path().join("hubspot");
    std::fs::create_dir(&export).unwrap();
    // Contacts: HubSpot's labels, text times, and the outcomes as one date column per stage
    // (the first time each stage was reached).
    let leads = read_parquet(&demo.join("leads.parquet"));
    let outcomes = read_parquet(&demo.join("outcomes.parquet"));
    let stages: Vec<String> = outcomes
        .column("stage")
        .unwrap()
        .str()
        .unwrap()
        .unique()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    for s in &stages {
        assert!(
            HUBSPOT_STAGE_DATES.iter().any(|(k, _)| k == s),
            "the demo has a stage `{s}` this test does not map"
        );
    }
    let mut contacts = with_stage_dates(&leads, &outcomes, &HUBSPOT_STAGE_DATES)
        .rename(
            ["lead_id", "created_at"],
            ["Record ID", "Create Date"],
            true,
        )
        .collect()
        .unwrap();
    let mut f = std::fs::File::create(export.join("contacts.csv")).unwrap();
    CsvWriter::new(&mut f)
        .with_datetime_format(Some("%Y-%m-%d %H:%M:%S%.6f".into()))
        .finish(&mut contacts)
        .unwrap();
    std::fs::copy(demo.join("events.parquet"), export.join("events.parquet")).unwrap();
    std::fs::copy(demo.join("scoring.toml"), export.join("scoring.toml")).unwrap();
    let mut toml = String::from(
        "[leads]\nfile = \"contacts.csv\"\n\n[leads.columns]\nlead_id = \"Record ID\"\ncreated_at = \"Create Date\"\n\n[leads.stage_dates]\n",
    );
    for (stage, label) in HUBSPOT_STAGE_DATES {
        toml.push_str(&format!("{stage} = \"{label}\"\n"));
    }
    toml.push_str("\n[events]\nfile = \"events.parquet\"\n");
    std::fs::write(export.join("dataset.toml"), toml).unwrap();
    // The same analysis on both.
    let (a, b) = (d.path().join("canonical"), d.path().join("from-hubspot"));
    for (data, out) in [(&demo, &a), (&export, &b)] {
        leadcal(&[
            "evaluate",
            "--since",
            "2023-01",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .code(0);
    }
    let (ma, mb) = (metrics_without_paths(&a), metrics_without_paths(&b));
    assert!(
        ma["labels"]["converted"].as_u64().unwrap() > 100,
        "{}",
        ma["labels"]
    );
    assert_eq!(ma["labels"], mb["labels"], "evaluated and converted counts");
    assert_eq!(ma, mb, "every metric");
}

#[test]
fn a_table_of_won_deals_needs_no_stage_column() {
    let d = tempfile::tempdir().unwrap();
    let good = fixture("good");
    std::fs::copy(good.join("leads.csv"), d.path().join("leads.csv")).unwrap();
    // Olist's closed deals: one row per won deal, its lead id and the day it was won.
    std::fs::write(
        d.path().join("closed_deals.csv"),
        "mql_id,won_date,declared_monthly_revenue\n101,2023-04-01 10:00:00,25000\n104,2023-05-15 16:30:00,0\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("dataset.toml"),
        "[leads]\nfile = \"leads.csv\"\n\n[outcomes]\nfile = \"closed_deals.csv\"\nstage = \"won\"\n\n[outcomes.columns]\nlead_id = \"mql_id\"\nreached_at = \"won_date\"\namount = \"declared_monthly_revenue\"\n",
    )
    .unwrap();
    let ds = data::load(
        &d.path().join("dataset.toml"),
        &LoadOptions::default(),
        None,
    )
    .unwrap();
    let o = ds.outcomes.as_ref().unwrap();
    assert_eq!(o.height(), 2);
    let stages: Vec<Option<&str>> = o.column("stage").unwrap().str().unwrap().iter().collect();
    assert_eq!(stages, [Some("won"), Some("won")]);
    assert_eq!(ds.report.stages.len(), 1);
    assert_eq!(
        (
            ds.report.stages[0].value.as_str(),
            ds.report.stages[0].count
        ),
        ("won", 2)
    );
    assert!(!ds.report.has_errors(), "{:?}", ds.report.problems);
}

#[test]
fn a_lone_conversion_date_marks_the_converted_leads() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("leads.csv"),
        "Id,CreatedDate,ConvertedDate,Industry\n00Q1,2024-01-05T09:00:00,2024-03-01,Software\n00Q2,2024-01-09T10:30:00,,Retail\n00Q3,2024-02-11T08:00:00,2024-02-20,Software\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("dataset.toml"),
        "[leads]\nfile = \"leads.csv\"\n\n[leads.columns]\nlead_id = \"Id\"\ncreated_at = \"CreatedDate\"\nconverted_at = \"ConvertedDate\"\n",
    )
    .unwrap();
    let ds = data::load(
        &d.path().join("dataset.toml"),
        &LoadOptions::default(),
        None,
    )
    .unwrap();
    assert!(!ds.report.has_errors(), "{:?}", ds.report.problems);
    let o = ds.outcomes.as_ref().unwrap();
    let ids: Vec<Option<&str>> = o.column("lead_id").unwrap().str().unwrap().iter().collect();
    assert_eq!(ids, [Some("00Q1"), Some("00Q3")]);
    let names: Vec<&str> = ds.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Industry"], "the conversion date is no attribute");
}

/// `frame` sorted by `by`, with the columns `keep` only.
fn sorted(frame: &DataFrame, keep: &[&str], by: &[&str]) -> DataFrame {
    frame
        .clone()
        .lazy()
        .select(keep.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .sort(by.to_vec(), Default::default())
        .collect()
        .unwrap()
}

#[test]
fn an_excel_export_loads_like_the_same_data_as_csv() {
    let xlsx = data::load(&fixture("xlsx"), &LoadOptions::default(), None).unwrap();
    let csv = data::load(&fixture("good"), &LoadOptions::default(), None).unwrap();
    assert!(!xlsx.report.has_errors(), "{:?}", xlsx.report.problems);
    // The same leads: ids, creation times (Excel date cells and a text date), attributes
    // with their types.
    assert_eq!(xlsx.leads, csv.leads);
    let kinds = |d: &data::Dataset| -> Vec<(String, data::AttributeKind)> {
        d.attributes
            .iter()
            .map(|a| (a.name.clone(), a.kind))
            .collect()
    };
    assert_eq!(kinds(&xlsx), kinds(&csv));
    // The same outcomes, from one date column per stage.
    let cols = ["lead_id", "stage", "reached_at"];
    assert_eq!(
        sorted(
            xlsx.outcomes.as_ref().unwrap(),
            &cols,
            &["lead_id", "stage"]
        ),
        sorted(csv.outcomes.as_ref().unwrap(), &cols, &["lead_id", "stage"])
    );
    assert_eq!(xlsx.report.tables[0].format, "xlsx");
    validate("xlsx").code(0).stdout_has("contacts.xlsx");
}

#[test]
fn a_german_export_loads_like_the_same_data_in_iso_form() {
    // `;`, 01.03.2024 10:15:00 (recognised), 2.500 and 25.000,00 (declared), German names.
    let german = data::load(&fixture("german"), &LoadOptions::default(), None).unwrap();
    let good = data::load(&fixture("good"), &LoadOptions::default(), None).unwrap();
    assert!(!german.report.has_errors(), "{:?}", german.report.problems);
    assert_eq!(german.leads, good.leads);
    assert_eq!(german.outcomes, good.outcomes);
    assert_eq!(
        german.events().unwrap().collect().unwrap(),
        good.events().unwrap().collect().unwrap()
    );
    // The recognised dates are counted, per table and column; the declared ones are not.
    let dotted: Vec<(&str, u64)> = german
        .report
        .problems
        .iter()
        .filter(|p| p.code == "dotted-date")
        .map(|p| (p.column.as_deref().unwrap_or(""), p.rows_affected))
        .collect();
    assert_eq!(dotted, [("Erstellt am", 6), ("Zeitpunkt", 8)]);
    // Nothing else is reported: no column looks empty, no row is left out.
    assert!(
        german
            .report
            .problems
            .iter()
            .all(|p| p.code == "dotted-date"),
        "{:?}",
        german.report.problems
    );
    validate("german")
        .code(0)
        .stdout_has("date written day.month.year (DD.MM.YYYY), read as such");
}

#[test]
fn coded_event_types_and_stages_are_named_and_unlisted_codes_counted() {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("good/leads.csv"), d.path().join("leads.csv")).unwrap();
    // Marketo's activity export: instance-specific type ids.
    std::fs::write(
        d.path().join("activities.csv"),
        "marketoGUID,leadId,activityDate,activityTypeId,primaryAttributeValue\n\
         g1,101,2023-01-06T09:00:00Z,10,Newsletter\n\
         g2,101,2023-01-20T09:00:00Z,1,/pricing\n\
         g3,102,2023-01-10T12:00:00Z,2,Whitepaper\n\
         g4,103,2023-02-20T12:00:00Z,99,x\n\
         g5,104,2023-03-02T12:00:00Z,99,y\n",
    )
    .unwrap();
    // Account Engagement's lifecycle history: stage ids.
    std::fs::write(
        d.path().join("lifecycle_history.csv"),
        "prospect_id,next_stage_id,created_at\n101,3,2023-02-01\n101,5,2023-04-01\n103,9,2023-03-01\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("dataset.toml"),
        r#"[leads]
file = "leads.csv"

[events]
file = "activities.csv"
[events.columns]
lead_id = "leadId"
occurred_at = "activityDate"
event_type = "activityTypeId"
[events.codes.event_type]
"1" = "web_visit"
"2" = "form_fill"
"10" = "email_open"

[outcomes]
file = "lifecycle_history.csv"
[outcomes.columns]
lead_id = "prospect_id"
stage = "next_stage_id"
reached_at = "created_at"
[outcomes.codes.stage]
"3" = "sql"
"5" = "won"
"#,
    )
    .unwrap();
    let ds = data::load(
        &d.path().join("dataset.toml"),
        &LoadOptions::default(),
        None,
    )
    .unwrap();
    let types: Vec<(&str, u64)> = ds
        .report
        .event_types
        .iter()
        .map(|c| (c.value.as_str(), c.count))
        .collect();
    assert_eq!(
        types,
        [
            ("99", 2),
            ("email_open", 1),
            ("form_fill", 1),
            ("web_visit", 1)
        ]
    );
    let stages: Vec<(&str, u64)> = ds
        .report
        .stages
        .iter()
        .map(|c| (c.value.as_str(), c.count))
        .collect();
    assert_eq!(stages, [("9", 1), ("sql", 1), ("won", 1)]);
    let unlisted: Vec<(&str, u64)> = ds
        .report
        .problems
        .iter()
        .filter(|p| p.code == "unlisted-code")
        .map(|p| (p.column.as_deref().unwrap_or(""), p.rows_affected))
        .collect();
    assert_eq!(unlisted, [("activityTypeId", 2), ("next_stage_id", 1)]);
    let events_note = ds
        .report
        .problems
        .iter()
        .find(|p| p.column.as_deref() == Some("activityTypeId"))
        .unwrap();
    assert!(
        events_note.message.contains("`99` (2)")
            && events_note.message.contains("[events.codes.event_type]"),
        "{}",
        events_note.message
    );
}

#[test]
fn events_keyed_by_the_e_mail_address_join_their_leads_and_show_no_address() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("contacts.csv"),
        "Record ID,Create Date,Email,Region\n\
         101,2023-01-05,anna@example.com,DACH\n\
         102,2023-01-09,Ben@Example.com,NA\n\
         103,2023-02-14,shared@example.com,DACH\n\
         104,2023-03-01,shared@example.com,APAC\n\
         105,2023-03-05,,UKI\n",
    )
    .unwrap();
    // HubSpot's email events carry the recipient's address, in whatever case.
    std::fs::write(
        d.path().join("email_event.csv"),
        "id,recipient,type,created\n\
         e1,ANNA@example.com,OPEN,2023-01-06T09:00:00\n\
         e2,anna@example.com ,CLICK,2023-01-07T09:00:00\n\
         e3,ben@example.com,OPEN,2023-01-10T09:00:00\n\
         e4,shared@example.com,OPEN,2023-02-20T09:00:00\n\
         e5,nobody@example.com,OPEN,2023-02-21T09:00:00\n\
         e6,,OPEN,2023-02-22T09:00:00\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("dataset.toml"),
        "[leads]\nfile = \"contacts.csv\"\n[leads.columns]\nlead_id = \"Record ID\"\ncreated_at = \"Create Date\"\n\n[events]\nfile = \"email_event.csv\"\nlead_key = \"Email\"\n[events.columns]\nlead_id = \"recipient\"\noccurred_at = \"created\"\nevent_type = \"type\"\n",
    )
    .unwrap();
    let ds = data::load(
        &d.path().join("dataset.toml"),
        &LoadOptions::default(),
        None,
    )
    .unwrap();
    let events = ds
        .events()
        .unwrap()
        .join(
            ds.leads.clone().lazy().select([col("lead_id")]),
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .sort(["occurred_at"], Default::default())
        .collect()
        .unwrap();
    let ids: Vec<Option<i64>> = events
        .column("lead_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        ids,
        [Some(101), Some(101), Some(102)],
        "matched by address, any case"
    );
    let names: Vec<&str> = ds.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Region"], "the key is no attribute");
    let codes: Vec<(&str, u64)> = ds
        .report
        .problems
        .iter()
        .map(|p| (p.code, p.rows_affected))
        .collect();
    assert!(codes.contains(&("shared-lead-key", 1)), "{codes:?}");
    // e4 (a shared address) and e5 (no lead's) are events of unknown leads; e6 has no key.
    assert!(codes.contains(&("unknown-lead", 2)), "{codes:?}");
    assert!(codes.contains(&("null-lead-id", 1)), "{codes:?}");
    let r = leadcal(&["validate", d.path().join("dataset.toml").to_str().unwrap()]);
    r.code(0).stdout_has("`Email` value(s) that match no lead");
    let all = r.stdout() + &r.stderr();
    assert!(!all.to_lowercase().contains("@example.com"), "{all}");
}

/// `frame`'s `(lead_id, time)` pairs, sorted, as text.
fn pairs(frame: &DataFrame, time: &str) -> Vec<(String, String)> {
    let f = sorted(frame, &["lead_id", time], &["lead_id", time]);
    let text = |c: &str| -> Vec<String> {
        f.column(c)
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect()
    };
    text("lead_id").into_iter().zip(text(time)).collect()
}

#[test]
fn every_preset_loads_its_system_s_export_as_the_good_fixture() {
    let good = data::load(&fixture("good"), &LoadOptions::default(), None).unwrap();
    let good_events = good.events().unwrap().collect().unwrap();
    for preset in [
        "hubspot",
        "salesforce",
        "marketo",
        "account-engagement",
        "mautic",
    ] {
        let ds = data::load(
            &fixture(&format!("presets/{preset}")),
            &LoadOptions::default(),
            None,
        )
        .unwrap_or_else(|e| panic!("{preset}: {e}"));
        assert!(
            !ds.report.has_errors(),
            "{preset}: {:?}",
            ds.report.problems
        );
        // The same leads and attributes; columns that hold today's state are not attributes.
        let names: Vec<&str> = ds
            .leads
            .get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect();
        let same = good.leads.select(names.iter().copied()).unwrap();
        assert_eq!(ds.leads, same, "{preset}");
        let attrs: Vec<&str> = ds.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            attrs,
            [
                "region",
                "industry",
                "company_size",
                "job_level",
                "budget_confirmed"
            ],
            "{preset}"
        );
        // The same events, by lead and time.
        let events = ds.events().unwrap().collect().unwrap();
        assert_eq!(
            pairs(&events, "occurred_at"),
            pairs(&good_events, "occurred_at"),
            "{preset}"
        );
        // The same outcomes, as far as the system records them (Marketo has no stage table:
        // its outcomes come from program-status changes, mapped by hand).
        let Some(o) = ds.outcomes.as_ref() else {
            assert_eq!(preset, "marketo");
            continue;
        };
        let stage_of = |f: &DataFrame, s: &str| -> Vec<(String, String)> {
            let f = f
                .clone()
                .lazy()
                .filter(col("stage").eq(lit(s)))
                .collect()
                .unwrap();
            pairs(&f, "reached_at")
        };
        let g = good.outcomes.as_ref().unwrap();
        let won = match preset {
            "salesforce" => "converted",
            _ => "won",
        };
        assert_eq!(stage_of(o, won), stage_of(g, "won"), "{preset}");
        if preset != "salesforce" {
            assert_eq!(stage_of(o, "sql"), stage_of(g, "sql"), "{preset}");
        }
    }
}
