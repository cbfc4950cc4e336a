//! The demo generator.

use super::*;

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
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
fn demo_is_identical_for_the_same_seed() {
    let d = tempfile::tempdir().unwrap();
    for (name, seed, format) in [
        ("a", "7", "parquet"),
        ("b", "7", "parquet"),
        ("c", "8", "parquet"),
        ("d", "7", "csv"),
        ("e", "7", "csv"),
    ] {
        let out = d.path().join(name);
        leadcal(&[
            "demo",
            "--out",
            out.to_str().unwrap(),
            "--leads",
            "25000",
            "--seed",
            seed,
            "--format",
            format,
        ])
        .code(0);
    }
    assert_eq!(files_of(&d.path().join("a")), files_of(&d.path().join("b")));
    assert_eq!(files_of(&d.path().join("d")), files_of(&d.path().join("e")));
    assert_ne!(files_of(&d.path().join("a")), files_of(&d.path().join("c")));
    // The CSV and Parquet worlds of one seed hold the same data.
    let p = data::load(&d.path().join("a"), &LoadOptions::default(), None).unwrap();
    let c = data::load(&d.path().join("d"), &LoadOptions::default(), None).unwrap();
    assert!(p.leads.equals_missing(&c.leads));
    assert_eq!(p.report.event_types, c.report.event_types);
    assert!(!p.report.has_errors(), "{:?}", p.report.problems);
}

#[test]
fn demo_never_overwrites() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("w");
    leadcal(&["demo", "--out", out.to_str().unwrap(), "--leads", "100"]).code(0);
    let before = files_of(&out);
    leadcal(&[
        "demo",
        "--out",
        out.to_str().unwrap(),
        "--leads",
        "200",
        "--seed",
        "1",
    ])
    .code(2)
    .stderr_has("already exists; leadcal never overwrites");
    assert_eq!(before, files_of(&out));
}

#[test]
fn demo_world_has_its_documented_shape() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("w");
    leadcal(&["demo", "--out", out.to_str().unwrap(), "--leads", "20000"]).code(0);
    let ds = data::load(&out, &LoadOptions::default(), None).unwrap();
    assert!(!ds.report.has_errors());
    let events = ds.report.tables[1].rows as f64 / 20000.0;
    assert!((40.0..60.0).contains(&events), "{events} events per lead");
    let stages: Vec<&str> = ds.report.stages.iter().map(|c| c.value.as_str()).collect();
    for s in ["sql", "won", "lost"] {
        assert!(stages.contains(&s), "{stages:?}");
    }
    // The trap segment engages more but converts less than everybody else.
    let labelled = leadcal::label::label(
        &ds.leads,
        ds.outcomes.as_ref(),
        &Default::default(),
        ds.data_end.unwrap(),
    )
    .unwrap();
    let per_lead = ds
        .events()
        .unwrap()
        .group_by([col("lead_id")])
        .agg([len().alias("n")]);
    let t = ds
        .leads
        .clone()
        .lazy()
        .join(
            labelled.lazy(),
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .join(
            per_lead,
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Left),
        )
        .filter(
            col("status")
                .eq(lit("converted"))
                .or(col("status").eq(lit("not_converted"))),
        )
        .with_column(
            col("region")
                .eq(lit("APAC"))
                .and(col("source").eq(lit("Content Syndication")))
                .alias("trap"),
        )
        .group_by([col("trap")])
        .agg([
            col("n")
                .fill_null(0)
                .cast(DataType::Float64)
                .mean()
                .alias("events"),
            col("status")
                .eq(lit("converted"))
                .cast(DataType::Float64)
                .mean()
                .alias("rate"),
        ])
        .sort(["trap"], Default::default())
        .collect()
        .unwrap();
    let ev = t.column("events").unwrap().f64().unwrap();
    let rate = t.column("rate").unwrap().f64().unwrap();
    assert!(ev.get(1).unwrap() > 2.0 * ev.get(0).unwrap(), "{t}");
    assert!(rate.get(1).unwrap() < 0.5 * rate.get(0).unwrap(), "{t}");
}
