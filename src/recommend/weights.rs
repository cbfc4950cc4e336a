//! Recommended weights on the live model's own points scale.
//!
//! Input: the live [`ScoringModel`], the [`FeatureTable`] (rows in creation order) and the
//! [`Coefficients`] fitted on its first rows (the training period, a walk-forward fold's mature
//! leads, or every mature lead). Output: [`Weights`]: a recommended model in
//! the live model's schema (same rules, filters and decay; new points, caps, thresholds), with
//! every change, its reason and its flags, plus the scaling and the rounding error.
//!
//! Method (points to double the odds, "PDO"): the model's log-odds L = b + Σ β_j x_j become
//! points with one factor, `factor = sd(live score) / sd(L)` over the training leads, so that
//! the recommended scores spread like the live ones. A rule's recommended points per fire are
//! `factor × β`; an attribute value's are `factor × (β_value − β_baseline)`, where the baseline
//! is the lead-weighted mean coefficient of the attribute's values that earn no points today.
//! Every `PDO = factor × ln 2` points double a lead's odds of converting. Points are rounded to
//! integers (at most 0.5 points per rule); the resulting score error per lead is measured.
//! Guarantees: rules with too little support keep their current points (flagged), rules the
//! data never exercised keep theirs (reported), a fitted sign against the current one is flagged.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::select::Selection;
use crate::features::{FeatureTable, Source};
use crate::model::Coefficients;
use crate::scoring::config::{Condition, Points, ScoringModel};

/// Support a rule needs before its points are changed: at least `min_leads` training leads on
/// which it fired (or that hold the value), and at least `min_converters` converters among them
/// *or* enough leads that `min_converters` were expected at the overall conversion rate (a value
/// held by 460 leads of which 2 converted, against 41 expected, is strong evidence, not thin).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Support {
    pub min_leads: u64,
    pub min_converters: u64,
}

impl Default for Support {
    fn default() -> Self {
        Support {
            min_leads: 30,
            min_converters: 10,
        }
    }
}

impl Support {
    /// Too little support: fewer than `min_leads` leads, or fewer than `min_converters`
    /// converters where not even that many were expected at `base_rate`.
    pub fn thin(&self, leads: u64, converters: u64, base_rate: f64) -> bool {
        leads < self.min_leads
            || (converters < self.min_converters
                && (leads as f64 * base_rate) < self.min_converters as f64)
    }
}

/// Leads and converters with a non-zero value in each column over the table's first `n` rows:
/// every column in one parallel pass over the rows (the matrix is stored by row).
pub fn column_support(t: &FeatureTable, n: usize) -> Vec<(u64, u64)> {
    const ROWS: usize = 4096;
    let x = t.x.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..n));
    let y = &t.y[..n];
    (0..n.div_ceil(ROWS))
        .into_par_iter()
        .map(|c| {
            let block = x.slice_axis(
                ndarray::Axis(0),
                ndarray::Slice::from(c * ROWS..((c + 1) * ROWS).min(n)),
            );
            let mut a = vec![(0u64, 0u64); block.ncols()];
            for (r, row) in block.rows().into_iter().enumerate() {
                let converted = u64::from(y[c * ROWS + r]);
                for (a, v) in a.iter_mut().zip(row) {
                    if *v != 0.0 {
                        a.0 += 1;
                        a.1 += converted;
                    }
                }
            }
            a
        })
        .reduce(
            || vec![(0u64, 0u64); x.ncols()],
            |mut a, b| {
                for (a, b) in a.iter_mut().zip(b) {
                    a.0 += b.0;
                    a.1 += b.1;
                }
                a
            },
        )
}

/// Why a rule's recommendation is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Too few leads or converters: current points kept.
    LowSupport,
    /// No training lead ever matched the rule: current points kept.
    NotExercised,
    /// The fitted direction is opposite to the current points' sign.
    SignContradicts,
}

