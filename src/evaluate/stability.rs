//! Rule stability: each rule's effect per period, and whether it drifted out of time.
//!
//! Input: the [`FeatureTable`] (each evaluable lead's rule fire counts at its snapshot), the
//! leads (for explicit rules) and the live [`ScoringModel`]. Output: one [`RuleStability`] per
//! rule (`metrics.json`'s `rule_stability`, documented in `docs/metrics.md`).
//!
//! Method: one fit per period, not one fit with rule × period terms. A period's effect then
//! uses only that period's leads (and, through the features, only events before each lead's
//! snapshot), periods fit in parallel, and a period too thin to estimate cannot disturb the
//! others. Each fit is a logistic regression of conversion on every rule at once (implicit
//! rules as fires, explicit rules as 0/1 matches), with a weak ridge penalty λ = 1 (a normal
//! prior of sd 1 on the log-odds per fire) so that a rare rule does not diverge; intervals are
//! ±1.96 standard errors from the penalised Hessian (coverage checked on simulated data).
//!
//! Drift: the training periods' pooled effect against the test period's, z = Δ / √(se² + se²),
//! Benjamini–Hochberg across rules; a rule that fired in training and never in the test period
//! is tested by the chance of that (binomial). A detected drift is dated at the period split
//! whose before/after effects (inverse-variance pooled) differ most. When one rule loses its
//! effect, correlated rules pick up what it carried in an adjusted fit; a flagged rule whose
//! change is no longer significant, or at most half as large, once one of the two most strongly
//! drifted rules is left out of both fits is marked `carried_by` that rule.
//!
//! Guarantees: a period with too few leads or converters for a rule says `not_enough_data`
//! (never a number from a failed or thin fit); a rule that never fired says `never_fired`.

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::features::{FeatureTable, Source};
use crate::model::newton::{self, Design, NewtonFit};
use crate::scoring::config::ScoringModel;
use crate::scoring::explicit::explicit_hits;

use super::PeriodKind;

/// When an effect is estimated, and when a drift is called.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Settings {
    /// Leads a rule must fire for, and converters among them, for an effect in a set of leads.
    pub min_leads_fired: u64,
    pub min_converters_fired: u64,
    /// Ridge penalty on the log-odds per fire (the intercept is free).
    pub penalty: f64,
    /// Benjamini–Hochberg level for a drift.
    pub fdr: f64,
    /// Most leads one period's fit reads, and the pooled training or test fit: every k-th lead
    /// in creation order above it (at a million leads the effects are still known to a few
    /// hundredths, and the fits stay a small part of the run).
    pub max_leads_period: usize,
    pub max_leads_pooled: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_leads_fired: 30,
            min_converters_fired: 5,
            penalty: 1.0,
            fdr: 0.05,
            max_leads_period: 20_000,
            max_leads_pooled: 80_000,
        }
    }
}

/// Whether an effect could be estimated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Estimated,
    /// Too few leads the rule fired for, or too few converters among them (or the fit failed).
    NotEnoughData,
    /// The rule fired for no lead of the set.
    NeverFired,
}

/// One set of leads' estimate for one rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Effect {
    pub leads: u64,
    /// Leads the fit read (every k-th above the settings' maximum).
    pub leads_fitted: u64,
    pub leads_fired: u64,
    pub converters_fired: u64,
    pub status: Status,
    /// Log-odds per fire (implicit) or for a match (explicit), adjusted for the other rules.
    pub log_odds: Option<f64>,
    pub se: Option<f64>,
    pub ci: Option<[f64; 2]>,
}

/// One period's estimate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PeriodEffect {
    pub period: String,
    /// The period lies before the test period (the main model was fitted on its leads).
    pub training: bool,
    #[serde(flatten)]
    pub effect: Effect,
}

