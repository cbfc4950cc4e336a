//! Binary-classification metrics with scikit-learn's and scipy's exact definitions.
//!
//! Inputs: labels (`true` = converted) and scores (any real numbers; higher = more likely).
//! Every function here is checked against scikit-learn / scipy on committed fixtures
//! (`tests/fixtures/metrics/`, script `make_expected.py` beside them) to 1e-9.
//! Guarantees: no function panics on empty input or a single class; it returns `None` where
//! the metric is undefined (scikit-learn raises there).
//!
//! Weighted variants take one non-negative weight per row; the bootstrap uses them with
//! multinomial counts, so that a resample costs one pass over rows sorted once.

/// Rows sorted by descending score (stable: ties keep input order).
pub fn order_desc(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    idx
}

/// A row weight: any non-negative number, or how often a resample draws the row.
pub trait Weight: Copy + Sync {
    fn get(self) -> f64;
}

impl Weight for f64 {
    fn get(self) -> f64 {
        self
    }
}

impl Weight for u8 {
    fn get(self) -> f64 {
        f64::from(self)
    }
}

/// ROC AUC (`sklearn.metrics.roc_auc_score`): ties between a converter and a non-converter count
/// one half. `order` is [`order_desc`] of `scores`; `w` optional row weights.
pub fn roc_auc<W: Weight>(
    y: &[bool],
    scores: &[f64],
    order: &[usize],
    w: Option<&[W]>,
) -> Option<f64> {
    let wt = |i: usize| w.map_or(1.0, |w| w[i].get());
    let (mut pos_above, mut area) = (0.0, 0.0);
    let (mut total_pos, mut total_neg) = (0.0, 0.0);
    let mut k = 0;
    while k < order.len() {
        // One group of tied scores.
        let s = scores[order[k]];
        let (mut gp, mut gn) = (0.0, 0.0);
        while k < order.len() && scores[order[k]] == s {
            let i = order[k];
            if y[i] {
                gp += wt(i);
            } else {
                gn += wt(i);
            }
            k += 1;
        }
        // Each non-converter in the group is outranked by every converter above it and ties
        // with the group's converters.
        area += gn * (pos_above + 0.5 * gp);
        pos_above += gp;
        total_pos += gp;
        total_neg += gn;
    }
    (total_pos > 0.0 && total_neg > 0.0).then(|| area / (total_pos * total_neg))
}

/// Average precision (`sklearn.metrics.average_precision_score`): the sum over distinct score
/// thresholds, from the highest, of (recall step) x precision.
pub fn average_precision<W: Weight>(
    y: &[bool],
    scores: &[f64],
    order: &[usize],
    w: Option<&[W]>,
) -> Option<f64> {
    let wt = |i: usize| w.map_or(1.0, |w| w[i].get());
    let total_pos: f64 = (0..y.len()).filter(|&i| y[i]).map(wt).sum();
    if total_pos <= 0.0 {
        return None;
    }
    let (mut tp, mut fp, mut ap, mut last_recall) = (0.0, 0.0, 0.0, 0.0);
    let mut k = 0;
    while k < order.len() {
        let s = scores[order[k]];
        while k < order.len() && scores[order[k]] == s {
            let i = order[k];
            if y[i] {
                tp += wt(i);
            } else {
                fp += wt(i);
            }
            k += 1;
        }
        let recall = tp / total_pos;
        if tp + fp > 0.0 {
            ap += (recall - last_recall) * tp / (tp + fp);
        }
        last_recall = recall;
    }
    Some(ap)
}

/// Lift in the top tenth: the conversion rate of the highest-scored tenth of the (weighted)
/// leads over the overall rate. Leads tied at the tenth's edge count in proportion (the
/// expected rate under a random order of the ties), so a points score with many ties gets the
/// same figure whatever order its ties come in. `None` without converters or leads.
pub fn top_tenth_lift<W: Weight>(
    y: &[bool],
    scores: &[f64],
    order: &[usize],
    w: Option<&[W]>,
) -> Option<f64> {
    let wt = |i: usize| w.map_or(1.0, |w| w[i].get());
    let (total, total_pos) = order.iter().fold((0.0, 0.0), |(n, k), &i| {
        (n + wt(i), k + if y[i] { wt(i) } else { 0.0 })
    });
    if total <= 0.0 || total_pos <= 0.0 {
        return None;
    }
    let want = total / 10.0;
    let (mut taken, mut caught) = (0.0, 0.0);
    let mut k = 0;
    while k < order.len() && taken < want {
        let s = scores[order[k]];
        let (mut gn, mut gp) = (0.0, 0.0);
        while k < order.len() && scores[order[k]] == s {
            let i = order[k];
            gn += wt(i);
            if y[i] {
                gp += wt(i);
            }
            k += 1;
        }
        // The share of this tie group that fits into the tenth.
        let share = if gn > 0.0 {
            ((want - taken) / gn).min(1.0)
        } else {
            0.0
        };
        taken += gn * share;
        caught += gp * share;
    }
    Some((caught / want) / (total_pos / total))
}

