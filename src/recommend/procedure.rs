//! The recommendation procedure on one set of mature leads: coefficients become points on the
//! live scale, and thresholds are chosen for the objective by replaying the new points.
//!
//! Input: the live model, the [`FeatureTable`], the leads (explicit points), recommended
//! [`Weights`] and the first `n` rows of the table (the leads they were fitted on). Output: a [`Proposal`]: the recommended weights with their MQL, SQL and bands,
//! the threshold sweep, and every table row's explicit points under the new config.
//! Guarantees: thresholds are chosen on those `n` rows only (never on the leads they are then
//! measured on); today's hand-overs per month and today's ratio of MQL to SQL hand-overs are
//! counted on the same replayed sample, so the volume objective compares like with like. The
//! same procedure makes the validated config (training period), each walk-forward fold's config
//! and the deployed config (every mature lead).

use polars::prelude::*;

use super::select;
use super::thresholds::{self, Candidate, Objective, SearchSample};
use super::weights::{First, Support, Weights, rule_columns, weights_for};
use crate::error::{Error, Result};
use crate::features::FeatureTable;
use crate::scoring::config::ScoringModel;
use crate::scoring::explicit::with_explicit_points;

/// What the procedure reads besides the coefficients.
pub struct Context<'a> {
    pub leads: &'a DataFrame,
    pub live: &'a ScoringModel,
    pub table: &'a FeatureTable,
    pub objective: Objective,
    pub support: Support,
    pub horizon_days: i64,
    /// A first model's points to double the odds: there is no live score (it gives every lead
    /// the same value), so the rules are selected and put on this scale.
    pub first_pdo: Option<f64>,
}

/// A first model's points on the table's first `n` rows: its rules selected
/// ([`select::select`]) and put on the stated scale. `None` when no rule improves the
/// out-of-time likelihood (there is nothing to score leads by), or as [`weights_for`].
pub fn first_model(
    c: &Context<'_>,
    pdo: f64,
    n: usize,
) -> Result<Option<(Weights, select::Selection)>> {
    let t = c.table;
    let cols = rule_columns(c.live, t, n, c.support);
    let sel = select::select(t, n, &cols, &select::Settings::default())?;
    // No rule predicts: every lead would score 0 and a threshold would hand over everyone.
    if sel.taken.is_empty() {
        return Ok(None);
    }
    let w = weights_for(
        c.live,
        t,
        &sel.coefficients,
        c.support,
        n,
        Some(First {
            pdo,
            selection: &sel,
        }),
    );
    Ok(w.map(|w| (w, sel)))
}

/// The leads a config's thresholds are chosen on: the table's first `n` rows (the ones its
/// points were fitted on), replayed up to `replay_end`, at most `search_leads` of them; `months`
/// is the time they span.
#[derive(Debug, Clone, Copy)]
pub struct Leads {
    pub n: usize,
    pub replay_end: i64,
    pub search_leads: usize,
    pub months: f64,
}

/// A recommended config and how its thresholds were chosen.
#[derive(Debug)]
pub struct Proposal {
    pub weights: Weights,
    pub objective_met: bool,
    pub mql: f64,
    pub sql: f64,
    /// The threshold search on the fitted leads.
    pub candidates: Vec<Candidate>,
    /// Today's SQL hand-overs per month on the same leads.
    pub today_per_month: f64,
    /// Explicit points of every table row under the recommended config.
    pub explicit: Vec<f64>,
}

/// Every table row's explicit points under `model`.
pub fn explicit_points(
    leads: &DataFrame,
    t: &FeatureTable,
    model: &ScoringModel,
) -> Result<Vec<f64>> {
    let all: Vec<usize> = (0..t.y.len()).collect();
    explicit_points_of(leads, t, model, &all)
}

