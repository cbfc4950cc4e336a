//! `segments`: the statistics against scipy and the planted pair.

use super::*;

#[test]
fn segment_statistics_equal_scipy() {
    use leadcal::stats as s;
    let exp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("segments/expected.json")).unwrap())
            .unwrap();
    for t in exp["tables"].as_array().unwrap() {
        let v: Vec<u64> = t["table"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()))
            .collect();
        let (a, b, c, d) = (v[0], v[1], v[2], v[3]);
        close(
            Some(s::fisher(a, b, c, d)),
            &t["fisher"],
            1e-9,
            &format!("Fisher {v:?}"),
        );
        close(
            Some(s::chi_square_yates(a, b, c, d)),
            &t["chi2_yates"],
            1e-9,
            &format!("chi2 {v:?}"),
        );
        assert_eq!(
            s::two_by_two(a, b, c, d).1,
            t["test"].as_str().unwrap(),
            "{v:?}"
        );
    }
    let p: Vec<f64> = exp["bh"]["p"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for (got, want) in s::benjamini_hochberg(&p)
        .iter()
        .zip(exp["bh"]["q"].as_array().unwrap())
    {
        close(Some(*got), want, 1e-9, "Benjamini-Hochberg");
    }
    for w in exp["wilson"].as_array().unwrap() {
        let (k, n) = (w["k"].as_u64().unwrap(), w["n"].as_u64().unwrap());
        let (lo, hi) = leadcal::stats::wilson(k, n).unwrap();
        close(Some(lo), &w["low"], 1e-9, &format!("Wilson low {k}/{n}"));
        close(Some(hi), &w["high"], 1e-9, &format!("Wilson high {k}/{n}"));
    }
    for b in exp["binomtest"].as_array().unwrap() {
        let (k, n, p0) = (
            b["k"].as_u64().unwrap(),
            b["n"].as_u64().unwrap(),
            b["p0"].as_f64().unwrap(),
        );
        let got = s::binomial_test(k, n, p0);
        if (n as f64) * p0 * (1.0 - p0) < 10.0 {
            close(
                Some(got),
                &b["p"],
                1e-9,
                &format!("binomial {k}/{n} vs {p0}"),
            );
        } else {
            // The normal approximation: the same verdict at 0.05 and within a factor of 2.
            let want = b["p"].as_f64().unwrap();
            assert!(
                (got < 0.05) == (want < 0.05) && got / want < 2.0 && want / got < 2.0,
                "{got} vs {want}"
            );
        }
    }
}

#[test]
fn segments_find_the_planted_pair_above_the_student_echoes() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("seg");
    leadcal(&[
        "segments",
        "--since",
        "2023-01",
        "--pairs",
        "--out",
        dir.to_str().unwrap(),
    ])
    .code(0)
    .stdout_has("Hand-overs that convert worst")
    .stdout_has("region=APAC & source=Content Syndication")
    .stdout_has("Fit × engagement");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("segments.json")).unwrap()).unwrap();
    let groups = r["segments"]["non_converting"]["groups"]
        .as_array()
        .unwrap();
    let label = |g: &serde_json::Value| {
        g["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("{}={}", v[0].as_str().unwrap(), v[1].as_str().unwrap()))
            .collect::<Vec<_>>()
            .join(" & ")
    };
    let shown: Vec<&serde_json::Value> =
        groups.iter().filter(|g| g["redundant"] == false).collect();
    // The trap pair (harmless-looking apart, bad together) is the first pair and in the top two,
    // behind only the single value that never converts; no Student pair outranks it.
    let first_pair = shown
        .iter()
        .find(|g| g["values"].as_array().unwrap().len() == 2)
        .unwrap();
    assert_eq!(
        label(first_pair),
        "region=APAC & source=Content Syndication"
    );
    assert!(first_pair["rank"].as_u64().unwrap() <= 2, "{first_pair}");
    for g in &shown {
        if g["rank"].as_u64() < first_pair["rank"].as_u64() {
            assert_eq!(g["values"].as_array().unwrap().len(), 1, "{}", label(g));
        }
    }
    // Student pairs are there, marked redundant.
    assert!(
        groups
            .iter()
            .any(|g| label(g).contains("job_level=Student &") && g["redundant"] == true)
    );
    // No group under the minimum size, in any question; the CSV holds the same groups.
    for q in ["non_converting", "converter_marks"] {
        for g in r["segments"][q]["groups"].as_array().unwrap() {
            assert!(g["leads"].as_u64().unwrap() >= 30);
        }
    }
    let csv = std::fs::read_to_string(dir.join("segments.csv")).unwrap();
    let rows = csv.lines().count() - 1;
    let total = groups.len()
        + r["segments"]["converter_marks"]["groups"]
            .as_array()
            .unwrap()
            .len();
    assert_eq!(rows, total);
    // Matrix cells under the minimum size show no rate; no lead ids anywhere.
    for c in r["matrix"].as_array().unwrap() {
        assert_eq!(c["rate"].is_null(), c["leads"].as_u64().unwrap() < 30);
    }
    let text = std::fs::read_to_string(dir.join("segments.json")).unwrap();
    assert!(
        !text.contains("lead_id"),
        "lead ids have no place in segments.json"
    );
}
