//! Stage: recommended weights and thresholds, on the live model's own points scale, with
//! their back-test.
//!
//! Input: the live [`ScoringModel`], the [`FeatureTable`] (training rows first, with the
//! replayed events), the [`FittedLogistic`] and the test set. Output: [`Weights`] (new points
//! per rule, [`weights`]), then [`Recommended`]: thresholds for an [`Objective`]
//! ([`thresholds`]), the threshold sweeps, and the back-test of the recommended config beside
//! the current one on the test period ([`backtest`]); [`config`] writes it in the live
//! config's schema. Guarantees: thresholds are chosen on the training period only; the
//! back-test replays the recommended config over the same matched events, out of time.

pub mod backtest;
pub mod config;
pub mod decay;
pub mod probability;
pub mod procedure;
pub mod ranking;
pub mod select;
pub mod thresholds;
pub mod walk;
pub mod weights;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

pub use config::{write_config, write_config_with_notes};
pub use thresholds::{Candidate, Objective};
pub use weights::{
    First, Flag, RuleChange, Scaling, Suggestion, Support, Weights, pdo_factor, rule_columns,
    weights, weights_for,
};

use crate::error::Result;
use crate::evaluate::{self, ThresholdMetrics};
use crate::features::FeatureTable;
use crate::scoring::config::ScoringModel;
use thresholds::{SEARCH_LEADS, SearchSample};

/// A step of the score-to-probability map holds at least this many training leads (the
/// minimum group size).
pub const MIN_STEP_LEADS: u64 = 30;

/// What the thresholds and the back-test read.
pub struct Inputs<'a> {
    pub leads: &'a DataFrame,
    /// The live model (its thresholds, bands and points for the current sweep).
    pub live: &'a ScoringModel,
    pub table: &'a FeatureTable,
    pub since: i64,
    pub test_from: i64,
    pub data_end: i64,
    pub horizon_days: i64,
    /// The test period: rows, months of creation, bootstrap weights.
    pub test_rows: &'a [usize],
    pub test_months: f64,
    pub draws: &'a [crate::evaluate::Draw],
    /// The fitted model's probability for every row.
    pub prob: &'a [f64],
    /// The current config's SQL metrics on the test period.
    pub current: &'a ThresholdMetrics,
    /// A first model's PDO (see [`procedure::Context::first_pdo`]).
    pub first_pdo: Option<f64>,
}

/// The recommendation: weights with their thresholds and what they would have done.
#[derive(Debug)]
pub struct Recommended {
    pub weights: Weights,
    pub objective: Objective,
    pub objective_met: bool,
    pub mql: f64,
    pub sql: f64,
    /// The threshold search on the training period (recommended config, hand-over replay).
    pub candidates: Vec<Candidate>,
    /// The same sweep for the current config, for the report's threshold chart.
    pub current_sweep: Vec<Candidate>,
    /// Test period: current config at its SQL threshold, recommended config at its own.
    pub current: ThresholdMetrics,
    pub recommended: ThresholdMetrics,
    /// The decay chosen by out-of-time likelihood (global first, then per rule).
    pub decay: Vec<decay::DecayChoice>,
    /// What a score means as a chance of converting, for both configs.
    pub probability: probability::Probability,
    /// The procedure on the training period only: what `recommended` back-tests.
    pub validated: Validated,
    /// What the written weights were fitted on.
    pub deployed: Deployed,
    /// Test-period ranking: today's points, the validated points, the fitted model.
    pub ranking: ranking::Compared,
    pub walk: walk::WalkForward,
    pub verdict: Verdict,
    /// Hand-overs per month or recall moving by more than a third (test period).
    pub shift: Vec<Shift>,
    /// Set when there was no live score: the recommendation is a first model.
    pub first_model: Option<FirstModel>,
}

