//! `dataset.toml` mappings, and CSV and Parquet giving the same frames.

use super::*;

#[test]
fn dataset_toml_maps_a_differently_named_export() {
    let ds = data::load(&fixture("crm-export"), &LoadOptions::default(), None).unwrap();
    let names: Vec<&str> = ds
        .leads
        .get_column_names()
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(
        names,
        ["lead_id", "created_at", "account_id", "Region", "Employees"]
    );
    // `n/a` is a declared null marker; Email is ignored; ids are text.
    assert_eq!(
        ds.leads.column("Employees").unwrap().dtype(),
        &DataType::Int64
    );
    assert_eq!(ds.leads.column("Employees").unwrap().null_count(), 1);
    assert_eq!(
        ds.leads.column("lead_id").unwrap().dtype(),
        &DataType::String
    );
    let outcomes = ds.outcomes.as_ref().unwrap();
    assert_eq!(outcomes.height(), 2, "two leads say Yes");
    let events = ds.events().unwrap().collect().unwrap();
    assert_eq!(events.height(), 3);
    assert_eq!(ds.report.problems.len(), 1, "{:?}", ds.report.problems);
    assert_eq!(ds.report.problems[0].code, "unknown-lead");
    validate("crm-export").code(0).stdout_has("Demo Request");
}

#[test]
fn dataset_toml_unknown_key_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("good/leads.csv"), dir.path().join("leads.csv")).unwrap();
    std::fs::write(
        dir.path().join("dataset.toml"),
        "[leads]\nfile = \"leads.csv\"\nnull_value = [\"-\"]\n",
    )
    .unwrap();
    leadcal(&["validate", dir.path().to_str().unwrap()])
        .code(2)
        .stderr_has("dataset.toml: TOML parse error at line 3")
        .stderr_has("null_value");
}

fn to_parquet(csv: &Path, out: &Path) {
    let mut df = CsvReadOptions::default()
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap();
    // Timestamps as real datetimes, as a Parquet export would hold them.
    for c in ["created_at", "occurred_at", "reached_at"] {
        if df.column(c).is_ok() {
            df = df
                .lazy()
                .with_column(leadcal::timeparse::parse_expr(c).alias(c))
                .collect()
                .unwrap();
        }
    }
    ParquetWriter::new(std::fs::File::create(out).unwrap())
        .finish(&mut df)
        .unwrap();
}

#[test]
fn csv_and_parquet_load_to_equal_frames() {
    let dir = tempfile::tempdir().unwrap();
    for t in ["leads", "events", "outcomes"] {
        to_parquet(
            &fixture(&format!("good/{t}.csv")),
            &dir.path().join(format!("{t}.parquet")),
        );
    }
    let a = data::load(&fixture("good"), &LoadOptions::default(), None).unwrap();
    let b = data::load(dir.path(), &LoadOptions::default(), None).unwrap();
    assert!(a.leads.equals_missing(&b.leads), "{}\n{}", a.leads, b.leads);
    let (oa, ob) = (a.outcomes.clone().unwrap(), b.outcomes.clone().unwrap());
    assert!(oa.equals_missing(&ob), "{oa}\n{ob}");
    let ea = a.events().unwrap().collect().unwrap();
    let eb = b.events().unwrap().collect().unwrap();
    assert!(ea.equals_missing(&eb), "{ea}\n{eb}");
    assert_eq!(a.report.event_types, b.report.event_types);
}
