//! The walk-forward back-test of the recommendation procedure, and the recency half-life it
//! chooses for the deployed weights.
//!
//! Input: the live model, the [`FeatureTable`] (its design matrix still in memory), the
//! penalty the main fit chose, and the test period's start. Output: [`WalkForward`] (one
//! [`Fold`] per quarter: what the procedure, run on the leads whose outcomes had matured
//! before the quarter began, would have given in that quarter, beside today's config) and the
//! [`Coefficients`] of the deployed weights: every mature lead, weighted by recency with the
//! chosen half-life.
//!
//! Method: the folds are the calendar quarters of the test period (at least
//! [`Settings::min_folds`]; earlier quarters are added when the test period is shorter). For a
//! quarter starting at `s`, the procedure sees only leads with snapshot + horizon ≤ `s`. Each
//! half-life candidate (none, 365, 180, 90 days; a lead created `a` days before `s` weighs
//! 0.5^(a / half-life)) is refitted on them at the main fit's penalty and scored by the
//! quarter's log-loss. A fold's own recommendation uses the half-life the folds before it chose
//! (none for the first), so every fold's figures are out of time, the half-life included; the
//! deployed weights use the one all folds choose. Walking from none to ever shorter
//! half-lives, one replaces the current choice only when its log-loss gain over the pooled
//! quarters' leads is at least [`Settings::margin_se`] standard errors and
//! [`Settings::margin_share`] of the log-loss.
//!
//! Cost: the refits use a case-control sample of at most [`Settings::fit_rows`] leads, each
//! row weighted back to the leads it stands for (so a refit estimates the fit on every lead,
//! as the main fit does), and the threshold search replays at most [`Settings::search_leads`];
//! `benches/WALK-SAMPLE.md` holds what that changes against the full sizes.
//!
//! Guarantees: deterministic (seeded samples, fixed-order sums); a quarter whose mature leads
//! hold too few converters is listed with the reason, not skipped silently.

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::procedure::{self, Context};
use super::ranking::{self, Ranking};
use super::thresholds;
use crate::error::{Error, Result};
use crate::evaluate::{self, PeriodKind, ThresholdMetrics};
use crate::model::{self, Coefficients, LogisticParams};
use crate::units::{DAY_US, months_between};

/// How the walk-forward runs.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Recency half-lives in days; `None` weighs every lead alike (today's procedure).
    pub half_lives: Vec<Option<f64>>,
    pub min_folds: usize,
    /// Most leads in a refit's case-control sample.
    pub fit_rows: usize,
    /// Most leads of the deployed refit's sample.
    pub deployed_fit_rows: usize,
    /// Most leads a fold's threshold search replays.
    pub search_leads: usize,
    /// Standard errors of log-loss gain a half-life needs to replace the longer choice.
    pub margin_se: f64,
    /// Share of the longer choice's log-loss that gain must also reach (decay's practical
    /// margin): smaller gains were within what the refit sample moves.
    pub margin_share: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            half_lives: vec![None, Some(365.0), Some(180.0), Some(90.0)],
            min_folds: 3,
            fit_rows: 60_000,
            deployed_fit_rows: 120_000,
            search_leads: 100_000,
            margin_se: 2.0,
            margin_share: super::decay::MARGIN_SHARE,
        }
    }
}

/// One config's figures in one quarter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Figures {
    pub ranking: Ranking,
    pub mql: f64,
    pub sql: f64,
    pub handovers: u64,
    pub converted_after_handover: u64,
    pub handovers_per_month: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

/// One quarter of the walk-forward.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Fold {
    pub period: String,
    /// First and last day of lead creation in the quarter.
    pub from: String,
    pub until: String,
    /// Mature leads the procedure saw (snapshot + horizon before the quarter began).
    pub fitted_leads: u64,
    pub fitted_converted: u64,
    /// Evaluable leads created in the quarter.
    pub leads: u64,
    pub converted: u64,
    /// The half-life this quarter's recommendation used (chosen on the quarters before it).
    pub half_life_days: Option<f64>,
    /// The quarter's log-loss for each candidate half-life, in [`Settings::half_lives`] order.
    pub log_loss: Vec<Option<f64>>,
    pub today: Option<Figures>,
    pub recommended: Option<Figures>,
    /// Why the quarter has no figures, when it has none.
    pub note: Option<String>,
}

