//! The fit × engagement matrix: explicit × implicit score quartiles at the snapshot.
//!
//! Input: the feature table's explicit and live scores and outcomes. Output: one [`Cell`] per
//! occupied pair of quartiles, in score order. Guarantees: a cell under the minimum group size
//! shows its lead count only (no conversions, no rate).

use serde::{Deserialize, Serialize};

use super::groups::quantile_bins;
use crate::features::FeatureTable;
use crate::stats::wilson;

/// One cell of the fit × engagement matrix.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    pub fit: String,
    pub engagement: String,
    pub leads: u64,
    /// `null` when the cell has fewer than the minimum group size.
    pub converted: Option<u64>,
    pub rate: Option<f64>,
    pub rate_low: Option<f64>,
    pub rate_high: Option<f64>,
}

/// The matrix over every evaluable lead of `t`; cells under `min_size` leads are suppressed.
pub fn fit_by_engagement(t: &FeatureTable, min_size: u64) -> Vec<Cell> {
    let n = t.y.len();
    let implicit: Vec<f64> = (0..n).map(|i| t.live_score[i] - t.explicit[i]).collect();
    let fit_bins = quantile_bins(&t.explicit.iter().map(|v| Some(*v)).collect::<Vec<_>>(), 4);
    let eng_bins = quantile_bins(&implicit.iter().map(|v| Some(*v)).collect::<Vec<_>>(), 4);
    // Counted by bin codes, then gathered by label (two bins may read alike).
    let (nf, ne) = (fit_bins.labels.len(), eng_bins.labels.len());
    let mut by_code = vec![(0u64, 0u64); nf * ne];
    for i in 0..n {
        let e = &mut by_code[fit_bins.codes[i] as usize * ne + eng_bins.codes[i] as usize];
        e.0 += 1;
        e.1 += u64::from(t.y[i]);
    }
    let mut cells: std::collections::BTreeMap<(&str, &str), (u64, u64)> = Default::default();
    for (k, &(leads, conv)) in by_code.iter().enumerate() {
        if leads > 0 {
            let e = cells
                .entry((
                    fit_bins.labels[k / ne].as_str(),
                    eng_bins.labels[k % ne].as_str(),
                ))
                .or_default();
            e.0 += leads;
            e.1 += conv;
        }
    }
    let first_num = |s: &str| -> f64 {
        s.trim_start_matches('[')
            .split(',')
            .next()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    let mut matrix: Vec<Cell> = cells
        .into_iter()
        .map(|((f, e), (leads, k))| {
            let shown = leads >= min_size;
            let ci = wilson(k, leads).filter(|_| shown);
            Cell {
                fit: format!("fit {f}"),
                engagement: format!("engagement {e}"),
                leads,
                converted: shown.then_some(k),
                rate: shown.then(|| k as f64 / leads as f64),
                rate_low: ci.map(|c| c.0),
                rate_high: ci.map(|c| c.1),
            }
        })
        .collect();
    matrix.sort_by(|a, b| {
        first_num(&a.fit[4..])
            .total_cmp(&first_num(&b.fit[4..]))
            .then(first_num(&a.engagement[11..]).total_cmp(&first_num(&b.engagement[11..])))
    });
    matrix
}