/// What kind of change a drift is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// The effect grew or shrank, keeping its sign.
    EffectChanged,
    /// The effect reversed: its training and test estimates have opposite signs and differ
    /// significantly (or both intervals lie on opposite sides of zero).
    SignChanged,
    /// The rule fired in training and for no lead of the test period.
    StoppedFiring,
}

/// The out-of-time verdict.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Drift {
    pub detected: bool,
    /// First period of the new behaviour (for a detected drift).
    pub since: Option<String>,
    /// Benjamini–Hochberg q-value across rules (`None`: not testable).
    pub q: Option<f64>,
    pub p: Option<f64>,
    /// Test minus training effect, in standard errors of the difference.
    pub z: Option<f64>,
    pub kind: Option<DriftKind>,
    /// A more strongly drifted rule without which this change is not significant: this may be
    /// that rule's effect shifting onto a correlated one rather than a drift of its own.
    pub carried_by: Option<String>,
}

/// One rule's stability.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleStability {
    /// The rule's name as in the config.
    pub rule: String,
    /// `implicit` (per fire) or `explicit` (per match).
    pub kind: String,
    pub periods: Vec<PeriodEffect>,
    pub training: Effect,
    pub test: Effect,
    pub drift: Drift,
}

/// The rules as columns: implicit fires at the snapshot, explicit matches.
struct Columns {
    names: Vec<(String, &'static str)>,
    /// Row-major, one row per feature-table row.
    x: Vec<f64>,
}

fn columns(
    ds: &Dataset,
    model: &ScoringModel,
    t: &FeatureTable,
    step: &crate::progress::Step,
) -> Result<Columns> {
    let n = t.y.len();
    let mut names = Vec::new();
    let mut implicit = Vec::new();
    for (j, s) in t.sources.iter().enumerate() {
        if let Source::Rule { rule, .. } = s {
            names.push((model.implicit[*rule].name.clone(), "implicit"));
            implicit.push(j);
        }
    }
    step.part("which leads each attribute rule matches");
    let hits = explicit_hits(ds.leads.clone().lazy(), model)
        .collect()
        .map_err(Error::polars("explicit rule matches"))?;
    let mut explicit: Vec<Vec<bool>> = Vec::new();
    for (r, c) in model.explicit.iter().zip(hits.columns()) {
        names.push((r.name.clone(), "explicit"));
        let b: Vec<bool> = c
            .bool()
            .map_err(Error::polars("explicit rule matches"))?
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect();
        explicit.push(t.lead_rows.iter().map(|&row| b[row as usize]).collect());
    }
    step.part("each rule's column as of every lead's snapshot");
    let p = names.len();
    let mut x = vec![0.0; n * p];
    x.par_chunks_mut(p.max(1)).enumerate().for_each(|(i, row)| {
        for (k, &j) in implicit.iter().enumerate() {
            row[k] = t.x[[i, j]];
        }
        for (k, e) in explicit.iter().enumerate() {
            row[implicit.len() + k] = f64::from(u8::from(e[i]));
        }
    });
    Ok(Columns { names, x })
}

/// A set of leads (rows of the feature table) and the ones its fit reads.
struct Set {
    all: Vec<usize>,
    fitted: Vec<usize>,
}

/// Every k-th of `rows` fitted so that at most `max` are.
fn thin(all: Vec<usize>, max: usize) -> Set {
    let k = all.len().div_ceil(max.max(1)).max(1);
    let fitted = all.iter().copied().step_by(k).collect();
    Set { all, fitted }
}

/// Fit one set of rows; `skip` leaves one rule out of the fit; `start`: a nearby fit's
/// intercept and coefficients (one per rule) to start from.
fn estimate(
    c: &Columns,
    y: &[bool],
    set: &Set,
    s: &Settings,
    skip: Option<usize>,
    start: Option<&[f64]>,
) -> (Vec<Effect>, Option<Vec<f64>>) {
    let p = c.names.len();
    let z = crate::stats::z95();
    let count = |rows: &[usize]| {
        let mut counts = vec![(0u64, 0u64); p];
        for &r in rows {
            for (k, v) in c.x[r * p..(r + 1) * p].iter().enumerate() {
                if *v != 0.0 {
                    counts[k].0 += 1;
                    counts[k].1 += u64::from(y[r]);
                }
            }
        }
        counts
    };
    let rows = &set.fitted[..];
    let all = if set.fitted.len() == set.all.len() {
        None
    } else {
        Some(count(&set.all))
    };
    let counts = count(rows);
    let shown = all.as_ref().unwrap_or(&counts);
    let converters = rows.iter().filter(|&&r| y[r]).count() as u64;
    let n = rows.len() as u64;
    // Columns that vary in these rows (a column that is all zero or all one has no effect here).
    let cols: Vec<usize> = (0..p)
        .filter(|&k| Some(k) != skip && counts[k].0 > 0 && counts[k].0 < n)
        .collect();
    let enough = converters >= s.min_converters_fired && n - converters >= s.min_converters_fired;
    let begin: Option<Vec<f64>> = start.map(|b| {
        std::iter::once(b[0])
            .chain(cols.iter().map(|&k| b[k + 1]))
            .collect()
    });
    let fit: Option<NewtonFit> = enough
        .then(|| {
            newton::fit_from(
                Design {
                    x: &c.x,
                    width: p,
                    y,
                    rows,
                    cols: &cols,
                },
                s.penalty,
                begin.as_deref(),
            )
            .ok()
        })
        .flatten();
    // The fit as a start for others: intercept, then every rule (0 where left out).
    let full = fit.as_ref().map(|f| {
        let mut b = vec![0.0; p + 1];
        b[0] = f.intercept;
        for (a, &k) in cols.iter().enumerate() {
            b[k + 1] = f.coef[a];
        }
        b
    });
    let effects = (0..p)
        .map(|k| {
            let (fired, conv) = counts[k];
            let status = if n == 0 {
                Status::NotEnoughData
            } else if fired == 0 {
                Status::NeverFired
            } else if fired < s.min_leads_fired || conv < s.min_converters_fired || fired == n {
                Status::NotEnoughData
            } else {
                Status::Estimated
            };
            let at = cols.iter().position(|&j| j == k);
            let (log_odds, se) = match (status, &fit, at) {
                (Status::Estimated, Some(f), Some(a)) => (Some(f.coef[a]), Some(f.se(a))),
                _ => (None, None),
            };
            Effect {
                leads: set.all.len() as u64,
                leads_fitted: n,
                leads_fired: shown[k].0,
                converters_fired: shown[k].1,
                status: if log_odds.is_some() || status != Status::Estimated {
                    status
                } else {
                    Status::NotEnoughData
                },
                log_odds,
                se,
                ci: log_odds.zip(se).map(|(b, e)| [b - z * e, b + z * e]),
            }
        })
        .collect();
    (effects, full)
}

fn two_sided(z: f64) -> f64 {
    2.0 * Normal::standard().sf(z.abs())
}

fn z_of(a: &Effect, b: &Effect) -> Option<f64> {
    let (ba, sa) = (a.log_odds?, a.se?);
    let (bb, sb) = (b.log_odds?, b.se?);
    let d = (sa * sa + sb * sb).sqrt();
    (d > 0.0).then(|| (bb - ba) / d)
}

/// A testable rule's out-of-time comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Verdict {
    p: f64,
    z: Option<f64>,
    kind: DriftKind,
}

