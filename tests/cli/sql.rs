//! SQL for warehouses and Spark, and `--features`.

use super::*;

/// The query of `leadcal sql` for every dialect, and its result on the real engines listed in
/// LEADCAL_SQL_ENGINES (e.g. `duckdb,postgres,spark`, as `.ci/run` sets, with
/// LEADCAL_SQL_PYTHON pointing at a Python that has tests/sql/requirements.txt), compared with
/// leadcal's own per-lead table value by value.
#[test]
fn sql_on_real_engines_equals_leadcal_at_every_snapshot() {
    let d = tempfile::tempdir().unwrap();
    let world = d.path().join("world");
    let w = world.to_str().unwrap();
    leadcal(&["demo", "--out", w, "--leads", "3000"]).code(0);
    let models = [
        world.join("scoring.toml"),
        root().join("tests/sql/half-life.toml"),
    ];
    for dialect in ["duckdb", "spark", "postgres", "bigquery", "snowflake"] {
        for m in &models {
            let r = leadcal(&["sql", "--model", m.to_str().unwrap(), "--dialect", dialect]);
            r.code(0)
                .stdout_has("ROW_NUMBER() OVER")
                .stdout_has("lc_scored");
        }
    }
    let engines = std::env::var("LEADCAL_SQL_ENGINES").unwrap_or_default();
    let python = std::env::var("LEADCAL_SQL_PYTHON").unwrap_or_else(|_| "python3".into());
    if engines.is_empty() {
        skip_outside_ci("LEADCAL_SQL_ENGINES is not set: SQL results were not run on an engine");
        return;
    }
    for (k, m) in models.iter().enumerate() {
        let expected_path = d.path().join(format!("expected-{k}.parquet"));
        leadcal(&[
            "score",
            "--snapshot-days",
            "30",
            "--data",
            w,
            "--model",
            m.to_str().unwrap(),
            "--out",
            expected_path.to_str().unwrap(),
        ])
        .code(0);
        let expected = read_parquet(&expected_path);
        for engine in engines.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let got_path = d.path().join(format!("{engine}-{k}.parquet"));
            run_on_engine(&python, engine, &world, m, &[], &got_path);
            let got = read_parquet(&got_path);
            if let Err(e) = same_table(&expected, &got) {
                panic!("{engine}, model {}: {e}", m.display());
            }
            eprintln!(
                "{engine}: {} leads equal leadcal's ({})",
                got.height(),
                m.display()
            );
        }
    }
    // calibrate on the warehouse's per-lead table (with its event lists) gives the results of
    // calibrate on the raw events.
    let raw = d.path().join("raw");
    leadcal(&[
        "calibrate",
        "--since",
        "2023-01",
        "--data",
        w,
        "--quiet",
        "--out",
        raw.to_str().unwrap(),
    ])
    .code(0);
    for engine in engines.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let features = d.path().join(format!("{engine}-features.parquet"));
        run_on_engine(
            &python,
            engine,
            &world,
            &world.join("scoring.toml"),
            &["--with-events"],
            &features,
        );
        let out = d.path().join(format!("from-{engine}"));
        leadcal(&[
            "calibrate",
            "--since",
            "2023-01",
            "--data",
            w,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
            "--features",
            features.to_str().unwrap(),
        ])
        .code(0);
        let files = tree(&raw);
        assert!(files.len() > 15, "{files:?}");
        let mut compared = 0;
        for f in files {
            // Provenance names the files read: the events file in one run, the warehouse
            // table in the other; everything else must be equal.
            let strip = |bytes: &[u8]| -> String {
                let t = String::from_utf8_lossy(bytes).into_owned();
                match f.as_str() {
                    "recommendation.json" => {
                        let mut v: serde_json::Value = serde_json::from_str(&t).unwrap();
                        v.as_object_mut().unwrap().remove("inputs");
                        v.to_string()
                    }
                    "recommended-scoring.toml" => t
                        .lines()
                        .filter(|l| !l.starts_with("#   "))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    _ => t,
                }
            };
            let analysis = [
                "metrics.json",
                "segments.json",
                "segments.csv",
                "changes.md",
                "recommendation.json",
                "recommended-scoring.toml",
            ];
            if f.ends_with(".png") || analysis.contains(&f.as_str()) {
                let (a, b) = (
                    std::fs::read(raw.join(&f)).unwrap(),
                    std::fs::read(out.join(&f)).unwrap(),
                );
                assert!(
                    strip(&a) == strip(&b),
                    "{engine}: {f} differs from the run on raw events"
                );
                compared += 1;
            }
        }
        assert_eq!(compared, 18);
        eprintln!(
            "{engine}: calibrate --features equals calibrate on the raw events ({compared} files)"
        );
        // evaluate and segments take the same table.
        for (cmd, file) in [("evaluate", "metrics.json"), ("segments", "segments.json")] {
            let (a, b) = (
                d.path().join(format!("{cmd}-raw-{engine}")),
                d.path().join(format!("{cmd}-wh-{engine}")),
            );
            let base = ["--since", "2023-01", "--data", w];
            leadcal(&[&[cmd][..], &base, &["--out", a.to_str().unwrap()]].concat()).code(0);
            leadcal(
                &[
                    &[cmd][..],
                    &base,
                    &[
                        "--out",
                        b.to_str().unwrap(),
                        "--features",
                        features.to_str().unwrap(),
                    ],
                ]
                .concat(),
            )
            .code(0);
            assert!(
                std::fs::read(a.join(file)).unwrap() == std::fs::read(b.join(file)).unwrap(),
                "{engine}: {cmd} --features: {file} differs from the run on raw events"
            );
        }
    }
}