/// One rule's recommendation.
#[derive(Debug, Clone, Serialize)]
pub struct RuleChange {
    /// `implicit` or `explicit`.
    pub kind: &'static str,
    pub rule: String,
    pub current: f64,
    /// Recommended points per fire / for the value, before rounding.
    pub exact: Option<f64>,
    pub recommended: f64,
    pub leads: u64,
    pub converters: u64,
    /// Model coefficient (log-odds per fire / for the value against the baseline).
    pub coefficient: Option<f64>,
    pub flags: Vec<Flag>,
    pub reason: String,
}

/// An attribute value the live model gives no points, with what the model would give it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suggestion {
    pub feature: String,
    pub points: f64,
    pub leads: u64,
    pub converters: u64,
}

/// The scaling from log-odds to points.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Scaling {
    pub factor: f64,
    /// Points that double the odds: factor × ln 2.
    pub pdo: f64,
    pub live_sd: f64,
    pub model_sd: f64,
}

/// The recommended weights.
#[derive(Debug, Clone, Serialize)]
pub struct Weights {
    #[serde(skip)]
    pub model: ScoringModel,
    pub scaling: Scaling,
    pub implicit: Vec<RuleChange>,
    pub explicit: Vec<RuleChange>,
    pub suggestions: Vec<Suggestion>,
    /// |rounded − exact| score per training lead, over the changed rules.
    pub rounding_max: f64,
    pub rounding_mean: f64,
}

/// Scale `sd_target / sd_source` (population SDs); `None` when either is 0.
pub fn pdo_factor(live: &[f64], logit: &[f64]) -> Option<Scaling> {
    let sd = |v: &[f64]| {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt()
    };
    if live.is_empty() {
        return None;
    }
    let (a, b) = (sd(live), sd(logit));
    (a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()).then(|| Scaling {
        factor: a / b,
        pdo: a / b * std::f64::consts::LN_2,
        live_sd: a,
        model_sd: b,
    })
}

fn unit_of(p: &Points) -> f64 {
    match p {
        Points::Each(v) => *v,
        Points::Progressive(v) => v[0],
    }
}

/// A first model: no live score to take the scale from, points on a stated PDO, and only the
/// selected columns earn points (0 at the lead with none of them).
#[derive(Debug, Clone, Copy)]
pub struct First<'a> {
    pub pdo: f64,
    pub selection: &'a Selection,
}

/// The design matrix's columns each live rule reads, in the order of `live.explicit` (an
/// implicit rule's column is its [`Source::Rule`]).
fn explicit_columns(live: &ScoringModel, t: &FeatureTable) -> Vec<Vec<usize>> {
    let level = |attr: &str, value: &str| {
        t.sources.iter().position(|s| {
            matches!(s, Source::Level { attribute, value: v } if attribute == attr && v == value)
        })
    };
    live.explicit
        .iter()
        .map(|r| match &r.condition {
            Condition::OneOf(values) => values.iter().filter_map(|v| level(&r.attribute, v)).collect(),
            Condition::Range { min, below } => t
                .sources
                .iter()
                .position(|s| matches!(s, Source::Range { attribute, min: a, below: b } if attribute == &r.attribute && a == min && b == below))
                .into_iter()
                .collect(),
            Condition::Missing => level(&r.attribute, "(missing)").into_iter().collect(),
        })
        .collect()
}

/// The columns a first model may give points: each a rule of `live` reads (an implicit rule,
/// or an explicit rule's one value or range) with enough support on the first `n` rows. Rare
/// values stay pooled with the others at 0 points.
pub fn rule_columns(
    live: &ScoringModel,
    t: &FeatureTable,
    n: usize,
    support: Support,
) -> Vec<usize> {
    let y = &t.y[..n];
    let base_rate = y.iter().filter(|&&v| v).count() as f64 / n.max(1) as f64;
    let counts = column_support(t, n);
    let ok = |j: usize| !support.thin(counts[j].0, counts[j].1, base_rate);
    let mut cols: Vec<usize> = t
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Source::Rule { .. }))
        .map(|(j, _)| j)
        .collect();
    // An explicit rule of one column: a rule over several values gets one number for all of
    // them, which a per-column selection cannot give.
    cols.extend(
        explicit_columns(live, t)
            .into_iter()
            .filter(|c| c.len() == 1)
            .map(|c| c[0]),
    );
    cols.sort_unstable();
    cols.dedup();
    cols.retain(|&j| ok(j));
    cols
}