/// Leads sorted once by descending score for [`ranking_figures`]: outcomes in that order and
/// where each group of tied scores ends, so a resample reads only its weights.
pub struct Ranked {
    order: Vec<usize>,
    y: Vec<bool>,
    /// One past the last position of each tie group.
    ends: Vec<usize>,
}

impl Ranked {
    pub fn new(y: &[bool], scores: &[f64]) -> Ranked {
        let order = order_desc(scores);
        let ys = order.iter().map(|&i| y[i]).collect();
        let mut ends = Vec::new();
        for k in 1..=order.len() {
            if k == order.len() || scores[order[k]] != scores[order[k - 1]] {
                ends.push(k);
            }
        }
        Ranked { order, y: ys, ends }
    }
}

/// [`roc_auc`], [`average_precision`] and [`top_tenth_lift`] in two passes over the sorted
/// leads instead of five over the scores (the bootstrap computes them for every resample); each
/// equals its own function's value.
pub fn ranking_figures<W: Weight>(r: &Ranked, w: Option<&[W]>) -> [Option<f64>; 3] {
    let wt = |k: usize| w.map_or(1.0, |w| w[r.order[k]].get());
    let (mut total_pos, mut total_neg) = (0.0, 0.0);
    for (k, &y) in r.y.iter().enumerate() {
        if y {
            total_pos += wt(k);
        } else {
            total_neg += wt(k);
        }
    }
    let total = total_pos + total_neg;
    let want = total / 10.0;
    let (mut pos_above, mut area) = (0.0, 0.0);
    let (mut tp, mut fp, mut ap, mut last_recall) = (0.0, 0.0, 0.0, 0.0);
    let (mut taken, mut caught) = (0.0, 0.0);
    let mut k = 0;
    for &end in &r.ends {
        let (mut gp, mut gn) = (0.0, 0.0);
        while k < end {
            if r.y[k] {
                gp += wt(k);
            } else {
                gn += wt(k);
            }
            k += 1;
        }
        area += gn * (pos_above + 0.5 * gp);
        pos_above += gp;
        tp += gp;
        fp += gn;
        if total_pos > 0.0 {
            let recall = tp / total_pos;
            if tp + fp > 0.0 {
                ap += (recall - last_recall) * tp / (tp + fp);
            }
            last_recall = recall;
        }
        if taken < want {
            let g = gp + gn;
            let share = if g > 0.0 {
                ((want - taken) / g).min(1.0)
            } else {
                0.0
            };
            taken += g * share;
            caught += gp * share;
        }
    }
    [
        (total_pos > 0.0 && total_neg > 0.0).then(|| area / (total_pos * total_neg)),
        (total_pos > 0.0).then_some(ap),
        (total > 0.0 && total_pos > 0.0).then(|| (caught / want) / (total_pos / total)),
    ]
}

/// One point of a curve at one distinct score threshold: leads scoring at or above `threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    pub threshold: f64,
    /// ROC: false-positive rate; precision-recall: recall.
    pub x: f64,
    /// ROC: true-positive rate; precision-recall: precision.
    pub y: f64,
}