/// One half-life candidate over all quarters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HalfLife {
    pub half_life_days: Option<f64>,
    /// Mean log-loss over every quarter's leads.
    pub log_loss: Option<f64>,
    /// Log-loss gain over "none", per lead, and its standard error.
    pub gain: f64,
    pub gain_se: f64,
}

/// Figures pooled over the quarters: hand-overs summed, ranking averaged.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pooled {
    pub roc_auc: Option<f64>,
    pub pr_auc: Option<f64>,
    pub top_tenth_lift: Option<f64>,
    pub handovers_per_month: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

/// The walk-forward back-test.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WalkForward {
    pub folds: Vec<Fold>,
    pub half_lives: Vec<HalfLife>,
    /// The half-life of the deployed weights (`None`: every mature lead alike).
    pub chosen_half_life_days: Option<f64>,
    /// Over the quarters with figures.
    pub today: Option<Pooled>,
    pub recommended: Option<Pooled>,
    pub fit_rows: usize,
    pub search_leads: usize,
    /// Rules the deployed weights give their effect since their drift.
    pub recent_effect: Vec<Recent>,
}

/// What the walk-forward reads.
pub struct Inputs<'a> {
    pub context: Context<'a>,
    pub params: &'a LogisticParams,
    /// The main fit's penalty per row.
    pub penalty: f64,
    pub since: i64,
    pub test_from: i64,
    pub data_end: i64,
    /// Rules whose drift rule stability detected: the deployed fit gives them their effect
    /// since the drift's first period.
    pub drifted: Vec<Recent>,
}

/// A rule the deployed weights give its recent effect.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recent {
    pub rule: String,
    /// The drift's first period (as rule stability names it) and its first day.
    pub period: String,
    pub from: String,
    #[serde(skip)]
    pub column: usize,
    #[serde(skip)]
    pub from_us: i64,
}

fn date(us: i64) -> Result<NaiveDate> {
    crate::timeparse::from_micros(us)
        .map(|d| d.date())
        .ok_or_else(|| Error::Internal(format!("time {us} out of range")))
}