/// Recommend points for every rule from `fit`, the coefficients fitted on the table's first `n`
/// rows (support and the points' scale are measured on those rows). `None` when the model's
/// scores do not vary.
pub fn weights(
    live: &ScoringModel,
    t: &FeatureTable,
    fit: &Coefficients,
    support: Support,
    n: usize,
) -> Option<Weights> {
    weights_for(live, t, fit, support, n, None)
}

/// [`weights`], or a first model's when `first` is given.
pub fn weights_for(
    live: &ScoringModel,
    t: &FeatureTable,
    fit: &Coefficients,
    support: Support,
    n: usize,
    first: Option<First<'_>>,
) -> Option<Weights> {
    let x = t.x.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..n));
    let logit: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let r = x.row(i);
            fit.raw_intercept + r.iter().zip(&fit.raw_coef).map(|(a, b)| a * b).sum::<f64>()
        })
        .collect();
    // The scale is measured on the capped counts: one extreme lead cannot stretch it.
    let scaling = match first {
        // A stated scale: `pdo` points double the odds.
        Some(f) => {
            let m = logit.iter().sum::<f64>() / n.max(1) as f64;
            let sd = (logit.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n.max(1) as f64).sqrt();
            (f.pdo > 0.0 && f.pdo.is_finite()).then(|| Scaling {
                factor: f.pdo / std::f64::consts::LN_2,
                pdo: f.pdo,
                live_sd: 0.0,
                model_sd: sd,
            })?
        }
        None => pdo_factor(&t.scale_score[..n], &logit)?,
    };
    let unselected = |j: usize| first.is_some_and(|f| !f.selection.has(j));
    // Why a first model gives a supported column 0 points.
    let zero_reason = |j: usize| match first {
        Some(f) if f.selection.noisy.contains(&j) => WITHIN_NOISE,
        _ => NOT_SELECTED,
    };
    let f = scaling.factor;
    let y = &t.y[..n];
    let base_rate = y.iter().filter(|&&v| v).count() as f64 / n.max(1) as f64;
    let thin = |leads: u64, conv: u64| support.thin(leads, conv, base_rate);
    let counts = column_support(t, n);
    let support_of = |j: usize| counts[j];
    let mut model = live.clone();
    // Per changed feature: (column, exact points per unit, rounded points per unit).
    let mut applied: Vec<(usize, f64, f64)> = Vec::new();
    let mut implicit = Vec::new();
    for (j, src) in t.sources.iter().enumerate() {
        let Source::Rule { rule, unit } = src else {
            continue;
        };
        let r = &live.implicit[*rule];
        let (leads, conv) = support_of(j);
        let beta = fit.raw_coef[j];
        let current = unit_of(&r.points);
        let exact = f * beta;
        let mut flags = Vec::new();
        let mut change = RuleChange {
            kind: "implicit",
            rule: r.name.clone(),
            current,
            exact: Some(exact),
            recommended: current,
            leads,
            converters: conv,
            coefficient: Some(beta),
            flags: vec![],
            reason: String::new(),
        };
        if leads == 0 {
            flags.push(Flag::NotExercised);
            change.reason = format!(
                "no training lead fired this rule; {}",
                kept(first.is_some())
            );
        } else if thin(leads, conv) {
            flags.push(Flag::LowSupport);
            change.reason = format!(
                "fired for {leads} leads ({conv} converted); at least {} leads and {} converters (or {} expected) needed to change it; {}",
                support.min_leads,
                support.min_converters,
                support.min_converters,
                kept(first.is_some())
            );
        } else if unselected(j) {
            change.exact = Some(0.0);
            change.coefficient = None;
            change.reason = zero_reason(j).into();
        } else {
            // `+ 0.0` turns a rounded -0.0 into 0.0: no signed zero reaches an output.
            let new_unit = exact.round() + 0.0;
            if current != 0.0 && new_unit != 0.0 && new_unit.signum() != current.signum() {
                flags.push(Flag::SignContradicts);
            }
            change.recommended = new_unit;
            change.reason = reason(beta, &flags, scaling.pdo, "each fire");
            let ratio = new_unit / unit;
            let m = &mut model.implicit[*rule];
            m.points = match &r.points {
                Points::Each(_) => Points::Each(new_unit),
                Points::Progressive(v) => {
                    Points::Progressive(v.iter().map(|p| (p * ratio).round()).collect())
                }
            };
            m.cap = r.cap.map(|c| (c * ratio).round()).filter(|c| *c != 0.0);
            applied.push((j, exact, new_unit));
        }
        // A first model's points are on its own scale: a rule it could not measure (never fired,
        // too thin) gets 0, never the live model's points (those matched nothing here).
        if first.is_some() && (leads == 0 || thin(leads, conv)) {
            change.recommended = 0.0;
            change.exact = Some(0.0);
            let m = &mut model.implicit[*rule];
            m.points = match &r.points {
                Points::Each(_) => Points::Each(0.0),
                Points::Progressive(v) => Points::Progressive(vec![0.0; v.len()]),
            };
            m.cap = None;
        }
        change.flags = flags;
        implicit.push(change);
    }
    // Explicit rules: attribute values against each attribute's baseline.
    let mut explicit = Vec::new();
    let mut covered = vec![false; t.sources.len()];
    let item_cols = explicit_columns(live, t);
    for cols in &item_cols {
        for &c in cols {
            covered[c] = true;
        }
    }
    let counts: Vec<(u64, u64)> = (0..t.sources.len()).map(support_of).collect();
    let baseline = |attr: &str| -> f64 {
        // A first model's values are measured against the values it gives no points.
        if first.is_some() {
            return 0.0;
        }
        let (mut s, mut w) = (0.0, 0.0);
        for (j, src) in t.sources.iter().enumerate() {
            if let Source::Level { attribute, .. } = src
                && attribute == attr
                && !covered[j]
            {
                s += fit.raw_coef[j] * counts[j].0 as f64;
                w += counts[j].0 as f64;
            }
        }
        if w > 0.0 { s / w } else { 0.0 }
    };
    for (k, r) in live.explicit.iter().enumerate() {
        let cols = &item_cols[k];
        let leads: u64 = cols.iter().map(|&c| counts[c].0).sum();
        let conv: u64 = cols.iter().map(|&c| counts[c].1).sum();
        let mut change = RuleChange {
            kind: "explicit",
            rule: r.name.clone(),
            current: r.points,
            exact: None,
            recommended: r.points,
            leads,
            converters: conv,
            coefficient: None,
            flags: vec![],
            reason: String::new(),
        };
        if leads == 0 {
            change.flags.push(Flag::NotExercised);
            change.reason = format!(
                "no training lead has this value (or it is pooled as rare); {}",
                kept(first.is_some())
            );
        } else if thin(leads, conv) {
            change.flags.push(Flag::LowSupport);
            change.reason = format!(
                "{leads} leads ({conv} converted) have this value; at least {} leads and {} converters (or {} expected) needed to change it; {}",
                support.min_leads,
                support.min_converters,
                support.min_converters,
                kept(first.is_some())
            );
        } else if cols.iter().all(|&c| unselected(c)) {
            change.exact = Some(0.0);
            change.reason = zero_reason(cols[0]).into();
        } else {
            let beta_item = cols
                .iter()
                .map(|&c| fit.raw_coef[c] * counts[c].0 as f64)
                .sum::<f64>()
                / leads as f64;
            let base = match r.condition {
                Condition::Range { .. } => 0.0,
                _ => baseline(&r.attribute),
            };
            let beta = beta_item - base;
            let exact = f * beta;
            let new = exact.round() + 0.0;
            if r.points != 0.0 && new != 0.0 && new.signum() != r.points.signum() {
                change.flags.push(Flag::SignContradicts);
            }
            change.exact = Some(exact);
            change.coefficient = Some(beta);
            change.recommended = new;
            change.reason = reason(beta, &change.flags, scaling.pdo, "this value");
            model.explicit[k].points = new;
            for &c in cols {
                applied.push((c, exact, new));
            }
        }
        if first.is_some() && (leads == 0 || thin(leads, conv)) {
            change.recommended = 0.0;
            change.exact = Some(0.0);
            model.explicit[k].points = 0.0;
        }
        explicit.push(change);
    }
    // Values the live model gives nothing.
    let mut suggestions = Vec::new();
    for (j, src) in t.sources.iter().enumerate() {
        // A first model's selection already weighed every column a rule reads; a value outside
        // the rules would get points on a fit that did not select it.
        if let Source::Level { attribute, value } = src
            && first.is_none()
            && !covered[j]
            && value != "(other)"
        {
            let p = (f * (fit.raw_coef[j] - baseline(attribute))).round() + 0.0;
            if p.abs() >= 3.0 && counts[j].0 >= support.min_leads {
                suggestions.push(Suggestion {
                    feature: t.names[j].clone(),
                    points: p,
                    leads: counts[j].0,
                    converters: counts[j].1,
                });
            }
        }
    }
    suggestions.sort_by(|a, b| {
        b.points
            .abs()
            .total_cmp(&a.points.abs())
            .then(a.feature.cmp(&b.feature))
    });
    // Rounding error of the score per training lead.
    // Per row in parallel; the sum is taken in row order, as a serial loop would.
    let errors: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            applied
                .iter()
                .map(|(c, exact, new)| x[[i, *c]] * (new - exact))
                .sum::<f64>()
                .abs()
        })
        .collect();
    let max = errors.iter().fold(0.0f64, |m, e| m.max(*e));
    let sum: f64 = errors.iter().sum();
    Some(Weights {
        model,
        scaling,
        implicit,
        explicit,
        suggestions,
        rounding_max: max,
        rounding_mean: if n > 0 { sum / n as f64 } else { 0.0 },
    })
}