/// Write the query of `leadcal sql` for `model` (with `extra` options), run it with
/// tests/sql/run.py on `engine` over the dataset `world`, and leave the result in `out`.
fn run_on_engine(
    python: &str,
    engine: &str,
    world: &Path,
    model: &Path,
    extra: &[&str],
    out: &Path,
) {
    let mut args = vec![
        "sql",
        "--model",
        model.to_str().unwrap(),
        "--dialect",
        engine,
    ];
    args.extend_from_slice(extra);
    let sql = leadcal(&args);
    sql.code(0);
    let sql_path = out.with_extension("sql");
    std::fs::write(&sql_path, sql.stdout()).unwrap();
    let run = Command::new(python)
        .args([
            root().join("tests/sql/run.py").to_str().unwrap(),
            "--engine",
            engine,
            "--data",
            world.to_str().unwrap(),
            "--sql",
            sql_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{engine} on {}:\n{}",
        model.display(),
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Equal tables up to row order: same columns in the same order, integers, text and times
/// exactly, floating point to 1e-9 (sums of decayed points may be added in another order).
fn same_table(expected: &DataFrame, got: &DataFrame) -> Result<(), String> {
    let names = |df: &DataFrame| -> Vec<String> {
        df.get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    if names(expected) != names(got) {
        return Err(format!(
            "columns differ:\n  leadcal {:?}\n  engine  {:?}",
            names(expected),
            names(got)
        ));
    }
    if expected.height() != got.height() {
        return Err(format!(
            "{} rows, expected {}",
            got.height(),
            expected.height()
        ));
    }
    let sort = |df: &DataFrame| df.sort(["lead_id"], Default::default()).unwrap();
    let (a, b) = (sort(expected), sort(got));
    for name in names(&a) {
        let (x, y) = (a.column(&name).unwrap(), b.column(&name).unwrap());
        let numeric = |c: &Column| c.dtype().is_primitive_numeric();
        if numeric(x) && numeric(y) {
            let (x, y) = (
                x.cast(&DataType::Float64).unwrap(),
                y.cast(&DataType::Float64).unwrap(),
            );
            for (i, (p, q)) in x
                .f64()
                .unwrap()
                .iter()
                .zip(y.f64().unwrap().iter())
                .enumerate()
            {
                let (p, q) = (p.unwrap_or(f64::NAN), q.unwrap_or(f64::NAN));
                let close = (p - q).abs() <= 1e-9 * p.abs().max(1.0);
                if !close {
                    return Err(format!(
                        "column {name}, lead {}: leadcal {p}, engine {q}",
                        a.column("lead_id").unwrap().get(i).unwrap()
                    ));
                }
            }
        } else {
            let text = |c: &Column| -> Vec<Option<String>> {
                let c = if matches!(c.dtype(), DataType::Datetime(_, _)) {
                    c.cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                        .unwrap()
                        .cast(&DataType::Int64)
                        .unwrap()
                } else {
                    c.clone()
                };
                c.cast(&DataType::String)
                    .unwrap()
                    .str()
                    .unwrap()
                    .iter()
                    .map(|s| s.map(str::to_string))
                    .collect()
            };
            let (p, q) = (text(x), text(y));
            if let Some(i) = (0..p.len()).find(|&i| p[i] != q[i]) {
                return Err(format!(
                    "column {name}, row {i}: leadcal {:?}, engine {:?}",
                    p[i], q[i]
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn a_warehouse_table_with_a_non_integer_event_time_is_refused_not_dropped() {
    let d = tempfile::tempdir().unwrap();
    for f in ["leads.csv", "outcomes.csv"] {
        std::fs::copy(fixture("good").join(f), d.path().join(f)).unwrap();
    }
    let model = root().join("tests/bad-inputs/model-good/scoring.toml");
    let m = leadcal::scoring::config::ScoringModel::from_file(&model).unwrap();
    let fp = leadcal::sql::model_fingerprint(&m);
    std::fs::write(
        d.path().join("features.csv"),
        format!(
            "lead_id,lc_model,last_event_at,lc_t,lc_mask\n101,{fp},1673000000000000,\"[1672995600000000, 1673000000000000]\",\"[1, 1]\"\n102,{fp},1673000000000000,\"[1672995600000000, 2023-01-06]\",\"[1, 1]\"\n"
        ),
    )
    .unwrap();
    let out = d.path().join("run");
    for cmd in ["evaluate", "segments", "calibrate"] {
        leadcal(&[
            cmd,
            "--data",
            d.path().to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--features",
            d.path().join("features.csv").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .code(2)
        .stderr_has("features.csv: column `lc_t`: a list entry that is not an integer in 1 row(s), lead(s) `102`");
    }
    assert!(!out.exists());
}