/// Cumulative (false, true) positives at each distinct threshold, highest first.
fn cumulative(y: &[bool], scores: &[f64], order: &[usize]) -> Vec<(f64, f64, f64)> {
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = Vec::new();
    let mut k = 0;
    while k < order.len() {
        let s = scores[order[k]];
        while k < order.len() && scores[order[k]] == s {
            if y[order[k]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            k += 1;
        }
        out.push((s, fp, tp));
    }
    out
}

/// ROC curve (`sklearn.metrics.roc_curve(..., drop_intermediate=False)`): the point (0, 0) at
/// an infinite threshold, then one point per distinct score, highest first. `None` with a
/// single class.
pub fn roc_curve(y: &[bool], scores: &[f64], order: &[usize]) -> Option<Vec<CurvePoint>> {
    let c = cumulative(y, scores, order);
    let &(_, neg, pos) = c.last()?;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let first = CurvePoint {
        threshold: f64::INFINITY,
        x: 0.0,
        y: 0.0,
    };
    Some(
        std::iter::once(first)
            .chain(c.iter().map(|&(t, fp, tp)| CurvePoint {
                threshold: t,
                x: fp / neg,
                y: tp / pos,
            }))
            .collect(),
    )
}

/// Precision-recall curve (`sklearn.metrics.precision_recall_curve`) with one point per
/// distinct score, highest first (scikit-learn lists them lowest first and appends the point
/// recall 0, precision 1, which is left out here). `None` without converters.
pub fn pr_curve(y: &[bool], scores: &[f64], order: &[usize]) -> Option<Vec<CurvePoint>> {
    let c = cumulative(y, scores, order);
    let &(_, _, pos) = c.last()?;
    if pos == 0.0 {
        return None;
    }
    Some(
        c.iter()
            .map(|&(t, fp, tp)| CurvePoint {
                threshold: t,
                x: tp / pos,
                y: tp / (tp + fp),
            })
            .collect(),
    )
}

/// Brier score (`sklearn.metrics.brier_score_loss`) of probabilities.
pub fn brier(y: &[bool], p: &[f64]) -> Option<f64> {
    if y.is_empty() {
        return None;
    }
    let s: f64 = y
        .iter()
        .zip(p)
        .map(|(&y, &p)| (p - f64::from(u8::from(y))).powi(2))
        .sum();
    Some(s / y.len() as f64)
}

/// Log-loss (`sklearn.metrics.log_loss`), probabilities clipped to [eps, 1 - eps] with the
/// float64 machine epsilon, as scikit-learn does.
pub fn log_loss(y: &[bool], p: &[f64]) -> Option<f64> {
    if y.is_empty() {
        return None;
    }
    let eps = f64::EPSILON;
    let s: f64 = y
        .iter()
        .zip(p)
        .map(|(&y, &p)| {
            let p = p.clamp(eps, 1.0 - eps);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    Some(s / y.len() as f64)
}

/// Kolmogorov-Smirnov statistic between the scores of converters and of non-converters
/// (`scipy.stats.ks_2samp(...).statistic`): the largest gap between their empirical CDFs.
pub fn ks(y: &[bool], scores: &[f64], order: &[usize]) -> Option<f64> {
    let n_pos = y.iter().filter(|&&v| v).count() as f64;
    let n_neg = y.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
    }
    // Walk from the highest score down: the share of each class above a cut is 1 - CDF.
    let (mut pos, mut neg, mut best) = (0.0f64, 0.0f64, 0.0f64);
    let mut k = 0;
    while k < order.len() {
        let s = scores[order[k]];
        while k < order.len() && scores[order[k]] == s {
            if y[order[k]] {
                pos += 1.0;
            } else {
                neg += 1.0;
            }
            k += 1;
        }
        best = best.max((pos / n_pos - neg / n_neg).abs());
    }
    Some(best)
}

/// Smallest share used for an empty bin in [`psi`], so that the logarithm stays finite.
pub const PSI_FLOOR: f64 = 1e-4;

/// Population stability index of `actual` against `expected`, both counts over the same bins:
/// sum over bins of (a - e) * ln(a / e) with shares floored at [`PSI_FLOOR`].
pub fn psi(expected: &[u64], actual: &[u64]) -> Option<f64> {
    let (te, ta) = (
        expected.iter().sum::<u64>() as f64,
        actual.iter().sum::<u64>() as f64,
    );
    if te == 0.0 || ta == 0.0 || expected.len() != actual.len() {
        return None;
    }
    Some(
        expected
            .iter()
            .zip(actual)
            .map(|(&e, &a)| {
                let e = (e as f64 / te).max(PSI_FLOOR);
                let a = (a as f64 / ta).max(PSI_FLOOR);
                (a - e) * (a / e).ln()
            })
            .sum(),
    )
}

/// Bin edges for [`psi`]: the distinct deciles of `scores` (lower-inclusive quantiles).
pub fn decile_edges(scores: &[f64]) -> Vec<f64> {
    let mut s = scores.to_vec();
    s.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..10)
        .filter_map(|d| s.get(d * s.len() / 10).copied())
        .collect();
    edges.dedup();
    edges
}

/// Counts of `scores` in the bins `(-inf, e0), [e0, e1), ..., [ek, inf)`.
pub fn bin_counts(scores: &[f64], edges: &[f64]) -> Vec<u64> {
    let mut out = vec![0u64; edges.len() + 1];
    for &s in scores {
        out[edges.partition_point(|&e| e <= s)] += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leak_guards_auc_equals_this_one() {
        // The leak guard (features, below this stage) ranks with its own AUC; on scores with
        // many ties and on distinct ones it must equal the metric the report shows.
        let y: Vec<bool> = (0..500).map(|i| (i * 7919 % 13) < 3).collect();
        for s in [
            (0..500)
                .map(|i| ((i * 31 % 17) as f64).floor())
                .collect::<Vec<f64>>(),
            (0..500)
                .map(|i| ((i * 104_729) % 1_000) as f64 / 7.0)
                .collect(),
        ] {
            let want = roc_auc::<f64>(&y, &s, &order_desc(&s), None).unwrap();
            let got = crate::features::leak::auc(&s, &y).unwrap();
            assert!((want - got).abs() < 1e-12, "{want} {got}");
        }
    }

    #[test]
    fn undefined_metrics_are_none_not_panics() {
        let y = [true, true];
        let s = [0.2, 0.4];
        let o = order_desc(&s);
        assert_eq!(roc_auc::<f64>(&y, &s, &o, None), None);
        assert_eq!(ks(&y, &s, &o), None);
        assert_eq!(average_precision::<f64>(&[false], &[0.1], &[0], None), None);
        assert_eq!(brier(&[], &[]), None);
        assert_eq!(crate::stats::wilson(0, 0), None);
        assert_eq!(psi(&[0, 0], &[1, 1]), None);
    }

    #[test]
    fn tied_scores_count_one_half() {
        let y = [true, false];
        let s = [1.0, 1.0];
        assert_eq!(roc_auc::<f64>(&y, &s, &order_desc(&s), None), Some(0.5));
    }
}