/// What happens to a rule the data cannot measure: a live model keeps its points, a first
/// model (whose points are on its own scale) gives it 0.
fn kept(first: bool) -> &'static str {
    if first {
        "0 points in a first model"
    } else {
        "points kept"
    }
}

/// Why a first model gives a rule with enough support 0 points: never taken.
pub const NOT_SELECTED: &str =
    "adding it did not improve the out-of-time likelihood of the rules chosen before it; 0 points";

/// Why a first model gives a rule with enough support 0 points: taken, then within its noise.
pub const WITHIN_NOISE: &str = "improved the out-of-time likelihood when taken, but its effect on every lead stayed within two standard errors of 0; 0 points";

fn reason(beta: f64, flags: &[Flag], pdo: f64, what: &str) -> String {
    let odds = beta.exp();
    let mut s = format!(
        "{what} multiplies the odds of converting by {odds:.2} ({:+.2} PDO of {pdo:.1} points)",
        beta / std::f64::consts::LN_2
    );
    if flags.contains(&Flag::SignContradicts) {
        s.push_str("; its direction contradicts the current points");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdo_scaling_on_a_hand_computed_case() {
        // Live scores 0, 20, 40, 60 (sd 22.3607); log-odds -2, -1, 0, 1 (sd 1.118034):
        // factor = 20 points per unit of log-odds, PDO = 20 ln 2 = 13.8629.
        let s = pdo_factor(&[0.0, 20.0, 40.0, 60.0], &[-2.0, -1.0, 0.0, 1.0]).unwrap();
        assert!((s.factor - 20.0).abs() < 1e-12);
        assert!((s.pdo - 13.862944).abs() < 1e-6);
        // A coefficient of ln 2 per fire is then one PDO: 13.86 -> 14 points.
        assert_eq!((s.factor * std::f64::consts::LN_2).round(), 14.0);
        assert!(pdo_factor(&[1.0, 1.0], &[0.0, 1.0]).is_none());
    }
}
