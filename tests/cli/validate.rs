//! `validate`: the profile and each validation problem.

use super::*;

#[test]
fn validate_prints_the_profile() {
    validate("good")
        .code(0)
        .stdout_has("leads")
        .stdout_has("2023-01-05 .. 2023-06-30")
        .stdout_has("email_open")
        .stdout_has("won")
        .stdout_has("immature")
        .stdout_has("converted within horizon")
        .stdout_has("Problems: 0 error(s), 0 warning(s)");
}

/// `validate --json --until UNTIL` on the good fixture, parsed.
fn good_profile_until(until: &str) -> serde_json::Value {
    let good = fixture("good");
    let r = leadcal(&[
        "validate",
        good.to_str().unwrap(),
        "--json",
        "--until",
        until,
    ]);
    r.code(0);
    serde_json::from_str(&r.stdout()).unwrap_or_else(|e| panic!("{e}\n{}", r.describe()))
}

#[test]
fn validate_json_is_machine_readable() {
    let v = good_profile_until("2024-12-31");
    assert_eq!(v["tables"][0]["rows"], 6);
    assert_eq!(v["tables"][1]["rows"], 8);
    assert_eq!(v["event_types"][0]["value"], "email_open");
    assert_eq!(v["event_types"][0]["count"], 3);
    // Snapshot +30d, horizon 180d, data end 2024-12-31: every lead is mature.
    // 101 won 2023-04-01 (snapshot 02-04): converted. 105 won 06-10, snapshot 06-19: came in hot.
    assert_eq!(v["labels"]["immature"], 0);
    assert_eq!(v["labels"]["came_in_hot"], 1);
    assert_eq!(v["labels"]["converted"], 1);
    assert_eq!(v["labels"]["evaluable"], 5);
    assert_eq!(v["errors"], 0);
}

#[test]
fn immature_leads_are_counted_against_the_data_end() {
    let v = good_profile_until("2023-09-01");
    // created + 30 + 180 <= 2023-09-01 only for 101 and 102; 105 came in hot, which is
    // known whatever the data end; 103, 104 and 106 are immature.
    assert_eq!(v["labels"]["immature"], 3);
    assert_eq!(v["labels"]["came_in_hot"], 1);
}

#[test]
fn na_region_stays_a_string() {
    let ds = data::load(&fixture("good"), &LoadOptions::default(), None).unwrap();
    let region = ds.leads.column("region").unwrap();
    assert_eq!(region.dtype(), &DataType::String);
    assert_eq!(region.null_count(), 0);
    assert_eq!(region.str().unwrap().get(0), Some("NA"));
    let size = ds.leads.column("company_size").unwrap();
    assert_eq!(size.dtype(), &DataType::Int64);
    assert_eq!(
        ds.leads.column("budget_confirmed").unwrap().dtype(),
        &DataType::Boolean
    );
}

#[test]
fn missing_required_column_is_named() {
    validate("broken/missing-column")
        .code(2)
        .stderr_has("missing-column/leads.csv: missing required column(s) `created_at`")
        .stderr_has("the file has: `lead_id`, `region`");
}

#[test]
fn duplicate_lead_ids_name_ids_and_rows() {
    validate("broken/duplicate-ids")
        .code(2)
        .stdout_has("duplicate-ids/leads.csv: column `lead_id`: 2 lead id(s) occur more than once: `1` (line 2, line 4), `2` (line 3, line 6)");
}

#[test]
fn null_and_unparseable_timestamps_name_rows() {
    validate("broken/bad-timestamps")
        .code(2)
        .stdout_has("column `created_at`: empty timestamp in 1 row(s): line 4")
        .stdout_has("a date written with slashes (such as 03/04/2024) can be month/day or day/month, so it is not guessed; declare the format in dataset.toml: [leads.date_formats] \"created_at\" = \"%m/%d/%Y\" (or \"%d/%m/%Y\"; with \" %H:%M\" after it when the values carry a time such as 19:58, \" %H:%M:%S\" for 19:58:00) in 1 row(s): line 3 (`01/02/2023`)")
        .stdout_has("not a date or date-time (expected ISO 8601 such as 2024-03-01 or 2024-03-01T09:15:00) in 1 row(s): line 5 (`2023-02-30`)")
        .stderr_has("the dataset has 3 error(s)");
    validate("broken/bad-event-timestamps")
        .code(2)
        .stdout_has("events.csv: column `occurred_at`: empty timestamp in 1 row(s): line 4")
        .stdout_has("in 1 row(s): line 3 (`yesterday`)");
}

#[test]
fn events_and_outcomes_of_unknown_leads_are_counted() {
    validate("broken/unknown-leads")
        .code(0)
        .stdout_has("events.csv: column `lead_id`: 3 event(s) of 2 lead id(s) not in the leads table")
        .stdout_has("outcomes.csv: column `lead_id`: lead id not in the leads table (counted and left out) in 1 row(s): line 8 (`777`)")
        .stdout_has("0 error(s), 2 warning(s)");
}

#[test]
fn timestamps_before_1990_or_in_the_future_are_errors() {
    validate("broken/out-of-range")
        .code(2)
        .stdout_has("column `created_at`: timestamp outside 1990-01-01 to ")
        .stdout_has("in 2 row(s): line 2 (`1985-06-01`), line 4 (`2099-01-01`)");
}

#[test]
fn empty_tables_are_errors() {
    validate("broken/empty-file")
        .code(2)
        .stderr_has("the leads table is empty: no header and no rows");
    validate("broken/empty-leads")
        .code(2)
        .stderr_has("the leads table has a header but no rows");
    validate("broken/empty-events")
        .code(2)
        .stdout_has("events.csv: the events table has a header but no rows");
}

#[test]
fn wrong_delimiter_is_explained() {
    validate("broken/wrong-delimiter")
        .code(2)
        .stderr_has("wrong delimiter: dataset.toml says `;`, but the header line has none; it is separated by `,`");
    validate("broken/mixed-delimiter")
        .code(2)
        .stderr_has("line 2 has 1 field(s) when split on `,`, but the header has 3");
}

#[test]
fn a_missing_dataset_is_a_user_error() {
    leadcal(&["validate", "no/such/folder"])
        .code(2)
        .stderr_has("no/such/folder: no such file or folder");
}