fn micros(d: NaiveDate) -> i64 {
    crate::timeparse::to_micros(d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// One (quarter, half-life) refit and its per-lead log-loss on the quarter.
type Fitted = ((usize, usize), Coefficients, Vec<f64>);

/// Recency weights of the first `n` rows as of `at`.
fn recency(created: &[i64], n: usize, at: i64, half_life: Option<f64>) -> Option<Vec<f64>> {
    half_life.map(|h| {
        created[..n]
            .iter()
            .map(|&c| 0.5f64.powf(((at - c) as f64 / DAY_US as f64).max(0.0) / h))
            .collect()
    })
}

/// Per-lead log-loss of `p` for outcomes `y` (clipped as scikit-learn's).
fn losses(y: &[bool], p: &[f64]) -> Vec<f64> {
    y.iter()
        .zip(p)
        .map(|(&y, &p)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .collect()
}

/// Walks the candidates in order (none first, then ever shorter half-lives: ever fewer
/// effective leads): a candidate replaces the current choice only when its per-lead loss gain
/// over that choice is at least `margin` standard errors and `share` of its log-loss, so a
/// half-life that merely ties a longer one, or gains too little to matter, is not taken (the
/// refit sample's noise would otherwise decide). Returns the choice and every candidate's gain
/// over candidate 0 with its standard error.
/// `per_candidate[k]` holds the same leads' losses for candidate `k`.
fn pick(per_candidate: &[Vec<f64>], margin: f64, share: f64) -> (usize, Vec<(f64, f64)>) {
    // Fewer than two leads pair up (the first quarter has no quarters before it): no gain.
    let paired = |a: &[f64], b: &[f64]| crate::stats::paired_gain(a, b).unwrap_or((0.0, 0.0));
    let gains: Vec<(f64, f64)> = per_candidate
        .iter()
        .map(|l| paired(&per_candidate[0], l))
        .collect();
    let mut best = 0;
    for k in 1..per_candidate.len() {
        let current = &per_candidate[best];
        let (gain, se) = paired(current, &per_candidate[k]);
        let loss = current.iter().sum::<f64>() / current.len().max(1) as f64;
        if gain > 0.0 && gain >= margin * se && gain >= share * loss {
            best = k;
        }
    }
    (best, gains)
}

fn figures(r: Ranking, mql: f64, sql: f64, h: &ThresholdMetrics) -> Figures {
    Figures {
        ranking: r,
        mql,
        sql,
        handovers: h.handovers,
        converted_after_handover: h.converted_after_handover,
        handovers_per_month: h.handovers_per_month.value,
        precision: h.precision.value,
        recall: h.recall.value,
    }
}

fn pooled(figs: &[&Figures], converted: u64, months: f64) -> Option<Pooled> {
    if figs.is_empty() {
        return None;
    }
    let mean = |f: &dyn Fn(&Figures) -> Option<f64>| {
        let v: Vec<f64> = figs.iter().filter_map(|x| f(x)).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let handed: u64 = figs.iter().map(|f| f.handovers).sum();
    let caught: u64 = figs.iter().map(|f| f.converted_after_handover).sum();
    Some(Pooled {
        roc_auc: mean(&|f| f.ranking.roc_auc.value),
        pr_auc: mean(&|f| f.ranking.pr_auc.value),
        top_tenth_lift: mean(&|f| f.ranking.top_tenth_lift.value),
        handovers_per_month: (months > 0.0).then(|| handed as f64 / months),
        precision: (handed > 0).then(|| caught as f64 / handed as f64),
        recall: (converted > 0).then(|| caught as f64 / converted as f64),
    })
}

/// The quarters to walk: those of the test period, and earlier ones up to `min` in all.
fn quarters(first: i64, test_from: i64, last: i64, min: usize) -> Result<Vec<NaiveDate>> {
    let q = PeriodKind::Quarter;
    let (first, test_from, last) = (date(first)?, date(test_from)?, date(last)?);
    let mut start = q.start(test_from, test_from);
    if start < test_from {
        start = evaluate::add_months(start, 3);
    }
    let mut out = Vec::new();
    let mut s = start;
    while s <= last {
        out.push(s);
        s = evaluate::add_months(s, 3);
    }
    let mut s = start;
    while out.len() < min {
        s = evaluate::add_months(s, -3);
        if s <= first {
            break;
        }
        out.insert(0, s);
    }
    Ok(out)
}

/// Run the walk-forward.
pub fn run(w: &Inputs<'_>, s: &Settings) -> Result<WalkForward> {
    let _t = crate::timing::Stage::start("recommend: walk-forward");
    let c = &w.context;
    let t = c.table;
    let horizon = c.horizon_days * DAY_US;
    let starts = match (t.created.first(), t.created.last()) {
        (Some(&a), Some(&b)) => quarters(a, w.test_from, b, s.min_folds)?,
        _ => Vec::new(),
    };
    // (start, end, fitted prefix, evaluated rows)
    let plan: Vec<(NaiveDate, i64, i64, usize, Vec<usize>)> = starts
        .iter()
        .map(|&d| {
            let (from, to) = (micros(d), micros(evaluate::add_months(d, 3)));
            let m = t.snapshot.partition_point(|&sn| sn + horizon <= from);
            let a = t.created.partition_point(|&c| c < from);
            let b = t.created.partition_point(|&c| c < to);
            (d, from, to, m, (a..b).collect())
        })
        .collect();
    let fits_ok = |m: usize| {
        let k = t.y[..m].iter().filter(|&&v| v).count();
        k >= w.params.min_converters && k < m
    };
    // Every (quarter, half-life) refit and its per-lead losses on the quarter: one sample per
    // quarter, the half-lives warm-started from "none".
    let usable: Vec<usize> = (0..plan.len())
        .filter(|&f| fits_ok(plan[f].3) && !plan[f].4.is_empty())
        .collect();
    let fits_t = crate::timing::Stage::start("recommend: walk-forward: refits");
    let step = crate::progress::Step::bar(
        "walking forward quarter by quarter: refits, then the procedure on each quarter",
        (usable.len() + plan.len()) as u64,
        "steps",
    );
    let done = step.counter();
    let per_fold: Vec<Vec<Fitted>> = usable
        .par_iter()
        .map(|&f| {
            let (_, from, _, m, rows) = &plan[f];
            let x = t.x.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..*m));
            let wts: Vec<Option<Vec<f64>>> = s
                .half_lives
                .iter()
                .map(|h| recency(&t.created, *m, *from, *h))
                .collect();
            let views: Vec<Option<&[f64]>> = wts.iter().map(|w| w.as_deref()).collect();
            let coefs =
                model::refit_many(x, &t.y[..*m], &views, w.penalty, s.fit_rows, w.params, &[])?;
            let y: Vec<bool> = rows.iter().map(|&i| t.y[i]).collect();
            done.add(1);
            Ok(coefs
                .into_iter()
                .enumerate()
                .map(|(h, coef)| {
                    let p = coef.predict_rows(t.x.view(), rows);
                    ((f, h), coef, losses(&y, &p))
                })
                .collect())
        })
        .collect::<std::result::Result<_, model::FitError>>()?;
    let fitted: Vec<Fitted> = per_fold.into_iter().flatten().collect();
    drop(fits_t);
    let _replays = crate::timing::Stage::start("recommend: walk-forward: points and replays");
    let loss_of = |f: usize, h: usize| fitted.iter().find(|x| x.0 == (f, h));
    // Half-life by the quarters in `folds`: pooled per-lead losses per candidate.
    let choose = |folds: &[usize]| {
        let per: Vec<Vec<f64>> = (0..s.half_lives.len())
            .map(|h| {
                folds
                    .iter()
                    .filter_map(|&f| loss_of(f, h))
                    .flat_map(|x| x.2.iter().copied())
                    .collect()
            })
            .collect();
        let (k, gains) = pick(&per, s.margin_se, s.margin_share);
        (k, gains, per)
    };
    let with_fits: Vec<usize> = (0..plan.len())
        .filter(|&f| loss_of(f, 0).is_some())
        .collect();
    let mut folds = Vec::new();
    for (f, (d, from, to, m, rows)) in plan.iter().enumerate() {
        done.add(1);
        let y: Vec<bool> = rows.iter().map(|&i| t.y[i]).collect();
        let last = rows.last().map_or(*to - 1, |&i| t.created[i]);
        let mut fold = Fold {
            period: PeriodKind::Quarter.label(*d),
            from: d.to_string(),
            until: date(last.max(*from))?.to_string(),
            fitted_leads: *m as u64,
            fitted_converted: t.y[..*m].iter().filter(|&&v| v).count() as u64,
            leads: rows.len() as u64,
            converted: y.iter().filter(|&&v| v).count() as u64,
            half_life_days: None,
            log_loss: (0..s.half_lives.len())
                .map(|h| loss_of(f, h).map(|x| x.2.iter().sum::<f64>() / x.2.len().max(1) as f64))
                .collect(),
            today: None,
            recommended: None,
            note: None,
        };
        if rows.is_empty() {
            fold.note = Some("no evaluable lead was created in this quarter".into());
            folds.push(fold);
            continue;
        }
        if loss_of(f, 0).is_none() {
            fold.note = Some(format!(
                "{} mature leads ({} converted) before the quarter began: at least {} converters are needed to fit",
                m, fold.fitted_converted, w.params.min_converters
            ));
            folds.push(fold);
            continue;
        }
        let before: Vec<usize> = with_fits.iter().copied().filter(|&g| g < f).collect();
        let h = if before.is_empty() {
            0
        } else {
            choose(&before).0
        };
        fold.half_life_days = s.half_lives[h];
        let coef = &loss_of(f, h).expect("fitted above").1;
        let months_fitted = months_between(w.since, t.created[m - 1]).max(f64::MIN_POSITIVE);
        // The quarter's months with data (the last quarter may end early).
        let data_to = (*to).min(t.created.last().map_or(*to, |&c| c + DAY_US));
        let months = months_between(*from, data_to);
        let today_rank = ranking::ranking(
            &y,
            &rows.iter().map(|&i| t.live_score[i]).collect::<Vec<_>>(),
            &[],
        );
        let today = evaluate::handover_metrics(
            t,
            rows,
            "sql",
            c.live.sql,
            &|i| t.sql_at[i],
            c.horizon_days,
            months,
            &[],
        );
        fold.today = Some(figures(today_rank, c.live.mql, c.live.sql, &today));
        let tw = crate::timing::Stage::start("recommend: walk-forward: weights");
        let wts = match c.first_pdo {
            // A first model's procedure selects its rules on the fold's mature leads.
            Some(pdo) => procedure::first_model(c, pdo, *m)?.map(|(w, _)| w),
            None => super::weights::weights(c.live, t, coef, c.support, *m),
        };
        drop(tw);
        let _tt = crate::timing::Stage::start("recommend: walk-forward: thresholds");
        let proposal = match wts {
            Some(wts) => {
                let te = crate::timing::Stage::start("recommend: walk-forward: explicit");
                let needed: Vec<usize> = thresholds::SearchSample::at_most(*m, s.search_leads)
                    .rows
                    .into_iter()
                    .chain(rows.iter().copied())
                    .collect();
                let explicit = procedure::explicit_points_of(c.leads, t, &wts.model, &needed)?;
                drop(te);
                Some(procedure::thresholds_for(
                    c,
                    wts,
                    explicit,
                    &procedure::Leads {
                        n: *m,
                        replay_end: *from,
                        search_leads: s.search_leads,
                        months: months_fitted,
                    },
                    None,
                )?)
            }
            None => None,
        };
        drop(_tt);
        let _te = crate::timing::Stage::start("recommend: walk-forward: evaluation");
        match proposal {
            Some(p) => {
                let scores = procedure::at_snapshot(t, &p.weights.model, &p.explicit, rows);
                let first = rows[0];
                let crossings =
                    t.first_crossings(&p.weights.model, &p.explicit, rows, w.data_end, &[p.sql])?;
                let rec = evaluate::handover_metrics(
                    t,
                    rows,
                    "sql",
                    p.sql,
                    &|i| crossings[i - first][0],
                    c.horizon_days,
                    months,
                    &[],
                );
                fold.recommended = Some(figures(
                    ranking::ranking(&y, &scores, &[]),
                    p.mql,
                    p.sql,
                    &rec,
                ));
            }
            None => {
                fold.note = Some(
                    "the refitted model gives every mature lead the same score; no points".into(),
                )
            }
        }
        folds.push(fold);
    }
    let (k, gains, per) = choose(&with_fits);
    let half_lives: Vec<HalfLife> = s
        .half_lives
        .iter()
        .zip(&gains)
        .zip(&per)
        .map(|((h, g), l)| HalfLife {
            half_life_days: *h,
            log_loss: (!l.is_empty()).then(|| l.iter().sum::<f64>() / l.len() as f64),
            gain: g.0,
            gain_se: g.1,
        })
        .collect();
    let chosen = s.half_lives[k];
    let with_figures: Vec<&Fold> = folds.iter().filter(|f| f.recommended.is_some()).collect();
    let converted: u64 = with_figures.iter().map(|f| f.converted).sum();
    let months: f64 = with_figures
        .iter()
        .filter_map(|f| {
            // The quarter's months, from a config that handed over someone (today's first;
            // a first model's today hands over nobody).
            [&f.today, &f.recommended]
                .into_iter()
                .flatten()
                .find_map(|h| {
                    Some(h.handovers as f64 / h.handovers_per_month.filter(|v| *v > 0.0)?)
                })
        })
        .sum();
    let today = pooled(
        &with_figures
            .iter()
            .filter_map(|f| f.today.as_ref())
            .collect::<Vec<_>>(),
        converted,
        months,
    );
    let recommended = pooled(
        &with_figures
            .iter()
            .filter_map(|f| f.recommended.as_ref())
            .collect::<Vec<_>>(),
        converted,
        months,
    );
    drop(_t);
    Ok(WalkForward {
        folds,
        half_lives,
        chosen_half_life_days: chosen,
        today,
        recommended,
        fit_rows: s.fit_rows,
        search_leads: s.search_leads,
        recent_effect: w.drifted.clone(),
    })
}

/// The deployed weights' coefficients: every mature lead, weighted by recency with the
/// half-life `walk` chose, each drifted rule with its effect since the drift. `None` when the
/// mature leads hold too few converters to fit.
pub fn deploy(w: &Inputs<'_>, s: &Settings, walk: &WalkForward) -> Result<Option<Coefficients>> {
    let _t = crate::timing::Stage::start("recommend: deployed refit");
    let t = w.context.table;
    let n_all = t.y.len();
    let k = t.y.iter().filter(|&&v| v).count();
    if k < w.params.min_converters || k == n_all {
        return Ok(None);
    }
    let wts = recency(&t.created, n_all, w.data_end, walk.chosen_half_life_days);
    let split: Vec<(usize, usize)> = w
        .drifted
        .iter()
        .map(|r| (r.column, t.created.partition_point(|&c| c < r.from_us)))
        .collect();
    Ok(Some(model::refit_split(
        t.x.view(),
        &t.y,
        wts.as_deref(),
        w.penalty,
        s.deployed_fit_rows,
        w.params,
        &split,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_life_replaces_none_only_beyond_its_margin() {
        let base = vec![0.5; 100];
        // A gain of exactly 0.01 per lead with no spread: far beyond 2 standard errors.
        let better: Vec<f64> = base.iter().map(|v| v - 0.01).collect();
        // A gain that is noise: +0.05 and -0.049 alternating.
        let noisy: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 0.45 } else { 0.549 })
            .collect();
        assert_eq!(pick(&[base.clone(), noisy.clone()], 2.0, 0.001).0, 0);
        assert_eq!(
            pick(&[base.clone(), noisy, better.clone()], 2.0, 0.001).0,
            2
        );
        // A steady gain below the practical margin (0.1% of 0.5 is 0.0005) keeps none.
        let slight: Vec<f64> = base.iter().map(|v| v - 0.0004).collect();
        assert_eq!(pick(&[base.clone(), slight], 2.0, 0.001).0, 0);
        // The first quarter has no earlier quarters: none.
        assert_eq!(pick(&[vec![], vec![]], 2.0, 0.001).0, 0);
    }

    #[test]
    fn a_shorter_half_life_that_ties_a_longer_one_is_not_taken() {
        // 365 days gains 0.01 a lead over none; 180 days 0.0105 but in noise against 365.
        let none = vec![0.5; 200];
        let long: Vec<f64> = none.iter().map(|v| v - 0.01).collect();
        let short: Vec<f64> = (0..200)
            .map(|i| long[i] + if i % 2 == 0 { -0.051 } else { 0.05 })
            .collect();
        let (k, gains) = pick(&[none, long, short], 2.0, 0.001);
        assert!(
            gains[2].0 > gains[1].0,
            "the shorter one gains more over none"
        );
        assert_eq!(k, 1);
    }

    #[test]
    fn the_quarters_are_the_test_periods_and_at_least_three() {
        let us = |y, m, d| micros(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        let q = quarters(us(2023, 1, 1), us(2025, 1, 1), us(2025, 9, 30), 3).unwrap();
        assert_eq!(
            q.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            ["2025-01-01", "2025-04-01", "2025-07-01"]
        );
        // A test period of one quarter, starting mid-quarter: the next quarter and two before.
        let q = quarters(us(2023, 1, 1), us(2025, 5, 15), us(2025, 9, 30), 3).unwrap();
        assert_eq!(
            q.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            ["2025-01-01", "2025-04-01", "2025-07-01"]
        );
    }
}