/// [`explicit_points`] for `rows` only (every other row gets 0): a fold's search and evaluated
/// leads, without scoring every lead.
pub fn explicit_points_of(
    leads: &DataFrame,
    t: &FeatureTable,
    model: &ScoringModel,
    rows: &[usize],
) -> Result<Vec<f64>> {
    let idx = IdxCa::from_vec(
        "rows".into(),
        rows.iter().map(|&i| t.lead_rows[i] as IdxSize).collect(),
    );
    // Only the columns the explicit rules read are gathered.
    let mut names: Vec<&str> = model
        .explicit
        .iter()
        .map(|r| r.attribute.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let some = leads
        .select(names)
        .and_then(|d| d.take(&idx))
        .map_err(Error::polars("recommended explicit points"))?;
    let points: Vec<f64> = with_explicit_points(some.lazy(), model)
        .select([col("explicit_score")])
        .collect()
        .and_then(|d| d.column("explicit_score").and_then(|c| c.f64().cloned()))
        .map_err(Error::polars("recommended explicit points"))?
        .iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let mut out = vec![0.0; t.y.len()];
    for (&i, p) in rows.iter().zip(points) {
        out[i] = p;
    }
    Ok(out)
}

/// Scores of `rows` at their snapshots under `model` (same rules as the live model), with
/// `explicit` every table row's explicit points.
pub fn at_snapshot(
    t: &FeatureTable,
    model: &ScoringModel,
    explicit: &[f64],
    rows: &[usize],
) -> Vec<f64> {
    at_snapshot_counted(t, model, explicit, rows, &crate::progress::Counter::none())
}

/// [`at_snapshot`], counting the rows replayed in `done`.
pub fn at_snapshot_counted(
    t: &FeatureTable,
    model: &ScoringModel,
    explicit: &[f64],
    rows: &[usize],
    done: &crate::progress::Counter,
) -> Vec<f64> {
    match &t.matched {
        Some(m) => {
            let n_rules = model.implicit.len();
            let pairs: Vec<(usize, i64)> = rows.iter().map(|&i| (i, t.snapshot[i])).collect();
            let pts = m.points_at_pairs_counted(model, &pairs, done);
            rows.iter()
                .enumerate()
                .map(|(k, &i)| {
                    explicit[i] + pts[k * n_rules..(k + 1) * n_rules].iter().sum::<f64>()
                })
                .collect()
        }
        None => rows.iter().map(|&i| explicit[i]).collect(),
    }
}

/// Thresholds for the objective for `weights` (decay already set; `explicit` every row's
/// explicit points under them) on the leads `on`; `scores`, when known, every row's score at
/// its snapshot under `weights`.
pub fn thresholds_for(
    c: &Context<'_>,
    mut weights: Weights,
    explicit: Vec<f64>,
    on: &Leads,
    scores: Option<&[f64]>,
) -> Result<Proposal> {
    let t = c.table;
    let Leads {
        n,
        replay_end,
        search_leads,
        months,
    } = *on;
    let search = SearchSample::at_most(n, search_leads);
    let mut sorted = match scores {
        Some(all) => search.rows.iter().map(|&i| all[i]).collect(),
        None => at_snapshot(t, &weights.model, &explicit, &search.rows),
    };
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return Err(Error::Internal("no lead to choose thresholds on".into()));
    }
    let grid = thresholds::grid(&sorted);
    let floor = grid.first().copied().unwrap_or(f64::NEG_INFINITY);
    let peaks = t.peak_scores(
        &weights.model,
        &explicit,
        &search.rows,
        replay_end,
        c.horizon_days,
        floor,
    )?;
    let candidates = thresholds::sweep(t, &search, &grid, &peaks, months);
    // Today's config on the same sampled leads: SQL hand-overs per month, and MQL per SQL.
    let handed = |at: &[Option<i64>]| {
        search
            .rows
            .iter()
            .filter(|&&i| t.handed_within(i, at[i], c.horizon_days))
            .count() as f64
    };
    let (sql_now, mql_now) = (handed(&t.sql_at), handed(&t.mql_at));
    let sample_months = months / search.scale;
    let today_per_month = if sample_months > 0.0 {
        sql_now / sample_months
    } else {
        0.0
    };
    let ratio = if sql_now > 0.0 {
        (mql_now / sql_now).max(1.0)
    } else {
        thresholds::MQL_PER_SQL_WITHOUT_TODAY
    };
    // A share of the leads is a volume: that share of the searched leads a month.
    let target = match c.objective {
        Objective::Share(p) if sample_months > 0.0 => p * search.rows.len() as f64 / sample_months,
        _ => today_per_month,
    };
    let (chosen, met) = thresholds::choose(c.objective, &candidates, target);
    let sql = grid[chosen];
    let mql = thresholds::mql(&grid, &candidates, chosen, ratio);
    weights.model.mql = mql;
    weights.model.sql = sql;
    let live_scores: Vec<f64> = search.rows.iter().map(|&i| t.live_score[i]).collect();
    thresholds::move_bands(
        &mut weights.model.bands,
        (c.live.mql, c.live.sql),
        (mql, sql),
        &live_scores,
        &sorted,
    );
    Ok(Proposal {
        weights,
        objective_met: met,
        mql,
        sql,
        candidates,
        today_per_month,
        explicit,
    })
}