/// A first model: why, on what scale, and the rules it selected with their evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FirstModel {
    /// Points that double a lead's odds of converting.
    pub pdo: f64,
    /// Rules (columns) that had enough support to be considered.
    pub considered: usize,
    /// The selected rules in the order they were taken, with the out-of-time log-loss each
    /// gained per check lead and its standard error.
    pub selected: Vec<SelectedRule>,
    /// Leads of the training period's last quarter the gains were measured on.
    pub check_leads: usize,
    /// The live model's rules no lead matched.
    pub unmatched: Vec<String>,
    /// Whether every point of the live model was 0 (init's template).
    pub all_zero: bool,
    /// The written points' leads' conversion rate, and the lowest score from which their
    /// probability map reaches it. 0 points is a lead with none of the selected rules: the
    /// template's schema has no constant that could move the average lead's odds to 0 without
    /// giving points to every value, so where they sit is stated instead.
    #[serde(default)]
    pub average_rate: Option<f64>,
    #[serde(default)]
    pub average_from: Option<f64>,
}

/// One rule a first model selected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SelectedRule {
    pub feature: String,
    pub gain: f64,
    pub gain_se: f64,
}

/// `recommendation.json`.
#[derive(Debug, Serialize)]
pub struct Recommendation<'a> {
    pub schema: &'static str,
    pub objective: Objective,
    pub objective_met: bool,
    pub weights: &'a Weights,
    pub mql: f64,
    pub sql: f64,
    pub candidates: &'a [Candidate],
    pub current: &'a ThresholdMetrics,
    pub recommended: &'a ThresholdMetrics,
    pub decay: &'a [decay::DecayChoice],
    pub probability: &'a probability::Probability,
    pub validated: &'a Validated,
    pub deployed: &'a Deployed,
    pub ranking: &'a ranking::Compared,
    pub walk_forward: &'a walk::WalkForward,
    pub verdict: Verdict,
    pub shift: &'a [Shift],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_model: Option<&'a FirstModel>,
    pub inputs: &'a [InputHash],
}

/// One input file and its SHA-256.
#[derive(Debug, Clone, Serialize)]
pub struct InputHash {
    pub file: String,
    pub sha256: String,
}

impl Recommended {
    /// The serialisable form, with the inputs it was computed from.
    pub fn file<'a>(&'a self, inputs: &'a [InputHash]) -> Recommendation<'a> {
        Recommendation {
            schema: "leadcal.recommendation/2",
            objective: self.objective,
            objective_met: self.objective_met,
            weights: &self.weights,
            mql: self.mql,
            sql: self.sql,
            candidates: &self.candidates,
            current: &self.current,
            recommended: &self.recommended,
            decay: &self.decay,
            probability: &self.probability,
            validated: &self.validated,
            deployed: &self.deployed,
            ranking: &self.ranking,
            walk_forward: &self.walk,
            verdict: self.verdict,
            shift: &self.shift,
            first_model: self.first_model.as_ref(),
            inputs,
        }
    }
}

/// The live config's threshold sweep on the training period (the same search sample as the
/// recommended config's), for the report's threshold chart. It reads no fitted model, so it
/// can run beside the fit.
pub fn current_sweep(
    live: &ScoringModel,
    t: &FeatureTable,
    since: i64,
    test_from: i64,
    data_end: i64,
    horizon_days: i64,
) -> Result<Vec<Candidate>> {
    let n_train = t.n_train;
    let mut live_sorted: Vec<f64> = t.live_score[..n_train].to_vec();
    live_sorted.sort_by(f64::total_cmp);
    let mut live_grid = thresholds::grid(&live_sorted);
    live_grid.push(live.sql);
    live_grid.sort_by(f64::total_cmp);
    live_grid.dedup();
    let search = SearchSample::of(n_train);
    let floor = live_grid.first().copied().unwrap_or(f64::NEG_INFINITY);
    let peaks = t.peak_scores(
        live,
        &t.explicit,
        &search.rows,
        data_end,
        horizon_days,
        floor,
    )?;
    Ok(thresholds::sweep(
        t,
        &search,
        &live_grid,
        &peaks,
        evaluate::months_between(since, test_from),
    ))
}

