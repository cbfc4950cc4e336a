//! `metrics.json`: what `evaluate` (and `calibrate`) computed, as one serialisable value.
//!
//! Input: the window, the label counts, the fitted model and the test and per-period metrics.
//! Output: [`Metrics`] (schema `leadcal.metrics/1`, documented in `docs/metrics.md`).
//! Guarantees: only numbers computed by the stages; no lead ids.

use serde::Serialize;

use super::stability::{RuleStability, Settings as StabilitySettings};
use super::{Bootstrap, PeriodKind, PeriodRow, SetMetrics};
use crate::features::Source;
use crate::label::LabelSummary;
use crate::model::{FittedLogistic, LogisticParams};

/// What `metrics.json` holds (schema: docs/metrics.md).
#[derive(Debug, Serialize)]
pub struct Metrics {
    pub schema: &'static str,
    pub tool: Tool,
    pub window: Window,
    pub labels: LabelSummary,
    pub split: Split,
    pub model: ModelReport,
    pub test: SetMetrics,
    pub periods: Vec<PeriodRow>,
    /// What each period's PSI compares against.
    pub psi_baseline: PsiBaseline,
    /// Each rule's effect per period and its drift out of time.
    pub rule_stability: Vec<RuleStability>,
    pub rule_stability_settings: StabilitySettings,
}

/// The live-score distribution every period's PSI is measured against.
#[derive(Debug, Serialize)]
pub struct PsiBaseline {
    /// `training`: every evaluable lead created before the test period.
    pub period: &'static str,
    pub leads: u64,
    pub created_before: String,
    /// Periods with fewer evaluable leads get no PSI.
    pub min_leads: usize,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Window {
    pub since: String,
    pub until: String,
    /// The latest creation time of a lead in the window: the leads' own range ends here, not
    /// at the data end (a won date months after the last lead).
    pub last_created: String,
    pub data_end: String,
    /// The table and column whose latest time set the data end, or `--until`.
    pub data_end_set_by: Option<String>,
    pub snapshot_days: i64,
    pub horizon_days: i64,
    pub target: String,
    pub period: PeriodKind,
    pub live_model: String,
    pub dataset: String,
}

#[derive(Debug, Serialize)]
pub struct Split {
    pub test_from: String,
    pub train_leads: u64,
    pub train_converted: u64,
    pub test_leads: u64,
    pub test_converted: u64,
    /// Months of lead creation the test set spans (hand-overs per month divide by this).
    pub test_months: f64,
    pub bootstrap: Bootstrap,
}

#[derive(Debug, Serialize)]
pub struct ModelReport {
    pub fitted: FittedLogistic,
    pub sources: Vec<Source>,
    pub skipped_attributes: Vec<SkippedAttribute>,
    /// Rules whose count was capped for the fit and the points' scale: the count the outliers
    /// were given and how many leads they were (absent when none was).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capped_counts: Vec<crate::features::CappedRule>,
    pub params: LogisticParams,
}

#[derive(Debug, Serialize)]
pub struct SkippedAttribute {
    pub attribute: String,
    pub reason: String,
    /// The leak guard's evidence, when the attribute gives the outcome away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leak: Option<crate::features::leak::Leak>,
}
