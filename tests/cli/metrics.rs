//! Metrics and the model against scikit-learn and scipy.

use super::*;

/// Columns of a numeric CSV fixture (header, then rows of numbers).
fn numeric_csv(rel: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(fixture(rel)).unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut cols = vec![Vec::new(); names.len()];
    for line in lines {
        for (c, v) in cols.iter_mut().zip(line.split(',')) {
            c.push(v.parse::<f64>().unwrap());
        }
    }
    (names, cols)
}

fn expected_metrics() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("metrics/expected.json")).unwrap())
        .unwrap()
}

#[test]
fn metrics_equal_scikit_learn_and_scipy() {
    use leadcal::evaluate::metrics as m;
    let (_, cols) = numeric_csv("metrics/scores.csv");
    let y: Vec<bool> = cols[0].iter().map(|v| *v == 1.0).collect();
    let exp = expected_metrics();
    for (k, name) in [(1, "points"), (2, "prob")] {
        let s = &cols[k];
        let o = m::order_desc(s);
        let e = &exp[name];
        close(
            m::roc_auc::<f64>(&y, s, &o, None),
            &e["roc_auc"],
            1e-9,
            &format!("{name} AUC"),
        );
        close(
            m::average_precision::<f64>(&y, s, &o, None),
            &e["average_precision"],
            1e-9,
            &format!("{name} AP"),
        );
        close(m::ks(&y, s, &o), &e["ks"], 1e-9, &format!("{name} KS"));
        close(
            m::top_tenth_lift::<f64>(&y, s, &o, None),
            &e["top_tenth_lift"],
            1e-9,
            &format!("{name} lift in the top tenth"),
        );
    }
    let p = &cols[2];
    close(m::brier(&y, p), &exp["prob"]["brier"], 1e-9, "Brier");
    close(
        m::log_loss(&y, p),
        &exp["prob"]["log_loss"],
        1e-9,
        "log-loss",
    );
    close(Some(leadcal::stats::z95()), &exp["z95"], 1e-12, "z for 95%");
    // Unit weights give the unweighted values (the bootstrap relies on this).
    let s = &cols[1];
    let o = m::order_desc(s);
    let ones = vec![1.0; y.len()];
    assert_eq!(
        m::roc_auc(&y, s, &o, Some(&ones)),
        m::roc_auc::<f64>(&y, s, &o, None)
    );
}

#[test]
fn roc_and_precision_recall_curves_equal_scikit_learn() {
    use leadcal::evaluate::metrics as m;
    let (_, cols) = numeric_csv("metrics/scores.csv");
    let y: Vec<bool> = cols[0].iter().map(|v| *v == 1.0).collect();
    let exp = expected_metrics();
    let list = |v: &serde_json::Value| -> Vec<Option<f64>> {
        v.as_array().unwrap().iter().map(|x| x.as_f64()).collect()
    };
    for (k, name) in [(1, "points"), (2, "prob")] {
        let s = &cols[k];
        let o = m::order_desc(s);
        let roc = m::roc_curve(&y, s, &o).unwrap();
        let e = &exp[name]["roc_curve"];
        let (thr, fpr, tpr) = (list(&e["threshold"]), list(&e["fpr"]), list(&e["tpr"]));
        assert_eq!(roc.len(), thr.len(), "{name}: ROC points");
        for (i, p) in roc.iter().enumerate() {
            // serde_json's default float parsing may be one ulp off: compare to 1e-12.
            match thr[i] {
                None => assert!(p.threshold.is_infinite(), "{name}: ROC threshold {i}"),
                Some(t) => close(
                    Some(p.threshold),
                    &t.into(),
                    1e-12,
                    &format!("{name} ROC threshold {i}"),
                ),
            }
            close(Some(p.x), &fpr[i].into(), 1e-12, &format!("{name} FPR {i}"));
            close(Some(p.y), &tpr[i].into(), 1e-12, &format!("{name} TPR {i}"));
        }
        // scikit-learn: lowest threshold first, plus a final (recall 0, precision 1).
        let pr = m::pr_curve(&y, s, &o).unwrap();
        let e = &exp[name]["pr_curve"];
        let (thr, prec, rec) = (
            list(&e["threshold"]),
            list(&e["precision"]),
            list(&e["recall"]),
        );
        assert_eq!(pr.len(), thr.len(), "{name}: PR points");
        assert_eq!(
            (prec.last(), rec.last()),
            (Some(&Some(1.0)), Some(&Some(0.0)))
        );
        for (i, p) in pr.iter().enumerate() {
            let j = thr.len() - 1 - i;
            close(
                Some(p.threshold),
                &thr[j].into(),
                1e-12,
                &format!("{name} PR threshold {i}"),
            );
            close(
                Some(p.x),
                &rec[j].into(),
                1e-12,
                &format!("{name} recall {i}"),
            );
            close(
                Some(p.y),
                &prec[j].into(),
                1e-12,
                &format!("{name} precision {i}"),
            );
        }
    }
    assert!(m::roc_curve(&[true, true], &[0.1, 0.2], &[1, 0]).is_none());
    assert!(m::pr_curve(&[false], &[0.1], &[0]).is_none());
}

