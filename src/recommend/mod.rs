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
pub mod thresholds;
pub mod weights;

use polars::prelude::*;
use serde::Serialize;

pub use config::{write_config, write_config_with_notes};
pub use thresholds::{Candidate, Objective};
pub use weights::{Flag, RuleChange, Scaling, Suggestion, Support, Weights, pdo_factor, weights};

use crate::error::{Error, Result};
use crate::evaluate::{self, ThresholdMetrics};
use crate::features::FeatureTable;
use crate::scoring::config::ScoringModel;
use crate::scoring::explicit::with_explicit_points;
use thresholds::SearchSample;

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
    /// The current config's SQL metrics on the test period.
    pub current: &'a ThresholdMetrics,
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
            schema: "leadcal.recommendation/1",
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

/// Thresholds for `objective` and the back-test, for the recommended `weights` with the decay
/// chosen from `decay_evidence`; `current_sweep` is [`current_sweep`] of the live config.
pub fn recommend(
    mut weights: Weights,
    objective: Objective,
    p: &Inputs<'_>,
    current_sweep: Vec<Candidate>,
    decay_evidence: &decay::DecayEvidence,
) -> Result<Recommended> {
    let decay = decay::choose(decay_evidence, p.live, &mut weights.model);
    let t = p.table;
    let _s = crate::timing::Stage::start("recommend: snapshot scores");
    // The recommended config's scores: explicit from the leads, implicit from the same matched
    // events (same rules and filters, new points).
    let explicit_all: Vec<f64> = with_explicit_points(p.leads.clone().lazy(), &weights.model)
        .select([col("explicit_score")])
        .collect()
        .and_then(|d| d.column("explicit_score").and_then(|c| c.f64().cloned()))
        .map_err(Error::polars("recommended explicit points"))?
        .iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let explicit: Vec<f64> = t
        .lead_rows
        .iter()
        .map(|&r| explicit_all[r as usize])
        .collect();
    let n = t.y.len();
    let n_rules = weights.model.implicit.len();
    let snapshot_scores: Vec<f64> = match &t.matched {
        Some(m) => {
            let (_, pts) = m.contributions_at(&weights.model, |i| t.snapshot[i]);
            (0..n)
                .map(|i| explicit[i] + pts[i * n_rules..(i + 1) * n_rules].iter().sum::<f64>())
                .collect()
        }
        None => explicit.clone(),
    };
    let n_train = t.n_train;
    let mut sorted: Vec<f64> = snapshot_scores[..n_train].to_vec();
    sorted.sort_by(f64::total_cmp);
    let grid = thresholds::grid(&sorted);
    let search = SearchSample::of(n_train);
    // Points only: the thresholds to replay are passed explicitly.
    let points_model = weights.model.clone();
    let train_months = evaluate::months_between(p.since, p.test_from);
    drop(_s);
    let _s = crate::timing::Stage::start("recommend: threshold sweeps");
    let peaks = |model: &ScoringModel, explicit: &[f64], grid: &[f64]| {
        let floor = grid.first().copied().unwrap_or(f64::NEG_INFINITY);
        t.peak_scores(
            model,
            explicit,
            &search.rows,
            p.data_end,
            p.horizon_days,
            floor,
        )
    };
    let candidates = thresholds::sweep(
        t,
        &search,
        &grid,
        &peaks(&points_model, &explicit, &grid)?,
        train_months,
    );
    drop(_s);
    let _s = crate::timing::Stage::start("recommend: back-test");
    let (chosen, met) = thresholds::choose(objective, &candidates);
    let sql = grid[chosen];
    let share_now = (0..n_train)
        .filter(|&i| t.handed_within(i, t.mql_at[i], p.horizon_days))
        .count() as f64
        / n_train.max(1) as f64;
    let mql = thresholds::mql(&grid, &candidates, chosen, n_train, share_now);
    weights.model.mql = mql;
    weights.model.sql = sql;
    thresholds::move_bands(
        &mut weights.model.bands,
        (p.live.mql, p.live.sql),
        (mql, sql),
        &t.live_score[..n_train],
        &sorted,
    );
    let recommended = backtest::at_sql(t, &points_model, &explicit, sql, p)?;
    let map = |scores: &[f64]| {
        probability::score_map(
            (&scores[..n_train], &t.y[..n_train]),
            (&scores[n_train..], &t.y[n_train..]),
            MIN_STEP_LEADS,
        )
    };
    let probability = probability::Probability {
        horizon_days: p.horizon_days,
        live: map(&t.live_score),
        recommended: map(&snapshot_scores),
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
    Ok(Recommended {
        weights,
        objective,
        objective_met: met,
        mql,
        sql,
        candidates,
        current_sweep,
        current: p.current.clone(),
        recommended,
        decay,
        probability,
    })
}