/// Training effect `a` against test effect `b`; `None` when they cannot be compared.
fn verdict(a: &Effect, b: &Effect) -> Option<Verdict> {
    if a.status == Status::Estimated && b.leads > 0 && b.leads_fired == 0 {
        // Fired for a share f of training leads and for none of n test leads.
        let f = a.leads_fired as f64 / a.leads as f64;
        return Some(Verdict {
            p: (1.0 - f).powf(b.leads as f64),
            z: None,
            kind: DriftKind::StoppedFiring,
        });
    }
    let z = z_of(a, b)?;
    // Reversed: both intervals on opposite sides of zero, or the estimates of opposite signs
    // (the kind is only reported for a significant difference).
    let opposite_intervals = match (a.ci, b.ci) {
        (Some(x), Some(y)) => (x[0] > 0.0 && y[1] < 0.0) || (x[1] < 0.0 && y[0] > 0.0),
        _ => false,
    };
    let opposite_estimates = matches!((a.log_odds, b.log_odds), (Some(x), Some(y)) if x * y < 0.0);
    let sign_changed = opposite_intervals || opposite_estimates;
    Some(Verdict {
        p: two_sided(z),
        z: Some(z),
        kind: if sign_changed {
            DriftKind::SignChanged
        } else {
            DriftKind::EffectChanged
        },
    })
}

