//! Privacy: no lead id or personal field in any output.

use super::*;

/// Replace an integer `lead_id` column with text ids that are easy to search for.
fn text_ids(df: &mut DataFrame) {
    let ids: Vec<String> = df
        .column("lead_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|v| format!("LEAD-{:07}-PII", v.unwrap()))
        .collect();
    df.with_column(Column::new("lead_id".into(), ids)).unwrap();
}

fn write_parquet(mut df: DataFrame, p: &Path) {
    ParquetWriter::new(std::fs::File::create(p).unwrap())
        .finish(&mut df)
        .unwrap();
}

#[test]
fn no_output_of_calibrate_holds_a_lead_id_or_personal_field() {
    let d = tempfile::tempdir().unwrap();
    let world = d.path().join("world");
    let w = world.to_str().unwrap();
    leadcal(&["demo", "--out", w, "--leads", "3000"]).code(0);
    // The demo world with text lead ids and the personal columns a CRM export carries.
    let mut leads = read_parquet(&world.join("leads.parquet"));
    let n: Vec<i64> = leads
        .column("lead_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let col_of = |f: &dyn Fn(i64) -> String| n.iter().map(|&i| f(i)).collect::<Vec<String>>();
    for (name, values) in [
        ("email", col_of(&|i| format!("person{i}@example.com"))),
        ("full_name", col_of(&|i| format!("Firstname{i} Surname{i}"))),
        (
            "notes",
            col_of(&|i| format!("called {i}, PII-NOTE about pricing")),
        ),
        // Few distinct values: not an identifier, so only its name marks it as personal.
        (
            "First Name",
            col_of(&|i| ["Anna", "Ben", "Chloe"][i as usize % 3].to_string() + "-PIIFIRST"),
        ),
        // German and numbered names, each with values that only their name gives away.
        (
            "E-Mail-Adresse",
            col_of(&|i| format!("Wert{}-PIIDE1", i % 3)),
        ),
        ("Vorname", col_of(&|i| format!("Wert{}-PIIDE2", i % 3))),
        ("Nachname", col_of(&|i| format!("Wert{}-PIIDE3", i % 3))),
        (
            "Telefonnummer",
            col_of(&|i| format!("Wert{}-PIIDE4", i % 3)),
        ),
        ("Email 2", col_of(&|i| format!("Wert{}-PIIDE5", i % 3))),
        ("Kontakt", col_of(&|i| format!("Wert{}-PIIDE6", i % 3))),
        ("Anmerkungen", col_of(&|i| format!("Wert{}-PIIDE7", i % 3))),
        // Harmless names, personal content: found by their values.
        ("Feld A", col_of(&|i| format!("piicontent{i}@firma.de"))),
        (
            "Feld B",
            col_of(&|i| {
                ["piishared@a.de", "piishared@b.de", "piishared@c.de"][i as usize % 3].into()
            }),
        ),
        (
            "Feld C",
            col_of(&|i| format!("+49 30 7{:06}", i % 1_000_000)),
        ),
        (
            "Feld D",
            col_of(&|i| format!("Rückruf erbeten wegen Angebot {i}, PIIFREE bitte bald")),
        ),
        ("Feld E", col_of(&|i| format!("Kundin{i} PIIUNIQUE"))),
    ] {
        leads.with_column(Column::new(name.into(), values)).unwrap();
    }
    text_ids(&mut leads);
    write_parquet(leads, &world.join("leads.parquet"));
    for t in ["events", "outcomes"] {
        let p = world.join(format!("{t}.parquet"));
        let mut df = read_parquet(&p);
        text_ids(&mut df);
        write_parquet(df, &p);
    }
    let run = d.path().join("run");
    let model_before = std::fs::read(world.join("scoring.toml")).unwrap();
    let r = leadcal(&[
        "calibrate",
        "--data",
        w,
        "--since",
        "2023-01",
        "--out",
        run.to_str().unwrap(),
    ]);
    r.code(0);
    // The input model is only read; the recommendation is a new file in the run folder.
    assert_eq!(
        std::fs::read(world.join("scoring.toml")).unwrap(),
        model_before
    );
    let mut texts = vec![
        ("stdout".to_string(), r.stdout()),
        ("stderr".to_string(), r.stderr()),
    ];
    for f in tree(&run) {
        let p = run.join(&f);
        if p.is_file() {
            texts.push((
                f,
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            ));
        }
    }
    assert!(
        texts.len() > 15,
        "{:?}",
        texts.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for (file, text) in &texts {
        for needle in [
            "LEAD-",
            "@example.com",
            "Surname",
            "Firstname",
            "PII-NOTE",
            "PIIFIRST",
            "PIIDE",
            "piicontent",
            "piishared",
            "+49 30 7",
            "PIIFREE",
            "PIIUNIQUE",
        ] {
            assert!(!text.contains(needle), "{file} contains `{needle}`");
        }
    }
    // Every group shown has at least the minimum size.
    let seg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("segments.json")).unwrap()).unwrap();
    let min = seg["segments"]["spec"]["min_size"].as_u64().unwrap();
    let mut groups = 0;
    for list in ["non_converting", "converter_marks"] {
        for g in seg["segments"][list]["groups"]
            .as_array()
            .into_iter()
            .flatten()
        {
            groups += 1;
            assert!(g["leads"].as_u64().unwrap() >= min, "{g}");
        }
    }
    assert!(groups > 0);
    // The personal columns were recognised and left out, and `validate` says so.
    leadcal(&["validate", w])
        .code(0)
        .stdout_has("column `email` holds personal data")
        .stdout_has("column `First Name` holds personal data")
        .stdout_has("column `notes` holds personal data")
        .stdout_has("column `E-Mail-Adresse` holds personal data (by its name)")
        .stdout_has("column `Email 2` holds personal data (by its name)")
        .stdout_has("column `Anmerkungen` holds personal data (by its name)")
        .stdout_has("column `Feld A` holds personal data (by its content: 100% of its values look like e-mail addresses)")
        .stdout_has("column `Feld B` holds personal data (by its content: 100% of its values look like e-mail addresses)")
        .stdout_has("column `Feld C` holds personal data (by its content: 100% of its values look like phone numbers)")
        .stdout_has("column `Feld D` holds personal data (by its content: free text")
        .stdout_has("column `Feld E` holds personal data (by its content: 100% of its values are distinct");
}