/// What is refitted, and the evidence for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployed {
    /// Mature leads the deployed weights were fitted on (the test period included).
    pub leads: u64,
    pub converted: u64,
    /// Recency half-life chosen by the walk-forward (`None`: every lead alike).
    pub half_life_days: Option<f64>,
    /// The deployed weights are the validated ones (no refit was possible).
    pub same_as_validated: bool,
    /// The decay chosen is not today's, and the rules' fires were recounted under it before
    /// the written points were fitted.
    #[serde(default)]
    pub refitted_under_decay: bool,
}

/// The validated config: the same procedure on the training period only, measured on the
/// test period.
#[derive(Debug, Clone, Serialize)]
pub struct Validated {
    pub mql: f64,
    pub sql: f64,
    pub objective_met: bool,
    /// Points per rule, in the order of `weights.implicit` then `weights.explicit`.
    pub points: Vec<f64>,
    /// Today's SQL hand-overs per month on the training period.
    pub today_per_month: f64,
}

/// Whether the recommended points are shown better than today's out of time, by ROC AUC on the
/// test period and, when it ran, pooled over the walk-forward's quarters (point estimates).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Better on the test period and not worse in the walk-forward.
    Better,
    /// Better on one and worse on the other: not shown better.
    WorseOnTheTestPeriod,
    WorseInTheWalkForward,
    /// Worse on the test period and in the walk-forward (or no walk-forward ran): keep today's.
    Worse,
}

impl Verdict {
    pub fn of(ranking: &ranking::Compared, walk: &walk::WalkForward) -> Verdict {
        let below = |a: Option<f64>, b: Option<f64>| matches!((a, b), (Some(r), Some(t)) if r < t);
        let test = below(
            ranking.recommended.roc_auc.value,
            ranking.today.roc_auc.value,
        );
        let walked = match (&walk.recommended, &walk.today) {
            (Some(r), Some(t)) => Some(below(r.roc_auc, t.roc_auc)),
            _ => None,
        };
        match (test, walked) {
            (false, None | Some(false)) => Verdict::Better,
            (true, None | Some(true)) => Verdict::Worse,
            (true, Some(false)) => Verdict::WorseOnTheTestPeriod,
            (false, Some(true)) => Verdict::WorseInTheWalkForward,
        }
    }
}

/// A change the meeting must hear first: hand-overs per month or recall moving by more than a
/// third on the test period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Shift {
    /// `handovers_per_month` or `recall`.
    pub figure: String,
    pub today: f64,
    pub recommended: f64,
}

/// A relative change beyond this is a [`Shift`].
pub const SHIFT: f64 = 1.0 / 3.0;

fn shifts(c: &ThresholdMetrics, r: &ThresholdMetrics) -> Vec<Shift> {
    [
        (
            "handovers_per_month",
            c.handovers_per_month.value,
            r.handovers_per_month.value,
        ),
        ("recall", c.recall.value, r.recall.value),
    ]
    .into_iter()
    .filter_map(|(name, a, b)| {
        let (a, b) = (a?, b?);
        ((b - a).abs() > SHIFT * a.abs() && a != b).then(|| Shift {
            figure: name.into(),
            today: a,
            recommended: b,
        })
    })
    .collect()
}