/// The first period of the new behaviour: the split whose pooled before/after effects differ
/// most, in the direction of the out-of-time change.
fn change_point(periods: &[PeriodEffect], direction: f64) -> Option<String> {
    let est: Vec<(&str, f64, f64)> = periods
        .iter()
        .filter_map(|p| {
            let se = p.effect.se.filter(|s| *s > 0.0)?;
            Some((p.period.as_str(), p.effect.log_odds?, 1.0 / (se * se)))
        })
        .collect();
    let pooled = |v: &[(&str, f64, f64)]| {
        let w: f64 = v.iter().map(|e| e.2).sum();
        (v.iter().map(|e| e.1 * e.2).sum::<f64>() / w, w)
    };
    (1..est.len())
        .map(|k| {
            let (a, wa) = pooled(&est[..k]);
            let (b, wb) = pooled(&est[k..]);
            (
                k,
                direction.signum() * (b - a) / (1.0 / wa + 1.0 / wb).sqrt(),
            )
        })
        .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
        .map(|(k, _)| est[k].0.to_string())
}

/// Every rule's effect per period and its out-of-time drift.
pub fn rule_stability(
    ds: &Dataset,
    model: &ScoringModel,
    t: &FeatureTable,
    kind: PeriodKind,
    since: NaiveDate,
    s: &Settings,
) -> Result<Vec<RuleStability>> {
    let _t = crate::timing::Stage::start("rule stability");
    let step = crate::progress::Step::parts("rule effects per period", 2);
    let cs = crate::timing::Stage::start("rule stability: rule columns");
    let c = columns(ds, model, t, &step)?;
    drop(cs);
    let _f = crate::timing::Stage::start("rule stability: fits");
    let keys = super::period_starts(&t.created, kind, since);
    let starts: Vec<NaiveDate> = {
        let mut all = super::period_starts(&t.all_created, kind, since);
        all.sort_unstable();
        all.dedup();
        all
    };
    let sets: Vec<Vec<usize>> = starts
        .iter()
        .map(|st| (0..t.y.len()).filter(|&i| keys[i] == *st).collect())
        .collect();
    let sets: Vec<Set> = sets
        .into_iter()
        .map(|r| thin(r, s.max_leads_period))
        .collect();
    let train = thin((0..t.n_train).collect(), s.max_leads_pooled);
    let test = thin((t.n_train..t.y.len()).collect(), s.max_leads_pooled);
    drop(step);
    let fits = crate::progress::Step::bar(
        "rule effects per period: one fit per period, training and test",
        sets.len() as u64 + 2,
        "fits",
    );
    let done = fits.counter();
    // The pooled training fit first: every other fit starts from its estimates.
    let (tr, start) = estimate(&c, &t.y, &train, s, None, None);
    done.add(1);
    let (per_period, te) = rayon::join(
        || {
            sets.par_iter()
                .map(|rows| {
                    let e = estimate(&c, &t.y, rows, s, None, start.as_deref()).0;
                    done.add(1);
                    e
                })
                .collect::<Vec<_>>()
        },
        || {
            let e = estimate(&c, &t.y, &test, s, None, start.as_deref()).0;
            done.add(1);
            e
        },
    );
    fits.say("rule effects per period: drift tests, and the carriers' refits");
    let tests: Vec<Option<Verdict>> = (0..c.names.len())
        .map(|k| verdict(&tr[k], &te[k]))
        .collect();
    let ps: Vec<f64> = tests.iter().flatten().map(|t| t.p).collect();
    let qs = crate::stats::benjamini_hochberg(&ps);
    let mut q_iter = qs.into_iter();
    let mut out: Vec<RuleStability> = Vec::new();
    for (k, (name, kind_name)) in c.names.iter().enumerate() {
        let periods: Vec<PeriodEffect> = starts
            .iter()
            .zip(&per_period)
            .map(|(st, e)| PeriodEffect {
                period: kind.label(*st),
                training: sets_training(t, &sets, starts.iter().position(|x| x == st)),
                effect: e[k].clone(),
            })
            .collect();
        let mut drift = Drift {
            detected: false,
            since: None,
            q: None,
            p: None,
            z: None,
            kind: None,
            carried_by: None,
        };
        if let Some(Verdict { p, z, kind: dk }) = tests[k] {
            let q = q_iter.next().unwrap_or(1.0);
            drift.p = Some(p);
            drift.q = Some(q);
            drift.z = z;
            if q < s.fdr {
                drift.detected = true;
                drift.kind = Some(dk);
                drift.since = match dk {
                    // The first period from which on it fired for none of the period's leads.
                    DriftKind::StoppedFiring => periods
                        .iter()
                        .rposition(|p| p.effect.leads_fired > 0)
                        .and_then(|k| periods[k + 1..].iter().find(|p| p.effect.leads > 0))
                        .map(|p| p.period.clone()),
                    _ => change_point(&periods, z.unwrap_or(0.0)),
                };
            }
        }
        out.push(RuleStability {
            rule: name.clone(),
            kind: (*kind_name).to_string(),
            periods,
            training: tr[k].clone(),
            test: te[k].clone(),
            drift,
        });
    }
    // A flagged change that vanishes once a more strongly drifted rule is left out of both fits.
    let strength = |r: &RuleStability| r.drift.z.map_or(f64::INFINITY, f64::abs);
    let flagged: Vec<usize> = (0..out.len()).filter(|&k| out[k].drift.detected).collect();
    // Each candidate carrier's refits once: training and test without it.
    // The two most strongly drifted rules are the candidate carriers.
    let mut carriers: Vec<usize> = flagged
        .iter()
        .copied()
        .filter(|&a| out[a].drift.kind != Some(DriftKind::StoppedFiring))
        .collect();
    carriers.sort_by(|&x, &y| {
        strength(&out[y])
            .total_cmp(&strength(&out[x]))
            .then(x.cmp(&y))
    });
    carriers.truncate(2);
    let without: Vec<(usize, Vec<Effect>, Vec<Effect>)> = carriers
        .par_iter()
        .map(|&a| {
            let tr = estimate(&c, &t.y, &train, s, Some(a), start.as_deref()).0;
            let te = estimate(&c, &t.y, &test, s, Some(a), start.as_deref()).0;
            (a, tr, te)
        })
        .collect();
    let mut carried: Vec<(usize, String)> = Vec::new();
    for &b in &flagged {
        if out[b].drift.kind == Some(DriftKind::StoppedFiring) {
            continue;
        }
        let mut stronger: Vec<&(usize, Vec<Effect>, Vec<Effect>)> = without
            .iter()
            .filter(|(a, ..)| *a != b && strength(&out[*a]) > strength(&out[b]))
            .collect();
        stronger.sort_by(|x, y| strength(&out[y.0]).total_cmp(&strength(&out[x.0])));
        let change = |tr: &[Effect], te: &[Effect]| Some(te[b].log_odds? - tr[b].log_odds?);
        let with = change(&tr, &te).unwrap_or(0.0);
        if let Some((a, ..)) = stronger.into_iter().find(|(_, tr2, te2)| {
            let gone = z_of(&tr2[b], &te2[b]).is_some_and(|z| two_sided(z) >= s.fdr);
            let halved = change(tr2, te2).is_some_and(|d| d.abs() <= 0.5 * with.abs());
            gone || halved
        }) {
            carried.push((b, out[*a].rule.clone()));
        }
    }
    for (b, a) in carried {
        out[b].drift.carried_by = Some(a);
    }
    Ok(out)
}

