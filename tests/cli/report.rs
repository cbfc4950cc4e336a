//! The meeting report: golden files, the browser check, escaping.

use super::*;

/// The report with its volatile parts masked: the tool version and the chart images (the
/// golden files cover the data model and the text, not pixels).
fn masked(text: &str) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let mut out = text
        .replace(&format!("leadcal {version}"), "leadcal <version>")
        .replace(
            &format!("\"version\": \"{version}\""),
            "\"version\": \"<version>\"",
        );
    let tag = "data:image/png;base64,";
    let mut from = 0;
    while let Some(k) = out[from..].find(tag) {
        let start = from + k + tag.len();
        let end = start + out[start..].find('"').unwrap();
        out.replace_range(start..end, "<png>");
        from = start;
    }
    out
}

/// Compare with `tests/golden/<name>`; LEADCAL_BLESS=1 rewrites the file instead.
fn golden(name: &str, got: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var("LEADCAL_BLESS").is_ok() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (LEADCAL_BLESS=1 writes it)", path.display()));
    if want != got {
        let line = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(got.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\n  golden: {:?}\n  now:    {:?}\n(LEADCAL_BLESS=1 cargo test golden rewrites it after review)",
            line + 1,
            want.lines().nth(line),
            got.lines().nth(line)
        );
    }
}

#[test]
fn browser_check_fails_on_a_missing_image_and_on_console_output() {
    if !Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        skip_outside_ci("chromium not installed");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    for (name, body, images) in [
        ("missing.html", "<img src=\"no-such.png\" alt=\"x\">", 1),
        (
            "console.html",
            "<p>x</p><script>console.error(\"boom\")</script>",
            0,
        ),
        ("fine.html", "<p>x</p>", 0),
    ] {
        let p = d.path().join(name);
        std::fs::write(
            &p,
            format!("<!DOCTYPE html><html><head></head><body>{body}</body></html>"),
        )
        .unwrap();
        let caught = std::panic::catch_unwind(|| browser_check(&p, images));
        assert_eq!(caught.is_err(), name != "fine.html", "{name}");
    }
}

#[test]
fn report_data_and_text_match_the_golden_files() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    let d = dir.to_str().unwrap();
    leadcal(&["calibrate", "--since", "2023-01", "--out", d]).code(0);
    leadcal(&["report", d, "--lang", "de"]).code(0);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    // One element per line, so that a difference shows as a readable line.
    let html = |f: &str| masked(&read(f)).replace("><", ">\n<");
    let (data, en, de) = (
        masked(&read("report-data.json")),
        html("report.html"),
        html("report-de/report.html"),
    );
    // Aggregates only: no account ids (A + 8 digits in the demo) in the report or its data.
    for (name, text) in [("report-data.json", &data), ("report.html", &en)] {
        let b = text.as_bytes();
        let id = (0..b.len().saturating_sub(9))
            .find(|&i| b[i] == b'A' && b[i + 1..i + 9].iter().all(u8::is_ascii_digit));
        assert!(id.is_none(), "{name} holds an account id at byte {id:?}");
    }
    golden("report-data.json", &data);
    golden("report.en.html", &en);
    golden("report.de.html", &de);
}

#[test]
fn report_escapes_strings_from_the_data() {
    // The committed golden data with hostile attribute values, rule and file names in every
    // place the page shows a string from the data.
    let text = std::fs::read_to_string(root().join("tests/golden/report-data.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let script = "<script>alert(1)</script>";
    let attr = "x\" onerror=\"alert(2)";
    v["segments"]["worst"][0]["values"] =
        serde_json::json!([["region", script], ["industry", attr]]);
    v["segments"]["converter_marks"][0]["values"] = serde_json::json!([[script, attr]]);
    v["weights"]["rules"][0]["rule"] = serde_json::json!(format!("email_open {script}"));
    v["weights"]["suggestions"][0]["feature"] = serde_json::json!(format!("region={attr}"));
    v["matrix"][0]["fit"] = serde_json::json!(script);
    v["quality"]["tables"][0]["file"] = serde_json::json!(format!("{attr}.csv"));
    v["window"]["target"] = serde_json::json!(script);
    v["thresholds"]["objective"] = serde_json::json!(attr);
    // Rule names in the stability text, chart titles and table (the flagged webinar rule).
    for r in v["rule_stability"].as_array_mut().unwrap() {
        if r["drift"]["detected"] == true {
            r["rule"] = serde_json::json!(format!("webinar {script}"));
            r["drift"]["carried_by"] = serde_json::json!(attr);
        }
    }
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("report-data.json"), v.to_string()).unwrap();
    let out = d.path().join("out");
    leadcal(&[
        "report",
        d.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        !html.to_lowercase().contains("<script"),
        "a script tag got through"
    );
    assert!(!html.contains("onerror=\""), "an attribute got through");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("x&quot; onerror=&quot;alert(2)"));
    browser_check(&out.join("report.html"), 12);
}

#[test]
fn a_run_of_an_earlier_version_renders_and_says_which_analyses_it_lacks() {
    // report-data.json from before rule stability and decay existed.
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/golden/report-data.json")).unwrap(),
    )
    .unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("rule_stability").unwrap();
    o.remove("decay").unwrap();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("report-data.json"), v.to_string()).unwrap();
    let out = d.path().join("out");
    leadcal(&[
        "report",
        d.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("No rule-stability results in this run"),
        "{html}"
    );
    assert!(html.contains("No decay comparison in this run"));
    // The two charts without data are left out of the page; the other ten load.
    browser_check(&out.join("report.html"), 10);
}