/// Thresholds for `objective` and the back-test, for the recommended weights: `validated`
/// fitted on the training period, its model already under the chosen decay (`decay`, from
/// [`decay::choose`]), back-tested on the test period; `deployed` fitted on every mature lead
/// (`refeatured`: under the chosen decay's rule columns), written (`None`: the validated ones
/// are written); `current_sweep` is [`current_sweep`] of the live config.
#[allow(clippy::too_many_arguments)]
pub fn recommend(
    validated: Weights,
    deployed: Option<Weights>,
    walk: walk::WalkForward,
    decay: Vec<decay::DecayChoice>,
    refeatured: bool,
    objective: Objective,
    p: &Inputs<'_>,
    current_sweep: Vec<Candidate>,
) -> Result<Recommended> {
    let t = p.table;
    let n_train = t.n_train;
    let n_all = t.y.len();
    let c = procedure::Context {
        leads: p.leads,
        live: p.live,
        table: t,
        objective,
        support: Support::default(),
        horizon_days: p.horizon_days,
        first_pdo: p.first_pdo,
    };
    let step = crate::progress::Step::parts("recommended config", 7);
    step.part("every lead's points for attributes");
    let _s = crate::timing::Stage::start("recommend: threshold sweeps");
    // The decay was chosen once (from the training period's evidence); the deployed config
    // gets the validated one's.
    let chosen_decay = validated.model.clone();
    let set_decay = |m: &mut ScoringModel| {
        m.decay = chosen_decay.decay;
        for (a, b) in m.implicit.iter_mut().zip(&chosen_decay.implicit) {
            a.decay = b.decay;
            a.own_decay = b.own_decay;
        }
    };
    let train_months = evaluate::months_between(p.since, p.test_from);
    // Every row's score under the validated config: the threshold search's grid, the
    // probability map and the test period's ranking read it.
    let explicit = procedure::explicit_points(p.leads, t, &validated.model)?;
    let all: Vec<usize> = (0..n_all).collect();
    step.part("every lead's points at its snapshot");
    let replay = crate::progress::Step::bar(
        "recommended config: every lead's points at its snapshot",
        n_all as u64,
        "leads",
    );
    let scores =
        procedure::at_snapshot_counted(t, &validated.model, &explicit, &all, &replay.counter());
    drop(replay);
    step.part("replaying each candidate threshold on the training leads");
    let v = procedure::thresholds_for(
        &c,
        validated,
        explicit,
        &procedure::Leads {
            n: n_train,
            replay_end: p.data_end,
            search_leads: SEARCH_LEADS,
            months: train_months,
        },
        Some(&scores),
    )?;
    let deployed_leads = n_all;
    step.part("the written config's thresholds on every lead");
    let d = match deployed {
        Some(mut w) => {
            set_decay(&mut w.model);
            let months =
                evaluate::months_between(p.since, t.created.last().copied().unwrap_or(p.since));
            // Its thresholds replay only the searched leads: their explicit points suffice.
            let searched = SearchSample::at_most(deployed_leads, SEARCH_LEADS / 2).rows;
            let explicit = procedure::explicit_points_of(p.leads, t, &w.model, &searched)?;
            // What the written thresholds mean: the written points' map on those leads.
            let s = procedure::at_snapshot(t, &w.model, &explicit, &searched);
            let y: Vec<bool> = searched.iter().map(|&i| t.y[i]).collect();
            let map = probability::score_map((&s, &y), (&[], &[]), MIN_STEP_LEADS);
            Some((
                map,
                procedure::thresholds_for(
                    &c,
                    w,
                    explicit,
                    &procedure::Leads {
                        n: deployed_leads,
                        replay_end: p.data_end,
                        search_leads: SEARCH_LEADS / 2,
                        months,
                    },
                    None,
                )?,
            ))
        }
        None => None,
    };
    let (written_map, d) = match d {
        Some((m, d)) => (Some(m), Some(d)),
        None => (None, None),
    };
    drop(_s);
    step.part("the back-test on the test period beside today's");
    let _s = crate::timing::Stage::start("recommend: back-test");
    let recommended = backtest::at_sql(t, &v.weights.model, &v.explicit, v.sql, p)?;
    step.part("ranking on the test period, with its bootstrap");
    // Ranking on the test period: today's points, the validated points, the fitted model.
    let pick = |s: &[f64]| p.test_rows.iter().map(|&i| s[i]).collect::<Vec<f64>>();
    let y: Vec<bool> = p.test_rows.iter().map(|&i| t.y[i]).collect();
    let ranking = ranking::compared(
        &y,
        &pick(&t.live_score),
        &pick(&scores),
        &pick(p.prob),
        p.draws,
    );
    step.part("what each score means: conversion by score");
    let map = |s: &[f64]| {
        probability::score_map(
            (&s[..n_train], &t.y[..n_train]),
            (&s[n_train..], &t.y[n_train..]),
            MIN_STEP_LEADS,
        )
    };
    let probability = probability::Probability {
        horizon_days: p.horizon_days,
        live: map(&t.live_score),
        recommended: map(&scores),
        written: written_map,
        live_bands: probability::band_rates(
            &p.live
                .bands
                .iter()
                .map(|b| (b.name.clone(), b.from))
                .collect::<Vec<_>>(),
            (&t.live_score[..n_train], &t.y[..n_train]),
            (&t.live_score[n_train..], &t.y[n_train..]),
        ),
    };
    let validated_summary = Validated {
        mql: v.mql,
        sql: v.sql,
        objective_met: v.objective_met,
        points: v
            .weights
            .implicit
            .iter()
            .chain(&v.weights.explicit)
            .map(|r| r.recommended)
            .collect(),
        today_per_month: v.today_per_month,
    };
    let shift = shifts(p.current, &recommended);
    let (chosen, deployed) = match d {
        Some(d) => (
            d,
            Deployed {
                leads: deployed_leads as u64,
                converted: t.y.iter().filter(|&&v| v).count() as u64,
                // A first model's selection weighs every lead alike.
                half_life_days: walk.chosen_half_life_days.filter(|_| p.first_pdo.is_none()),
                same_as_validated: false,
                refitted_under_decay: refeatured,
            },
        ),
        None => (
            v,
            Deployed {
                leads: n_train as u64,
                converted: t.y[..n_train].iter().filter(|&&v| v).count() as u64,
                half_life_days: None,
                same_as_validated: true,
                refitted_under_decay: false,
            },
        ),
    };
    Ok(Recommended {
        weights: chosen.weights,
        objective,
        objective_met: chosen.objective_met,
        mql: chosen.mql,
        sql: chosen.sql,
        candidates: chosen.candidates,
        current_sweep,
        current: p.current.clone(),
        recommended,
        decay,
        probability,
        validated: validated_summary,
        deployed,
        verdict: Verdict::of(&ranking, &walk),
        ranking,
        walk,
        shift,
        first_model: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::Estimate;

    fn compared(today: f64, recommended: f64) -> ranking::Compared {
        let e = |v: Option<f64>| Estimate {
            value: v,
            low: None,
            high: None,
        };
        let r = |v: f64| ranking::Ranking {
            roc_auc: e(Some(v)),
            pr_auc: e(None),
            top_tenth_lift: e(None),
        };
        ranking::Compared {
            leads: 100,
            converted: 10,
            today: r(today),
            recommended: r(recommended),
            model: r(recommended),
        }
    }

    fn walked(today: Option<f64>, recommended: Option<f64>) -> walk::WalkForward {
        let p = |v: f64| walk::Pooled {
            roc_auc: Some(v),
            pr_auc: None,
            top_tenth_lift: None,
            handovers_per_month: None,
            precision: None,
            recall: None,
        };
        walk::WalkForward {
            folds: Vec::new(),
            half_lives: Vec::new(),
            chosen_half_life_days: None,
            today: today.map(p),
            recommended: recommended.map(p),
            fit_rows: 0,
            search_leads: 0,
            recent_effect: Vec::new(),
        }
    }

    /// The summary once said which rules "should change" when the recommended points ranked
    /// worse than today's on the test period and in the walk-forward.
    #[test]
    fn recommended_points_that_rank_worse_are_not_called_a_recommendation() {
        let v = |t, r, wt, wr| Verdict::of(&compared(t, r), &walked(wt, wr));
        assert_eq!(v(0.60, 0.67, Some(0.60), Some(0.65)), Verdict::Better);
        assert_eq!(v(0.60, 0.67, None, None), Verdict::Better);
        assert_eq!(v(0.69, 0.64, Some(0.72), Some(0.65)), Verdict::Worse);
        assert_eq!(v(0.69, 0.64, None, None), Verdict::Worse);
        assert_eq!(
            v(0.694, 0.687, Some(0.637), Some(0.672)),
            Verdict::WorseOnTheTestPeriod
        );
        assert_eq!(
            v(0.60, 0.67, Some(0.65), Some(0.60)),
            Verdict::WorseInTheWalkForward
        );
    }
}