fn sets_training(t: &FeatureTable, sets: &[Set], at: Option<usize>) -> bool {
    at.and_then(|k| sets[k].all.first())
        .is_some_and(|&i| i < t.n_train)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effect(b: f64, se: f64) -> PeriodEffect {
        PeriodEffect {
            period: format!("{b}"),
            training: true,
            effect: Effect {
                leads: 100,
                leads_fitted: 100,
                leads_fired: 50,
                converters_fired: 10,
                status: Status::Estimated,
                log_odds: Some(b),
                se: Some(se),
                ci: None,
            },
        }
    }

    fn est(leads: u64, fired: u64, b: Option<f64>, se: f64) -> Effect {
        let z = crate::stats::z95();
        Effect {
            leads,
            leads_fitted: leads,
            leads_fired: fired,
            converters_fired: fired / 10,
            status: if b.is_some() {
                Status::Estimated
            } else if fired == 0 {
                Status::NeverFired
            } else {
                Status::NotEnoughData
            },
            log_odds: b,
            se: b.map(|_| se),
            ci: b.map(|b| [b - z * se, b + z * se]),
        }
    }

    #[test]
    fn a_sign_change_a_rule_that_stopped_firing_and_a_stable_rule_are_told_apart() {
        let train = est(5000, 800, Some(0.6), 0.05);
        let flipped = verdict(&train, &est(1000, 150, Some(-0.5), 0.1)).unwrap();
        assert_eq!(flipped.kind, DriftKind::SignChanged);
        assert!(flipped.p < 1e-12);
        let weaker = verdict(&train, &est(1000, 150, Some(0.2), 0.1)).unwrap();
        assert_eq!(weaker.kind, DriftKind::EffectChanged);
        let stable = verdict(&train, &est(1000, 150, Some(0.62), 0.1)).unwrap();
        assert!(stable.p > 0.5);
        // 16% of training leads fired; none of 1,000 test leads: (0.84)^1000.
        let stopped = verdict(&train, &est(1000, 0, None, 0.0)).unwrap();
        assert_eq!(stopped.kind, DriftKind::StoppedFiring);
        assert!((stopped.p / 0.84f64.powi(1000) - 1.0).abs() < 1e-9);
        // The reversal a real pipeline showed: +0.19 in training, -0.28 in test, the test
        // interval reaching over zero. It was called "the effect grew" (larger in size).
        let reversed = verdict(
            &est(5000, 800, Some(0.19), 0.05),
            &est(1000, 150, Some(-0.28), 0.15),
        )
        .unwrap();
        assert_eq!(reversed.kind, DriftKind::SignChanged);
        assert!(reversed.p < 0.01);
        // Not enough data in the test period: nothing to test.
        assert_eq!(verdict(&train, &est(1000, 12, None, 0.0)), None);
    }

    #[test]
    fn the_change_point_is_the_first_period_of_the_new_effect() {
        let p: Vec<PeriodEffect> = [0.9, 1.1, 1.0, 0.1, -0.1, 0.0]
            .iter()
            .enumerate()
            .map(|(k, b)| PeriodEffect {
                period: format!("P{k}"),
                ..effect(*b, 0.2)
            })
            .collect();
        assert_eq!(change_point(&p, -1.0).as_deref(), Some("P3"));
    }
}