#[test]
fn wilson_and_psi_equal_hand_computed_values() {
    use leadcal::evaluate::metrics as m;
    // Wilson, 3 of 10, z = 1.959964: centre (0.3 + z²/20) / (1 + z²/10) = 0.355507,
    // half-width z·sqrt(0.021 + z²/400) / (1 + z²/10) = 0.247715.
    let (lo, hi) = leadcal::stats::wilson(3, 10).unwrap();
    assert!(
        (lo - 0.107791).abs() < 1e-6 && (hi - 0.603222).abs() < 1e-6,
        "{lo} {hi}"
    );
    // 0 of 20: [0, z²/(20 + z²)] = [0, 0.161125].
    let (lo, hi) = leadcal::stats::wilson(0, 20).unwrap();
    assert!(lo == 0.0 && (hi - 0.161125).abs() < 1e-6, "{lo} {hi}");
    // PSI of shares (0.5, 0.3, 0.2) against (0.4, 0.4, 0.2):
    // (0.4-0.5)·ln(0.8) + (0.4-0.3)·ln(4/3) + 0 = 0.022314 + 0.028768 = 0.051083.
    let v = m::psi(&[50, 30, 20], &[40, 40, 20]).unwrap();
    assert!((v - 0.0510826).abs() < 1e-6, "{v}");
    // An empty bin uses the 0.0001 floor:
    // (0.0001-0.5)·ln(0.0002) + (1-0.5)·ln(2) = 0.4999·8.517193 + 0.346574 = 4.604318.
    let v = m::psi(&[50, 50], &[0, 100]).unwrap();
    assert!((v - 4.604318).abs() < 1e-5, "{v}");
}

#[test]
fn logistic_coefficients_equal_scikit_learn() {
    use leadcal::model::fit_alpha;
    let (names, cols) = numeric_csv("metrics/design.csv");
    let exp = expected_metrics();
    let y: Vec<bool> = cols[0].iter().map(|v| *v == 1.0).collect();
    let n = y.len();
    // Standardise as StandardScaler does (population standard deviation).
    let mut x = ndarray::Array2::<f64>::zeros((n, names.len() - 1));
    for (j, c) in cols[1..].iter().enumerate() {
        let mean = c.iter().sum::<f64>() / n as f64;
        let sd = (c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        for i in 0..n {
            x[[i, j]] = (c[i] - mean) / sd;
        }
    }
    for alpha in ["1.0", "10.0"] {
        let want = &exp["logistic"]["fits"][alpha];
        let (w, b) = fit_alpha(x.view(), &y, alpha.parse().unwrap(), None, 1e-9, 10_000).unwrap();
        // Tolerance 1e-6 on every coefficient (sklearn tol=1e-12; linfa gradient 1e-9).
        close(
            Some(b),
            &want["intercept"],
            1e-6,
            &format!("intercept, alpha {alpha}"),
        );
        for (j, wj) in w.iter().enumerate() {
            close(
                Some(*wj),
                &want["coef"][j],
                1e-6,
                &format!("{}, alpha {alpha}", names[j + 1]),
            );
        }
    }
}

#[test]
fn linfa_majority_class_flip_is_undone() {
    // Converters are the minority in the fixture: linfa takes non-converters as its positive
    // class. The same data with labels inverted must give exactly the negated model.
    use leadcal::model::fit_alpha;
    let (_, cols) = numeric_csv("metrics/design.csv");
    let y: Vec<bool> = cols[0].iter().map(|v| *v == 1.0).collect();
    assert!(y.iter().filter(|v| **v).count() * 2 < y.len());
    let x = ndarray::Array2::from_shape_fn((y.len(), 2), |(i, j)| cols[j + 1][i]);
    let (w, b) = fit_alpha(x.view(), &y, 1.0, None, 1e-9, 10_000).unwrap();
    let inv: Vec<bool> = y.iter().map(|v| !v).collect();
    let (wi, bi) = fit_alpha(x.view(), &inv, 1.0, None, 1e-9, 10_000).unwrap();
    // More opens means more conversions: the converting direction is positive.
    assert!(w[0] > 0.0, "opens coefficient {w}");
    for j in 0..2 {
        assert!((w[j] + wi[j]).abs() < 1e-6, "{w} vs {wi}");
    }
    assert!((b + bi).abs() < 1e-6);
}

#[test]
fn the_recency_weighted_refit_equals_scikit_learns_sample_weight_fit() {
    // The walk-forward's and the deployed weights' fit: each row's loss weighted by recency,
    // the penalty scaled by the summed weight; coefficients per raw unit.
    let (_, cols) = numeric_csv("metrics/design.csv");
    let exp = &expected_metrics()["weighted_logistic"];
    let y: Vec<bool> = cols[0].iter().map(|v| *v == 1.0).collect();
    let n = y.len();
    let mut x = ndarray::Array2::<f64>::zeros((n, cols.len() - 1));
    for (j, c) in cols[1..].iter().enumerate() {
        for i in 0..n {
            x[[i, j]] = c[i];
        }
    }
    let half = exp["half_life_rows"].as_f64().unwrap();
    let w: Vec<f64> = (0..n)
        .map(|i| 0.5f64.powf((n - 1 - i) as f64 / half))
        .collect();
    let params = leadcal::model::LogisticParams {
        search_tolerance: 1e-9,
        ..Default::default()
    };
    let fit = leadcal::model::refit(
        x.view(),
        &y,
        Some(&w),
        exp["penalty"].as_f64().unwrap(),
        n,
        &params,
    )
    .unwrap();
    close(
        Some(fit.raw_intercept),
        &exp["raw_intercept"],
        1e-5,
        "intercept",
    );
    for (j, b) in fit.raw_coef.iter().enumerate() {
        close(
            Some(*b),
            &exp["raw_coef"][j],
            1e-5,
            &format!("coefficient {j}"),
        );
    }
    // Unit weights are the unweighted fit.
    let ones = vec![1.0; n];
    let a = leadcal::model::refit(x.view(), &y, Some(&ones), 2e-3, n, &params).unwrap();
    let b = leadcal::model::refit(x.view(), &y, None, 2e-3, n, &params).unwrap();
    assert_eq!(a.raw_coef, b.raw_coef);
}
