//! The back-test: the recommended config replayed over the test period, out of time.
//!
//! Input: the recommended points (same rules as the live model), the test rows' explicit
//! scores and the SQL threshold. Output: [`ThresholdMetrics`] with bootstrap intervals from the
//! same resampling weights as the current config's, so the two are compared on equal draws.
//! Guarantees: only leads created in the test period; hand-overs replayed over the matched
//! events exactly as the live model's are.

use super::Inputs;
use crate::error::Result;
use crate::evaluate::{self, ThresholdMetrics};
use crate::features::FeatureTable;
use crate::scoring::config::ScoringModel;

/// Hand-over metrics of `points` at `sql` on the test period.
pub fn at_sql(
    t: &FeatureTable,
    points: &ScoringModel,
    explicit: &[f64],
    sql: f64,
    p: &Inputs<'_>,
) -> Result<ThresholdMetrics> {
    let rows = p.test_rows;
    let first = rows.first().copied().unwrap_or(0);
    let crossings = t.first_crossings(points, explicit, rows, p.data_end, &[sql])?;
    // Bootstrap weights are indexed by position in `rows`, as handover_metrics expects.
    let at = |i: usize| crossings[i - first][0];
    Ok(evaluate::handover_metrics(
        t,
        rows,
        "sql",
        sql,
        &at,
        p.horizon_days,
        p.test_months,
        p.draws,
    ))
}