#[test]
fn german_page_has_no_english_terms_outside_brackets_and_no_bracketed_ranges() {
    // The golden data rendered in German. Band names come from the user's own config
    // (`[[band]] name = "hot"`): they are the user's words, not ours, and are left out.
    let text = std::fs::read_to_string(root().join("tests/golden/report-data.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("report-data.json"), &text).unwrap();
    let out = d.path().join("de");
    leadcal(&[
        "report",
        d.path().to_str().unwrap(),
        "--lang",
        "de",
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let mut readable = readable_text(&html);
    for b in v["probability"]["live_bands"].as_array().unwrap() {
        readable = readable.replace(b["band"].as_str().unwrap(), " ");
    }
    let found = english_in_german(&readable);
    assert!(found.is_empty(), "English on the German page:\n{found:#?}");
    // The glossary explains every term, with its technical name in brackets.
    for t in leadcal::report::glossary::Term::ALL {
        assert!(html.contains(&format!("id=\"{}\"", t.anchor())), "{t:?}");
    }
    assert!(html.contains("Abschlussquote (Precision)"));
}

/// The golden data's page in `lang`.
fn golden_page(lang: &str) -> String {
    let text = std::fs::read_to_string(root().join("tests/golden/report-data.json")).unwrap();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("report-data.json"), &text).unwrap();
    let out = d.path().join(lang);
    leadcal(&[
        "report",
        d.path().to_str().unwrap(),
        "--lang",
        lang,
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    std::fs::read_to_string(out.join("report.html")).unwrap()
}

/// Every number report-data.json holds, in any form a page may show it: the numbers
/// themselves, the numbers inside its strings (dates, quarters, objectives) and the length of
/// each list (how many groups, rules, quarters).
fn numbers_in(v: &serde_json::Value, out: &mut Vec<f64>) {
    match v {
        serde_json::Value::Number(n) => out.extend(n.as_f64()),
        serde_json::Value::String(s) => {
            let mut cur = String::new();
            for c in s.chars().chain([' ']) {
                if c.is_ascii_digit() || (c == '.' && !cur.is_empty()) {
                    cur.push(c);
                } else if !cur.is_empty() {
                    out.extend(cur.trim_end_matches('.').parse::<f64>().ok());
                    cur.clear();
                }
            }
        }
        serde_json::Value::Array(a) => {
            out.push(a.len() as f64);
            a.iter().for_each(|x| numbers_in(x, out));
        }
        serde_json::Value::Object(o) => o.values().for_each(|x| numbers_in(x, out)),
        _ => {}
    }
}

/// The numbers in a figure as the page writes it ("1.205", "26,6 %", "01.07.2025",
/// "50–1.000"), each with its decimals.
fn figures(text: &str, lang: &str) -> Vec<(f64, usize)> {
    let date = |t: &str| {
        t.len() == 10 && t.as_bytes()[2] == b'.' && t.as_bytes()[5] == b'.' && lang == "de"
    };
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars().chain([' ']) {
        if c.is_ascii_digit() || ((c == '.' || c == ',') && !cur.is_empty()) {
            cur.push(c);
            continue;
        }
        let t = cur.trim_end_matches(['.', ',']).to_string();
        cur.clear();
        if t.is_empty() {
            continue;
        }
        if date(&t) {
            out.extend(t.split('.').map(|p| (p.parse::<f64>().unwrap(), 0)));
            continue;
        }
        let (group, decimal) = if lang == "de" { ('.', ',') } else { (',', '.') };
        let plain: String = t.chars().filter(|&c| c != group).collect();
        let dp = plain.split_once(decimal).map_or(0, |(_, f)| f.len());
        out.push((plain.replace(decimal, ".").parse::<f64>().unwrap(), dp));
    }
    out
}

/// The body of a page (everything before the appendix) as text runs, each with the link it
/// sits in (`Some(anchor)`), or `None` for plain text. Headings and names from the data are
/// left out: a question's number and a value such as `Q1 Kampagne` are not figures.
fn body_runs(html: &str) -> Vec<(Option<String>, String)> {
    let start = html.find("<body>").unwrap();
    let end = html.find("<section id=\"appendix\"").unwrap();
    let body = &html[start..end];
    let mut runs = Vec::new();
    let (mut href, mut skip): (Option<String>, usize) = (None, 0);
    let mut rest = body;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        if skip == 0 && !text.trim().is_empty() {
            runs.push((href.clone(), text.replace("&amp;", "&")));
        }
        let tag_end = rest[i..].find('>').unwrap() + i;
        let tag = &rest[i + 1..tag_end];
        let skipped = ["h1", "h2", "h3"]
            .iter()
            .any(|t| tag == *t || tag.starts_with(&format!("{t} ")))
            || tag.starts_with("span class=\"nm\"");
        if skipped {
            skip += 1;
        } else if skip > 0 && (tag.starts_with("/h") || (tag == "/span")) {
            skip -= 1;
        } else if skip > 0 && tag.starts_with("span") {
            skip += 1;
        } else if let Some(h) = tag
            .strip_prefix("a class=\"n\" href=\"#")
            .or_else(|| tag.strip_prefix("a href=\"#"))
        {
            href = Some(h.trim_end_matches('"').to_string());
        } else if tag == "/a" {
            href = None;
        }
        rest = &rest[tag_end + 1..];
    }
    runs
}

#[test]
fn every_number_in_the_body_links_to_the_appendix_and_is_a_number_of_report_data() {
    // The two layers of issue 30: the body speaks to the meeting, and each of its numbers
    // links to the appendix place that explains it and is a figure report-data.json holds.
    let text = std::fs::read_to_string(root().join("tests/golden/report-data.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut known = Vec::new();
    numbers_in(&v, &mut known);
    for lang in ["en", "de"] {
        let html = golden_page(lang);
        let appendix = &html[html.find("<section id=\"appendix\"").unwrap()..];
        let runs = body_runs(&html);
        let mut linked = 0;
        for (href, run) in &runs {
            match href {
                None => assert!(
                    !run.chars().any(|c| c.is_ascii_digit()),
                    "{lang}: a number in the body without a link to the appendix: {run:?}"
                ),
                Some(_) if !run.chars().any(|c| c.is_ascii_digit()) => {}
                Some(anchor) => {
                    assert!(
                        appendix.contains(&format!("id=\"{anchor}\"")),
                        "{lang}: {run:?} links to #{anchor}, which the appendix does not have"
                    );
                    for (x, dp) in figures(run, lang) {
                        let tol = 0.5 * 10f64.powi(-(dp as i32)) + 1e-9;
                        let found = known.iter().any(|k| {
                            (k.abs() - x).abs() <= tol || (100.0 * k.abs() - x).abs() <= tol
                        });
                        assert!(found, "{lang}: {run:?} is not a number of report-data.json");
                    }
                    linked += 1;
                }
            }
        }
        assert!(
            linked > 100,
            "{lang}: only {linked} linked numbers in the body"
        );
        // The statistics' names stay in the appendix.
        let body: String = runs
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let jargon: &[&str] = if lang == "de" {
            &[
                "AUC",
                "PSI",
                "KS",
                "q-Wert",
                "Log-Odds",
                "Brier",
                "Log-Loss",
                "Benjamini",
                "Live-Score",
            ]
        } else {
            &[
                "AUC",
                "PSI",
                "KS",
                "q-value",
                "log-odds",
                "Brier",
                "log-loss",
                "Benjamini",
                "PDO",
                "precision",
                "recall",
            ]
        };
        for j in jargon {
            assert!(!body.contains(j), "{lang}: the body says {j:?}");
        }
    }
}

#[test]
fn the_body_check_finds_an_unlinked_number_and_a_number_not_in_the_data() {
    // The checks above must be able to fail.
    let page = "<body><p>Leads <a class=\"n\" href=\"#a-q1\">61,3\u{a0}%</a> and 12 more</p><section id=\"appendix\"><h2 id=\"a-q1\">A1</h2>";
    let runs = body_runs(page);
    assert_eq!(
        runs[1],
        (Some("a-q1".to_string()), "61,3\u{a0}%".to_string())
    );
    assert!(runs[2].0.is_none() && runs[2].1.contains("12"));
    assert_eq!(figures("61,3\u{a0}%", "de"), vec![(61.3, 1)]);
    assert_eq!(
        figures("1.205 und 01.07.2025", "de"),
        vec![(1205.0, 0), (1.0, 0), (7.0, 0), (2025.0, 0)]
    );
    assert_eq!(figures("50–1,000", "en"), vec![(50.0, 0), (1000.0, 0)]);
    let mut known = Vec::new();
    numbers_in(
        &serde_json::json!({"auc": 0.613, "q": "2024-Q4", "rows": [1, 2]}),
        &mut known,
    );
    assert_eq!(known, vec![0.613, 2024.0, 4.0, 2.0, 1.0, 2.0]);
}
