//! Stage: report. The meeting report's data model, saved as `report-data.json` in the run
//! folder, and its renderers: PNG charts ([`charts`]) and one self-contained HTML file
//! ([`html`]), in English or German ([`lang`]).
//!
//! Input: what the earlier stages computed (test-set metrics, periods, segments, recommended
//! weights, the threshold sweeps and back-test), gathered by `calibrate` into [`Data`].
//! Output: `report.html` and `chart-*.png`. Guarantees: the renderers compute no statistics,
//! they only format numbers that are in [`Data`]; so `leadcal report RUN_DIR` re-renders a run
//! from `report-data.json` alone, in either language, without refitting. The same data gives
//! byte-identical files (no wall-clock time anywhere). Every string from the data is escaped
//! in the HTML. Only aggregates are in [`Data`]: no lead ids, account ids, e-mails or names, and
//! no group under the minimum group size.

pub mod changes;
pub mod charts;
pub mod glossary;
pub mod html;
pub mod labels;
pub mod lang;
pub mod rich;
pub mod text;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use lang::Lang;

use crate::error::{Error, Result};
use crate::evaluate::metrics::{self, CurvePoint};
use crate::evaluate::stability::RuleStability;
use crate::evaluate::{PeriodRow, SetMetrics, ThresholdMetrics};
use crate::recommend::decay::DecayChoice;
use crate::recommend::probability::Probability;
use crate::recommend::{Flag, Suggestion};

pub const SCHEMA: &str = "leadcal.report/1";
pub const DATA_FILE: &str = "report-data.json";

/// Everything the report shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    pub schema: String,
    pub window: Window,
    pub quality: Quality,
    /// The test set (out of time): live score against the fitted model.
    pub test: SetMetrics,
    pub periods: Vec<PeriodRow>,
    pub curves: Curves,
    pub distribution: Distribution,
    pub thresholds: Thresholds,
    pub segments: SegmentsView,
    pub matrix: Vec<MatrixCell>,
    pub weights: WeightsView,
    /// Each rule's effect per period and its drift (absent in runs of earlier versions).
    #[serde(default)]
    pub rule_stability: Vec<RuleStability>,
    /// The decay recommendation, global first (absent in runs of earlier versions).
    #[serde(default)]
    pub decay: Vec<DecayChoice>,
    /// What a score means as a probability (absent in runs of earlier versions).
    #[serde(default)]
    pub probability: Option<Probability>,
    /// The recommendation's ranking on the test period and its walk-forward (absent in runs
    /// of earlier versions).
    #[serde(default)]
    pub review: Option<Review>,
    pub provenance: Provenance,
    /// Set when there was no live score: the report answers for the first model alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_model: Option<crate::recommend::FirstModel>,
    /// Display names for raw column names, values and event types (`dataset.toml`'s
    /// `[labels]`), so that `report` renders the page from this file alone. Only labels that
    /// differ from their raw name are kept.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Data {
    /// A rule, feature, attribute or event-type name as the page shows it: with the user's
    /// labels, and ranges and missing-value rules written for readers ([`Lang::ranges`]).
    pub fn shown(&self, l: Lang, raw: &str) -> String {
        labels::shown(l, &self.labels, raw)
    }
}

/// How good the recommendation is out of time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Review {
    /// Test period: today's points, the validated points, the fitted model.
    pub ranking: crate::recommend::ranking::Compared,
    pub walk: crate::recommend::walk::WalkForward,
    /// Whether the recommended points are shown better out of time (`None` in runs saved
    /// before it was kept).
    #[serde(default)]
    pub verdict: Option<crate::recommend::Verdict>,
    /// Hand-overs per month or recall moving by more than a third.
    pub shift: Vec<crate::recommend::Shift>,
    /// The validated config's (training period only) thresholds.
    pub validated_mql: f64,
    pub validated_sql: f64,
    pub deployed: crate::recommend::Deployed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Window {
    /// First day of lead creation (ISO date).
    pub since: String,
    /// The data end (ISO date).
    pub until: String,
    /// The last lead's creation day (ISO date); empty in runs saved before it was kept.
    #[serde(default)]
    pub last_created: String,
    /// First day of the test period.
    pub test_from: String,
    pub snapshot_days: i64,
    pub horizon_days: i64,
    pub target: String,
    /// Months the test set spans.
    pub test_months: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableRow {
    pub table: String,
    pub file: String,
    pub rows: u64,
    pub used: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Warning {
    /// The loader's stable problem code, e.g. `unknown-lead`.
    pub code: String,
    pub file: String,
    pub column: Option<String>,
    pub rows: u64,
    pub message: String,
}

/// Rows used and left out, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Quality {
    pub tables: Vec<TableRow>,
    pub warnings: Vec<Warning>,
    /// Leads created in the window, by label status.
    pub leads: u64,
    pub immature: u64,
    pub came_in_hot: u64,
    pub evaluable: u64,
    pub converted: u64,
    pub undated_conversions: u64,
    pub train_leads: u64,
    pub train_converted: u64,
    pub test_leads: u64,
    pub test_converted: u64,
    /// Attributes not used as model features, with the reason.
    pub skipped_attributes: Vec<(String, crate::features::Skip)>,
    pub min_group_size: u64,
    /// Segment groups left out for being smaller than `min_group_size`.
    pub suppressed_groups: u64,
    /// Rules whose count was capped for the fit and the points' scale (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capped_counts: Vec<crate::features::CappedRule>,
}

/// ROC and precision-recall curves on the test set, thinned for drawing: `[x, y]` points
/// (ROC: false-positive rate, true-positive rate; PR: recall, precision).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Curves {
    pub live_roc: Vec<[f64; 2]>,
    pub model_roc: Vec<[f64; 2]>,
    pub live_pr: Vec<[f64; 2]>,
    pub model_pr: Vec<[f64; 2]>,
}

const CURVE_POINTS: usize = 250;

/// A curve of [`metrics`]: labels, scores, descending order.
type CurveFn = fn(&[bool], &[f64], &[usize]) -> Option<Vec<CurvePoint>>;

/// At most `max` points, evenly spaced along the curve, first and last kept.
fn thin(c: &[CurvePoint], max: usize) -> Vec<[f64; 2]> {
    if c.len() <= max {
        return c.iter().map(|p| [p.x, p.y]).collect();
    }
    let mut out: Vec<[f64; 2]> = (0..max)
        .map(|k| {
            let p = &c[k * (c.len() - 1) / (max - 1)];
            [p.x, p.y]
        })
        .collect();
    out.dedup();
    out
}

impl Curves {
    /// Curves of the live score and the model's probability for converted flags `y`.
    pub fn of(y: &[bool], live: &[f64], model: &[f64]) -> Curves {
        let one = |s: &[f64], f: CurveFn| {
            let o = metrics::order_desc(s);
            f(y, s, &o).map_or(Vec::new(), |c| thin(&c, CURVE_POINTS))
        };
        Curves {
            live_roc: one(live, metrics::roc_curve),
            model_roc: one(model, metrics::roc_curve),
            live_pr: one(live, metrics::pr_curve),
            model_pr: one(model, metrics::pr_curve),
        }
    }
}

/// The live score at the snapshot on the test set, converted against not converted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Distribution {
    /// Bin `k` holds scores in `[edges[k], edges[k+1])`; scores below the first edge are in the
    /// first bin, scores from the last edge on in the last.
    pub edges: Vec<f64>,
    pub converted: Vec<u64>,
    pub not_converted: Vec<u64>,
    /// Each bin's share of its group.
    pub converted_share: Vec<f64>,
    pub not_converted_share: Vec<f64>,
}

impl Distribution {
    /// About 25 bins of a round width between the 1st and 99th percentile.
    pub fn of(y: &[bool], score: &[f64]) -> Distribution {
        let mut sorted: Vec<f64> = score.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let q = |p: f64| {
            sorted
                .get(((sorted.len().saturating_sub(1)) as f64 * p).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        let (lo, hi) = (q(0.01), q(0.99));
        let raw = ((hi - lo) / 25.0).max(1e-9);
        let mag = 10f64.powf(raw.log10().floor());
        let width = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|w| *w >= raw)
            .unwrap_or(10.0 * mag);
        let start = (lo / width).floor() * width;
        let bins = (((hi - start) / width).floor() as usize + 1).clamp(1, 60);
        let edges: Vec<f64> = (0..=bins).map(|k| start + k as f64 * width).collect();
        let (mut conv, mut not) = (vec![0u64; bins], vec![0u64; bins]);
        for (&c, &s) in y.iter().zip(score) {
            if !s.is_finite() {
                continue;
            }
            let k = (((s - start) / width).floor().max(0.0) as usize).min(bins - 1);
            if c {
                conv[k] += 1;
            } else {
                not[k] += 1;
            }
        }
        let share = |v: &[u64]| {
            let t = v.iter().sum::<u64>().max(1) as f64;
            v.iter().map(|&n| n as f64 / t).collect()
        };
        Distribution {
            converted_share: share(&conv),
            not_converted_share: share(&not),
            edges,
            converted: conv,
            not_converted: not,
        }
    }
}

/// One threshold of a sweep (training period, hand-over replay).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepPoint {
    pub threshold: f64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub handovers_per_month: f64,
}

/// The SQL threshold: current and recommended, swept on the training period and back-tested
/// on the test period.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Thresholds {
    /// As given: `f1`, `precision:0.3`, `recall:0.7` or `capacity:400/month`.
    pub objective: String,
    pub objective_met: bool,
    pub current_mql: f64,
    pub current_sql: f64,
    pub recommended_mql: f64,
    pub recommended_sql: f64,
    /// The current points at thresholds around the current SQL.
    pub current_sweep: Vec<SweepPoint>,
    /// The recommended points (where the recommended SQL was chosen).
    pub recommended_sweep: Vec<SweepPoint>,
    /// Test period: the current config at its SQL threshold, the recommended at its own.
    pub current: ThresholdMetrics,
    pub recommended: ThresholdMetrics,
    /// Test period, current config at its MQL threshold.
    pub current_mql_metrics: Option<ThresholdMetrics>,
}

/// One segment group (aggregates only; groups under the minimum size never get here).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentRow {
    /// `(attribute, value)`, one or two.
    pub values: Vec<(String, String)>,
    pub leads: u64,
    pub converted: u64,
    pub rate: f64,
    pub rate_low: f64,
    pub rate_high: f64,
    pub lift: f64,
    pub q_value: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentsView {
    pub threshold: f64,
    /// Hand-overs (SQL at or before the snapshot + horizon) among evaluable leads.
    pub handovers: u64,
    pub converted: u64,
    pub rate: f64,
    /// Groups tested and how many of them are significant after Benjamini–Hochberg.
    pub tested: u64,
    pub significant: u64,
    /// Significant, non-redundant groups that convert worse than all hand-overs, worst first.
    pub worst: Vec<SegmentRow>,
    /// Values and pairs over-represented among converters (all evaluable leads).
    pub converter_marks: Vec<SegmentRow>,
    pub converter_rate: f64,
    /// Accounts with several hand-overs and no conversion (counted, never named here).
    pub accounts_without_conversion: u64,
}

/// One cell of the fit × engagement matrix (quartiles of explicit and implicit points).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatrixCell {
    pub fit: String,
    pub engagement: String,
    pub leads: u64,
    /// `None` under the minimum group size.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleRow {
    /// `implicit` (behaviour) or `explicit` (fit).
    pub kind: String,
    pub rule: String,
    pub current: f64,
    pub recommended: f64,
    pub leads: u64,
    pub converters: u64,
    /// Fitted log-odds per fire (behaviour) or against the baseline value (fit), and its
    /// odds ratio.
    pub coefficient: Option<f64>,
    pub odds_ratio: Option<f64>,
    pub flags: Vec<Flag>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WeightsView {
    /// Points that double the odds.
    pub pdo: f64,
    pub rounding_max: f64,
    pub rules: Vec<RuleRow>,
    pub suggestions: Vec<Suggestion>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputFile {
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Provenance {
    pub version: String,
    /// Data tables and the live config, with SHA-256.
    pub inputs: Vec<InputFile>,
    /// SHA-256 of `recommended-scoring.toml` as written.
    pub recommended_config_sha256: String,
    /// The settings that shape the numbers, e.g. `--objective f1 --period quarter`.
    pub settings: String,
}

impl Data {
    pub fn to_json(&self) -> Result<String> {
        crate::output::to_json(self)
    }

    /// Read `report-data.json` from a run folder.
    pub fn load(run_dir: &Path) -> Result<Data> {
        let path = run_dir.join(DATA_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::Input {
            path: path.clone(),
            message: format!(
                "cannot read ({e}); expected a run folder written by `leadcal calibrate`"
            ),
        })?;
        let data: Data = crate::saved::parse(&path, &text)?;
        if data.schema != SCHEMA {
            return Err(Error::Input {
                path,
                message: format!("schema `{}`: this leadcal reads `{SCHEMA}`", data.schema),
            });
        }
        data.check()
            .map_err(|message| Error::Input { path, message })?;
        Ok(data)
    }

    /// The shapes the renderers rely on, for a file read back: `Err` names the key.
    pub fn check(&self) -> std::result::Result<(), String> {
        let d = &self.distribution;
        let n = d.converted.len();
        if n == 0 {
            return Err("`distribution.converted`: empty; the chart needs at least one bin".into());
        }
        for (key, len, want) in [
            ("distribution.edges", d.edges.len(), n + 1),
            ("distribution.not_converted", d.not_converted.len(), n),
            ("distribution.converted_share", d.converted_share.len(), n),
            (
                "distribution.not_converted_share",
                d.not_converted_share.len(),
                n,
            ),
        ] {
            if len != want {
                return Err(format!(
                    "`{key}`: {len} value(s) where {want} are expected (one per bin of `distribution.converted`{})",
                    if key.ends_with("edges") {
                        ", and one more"
                    } else {
                        ""
                    }
                ));
            }
        }
        if let Some(k) = d.edges.windows(2).position(|w| w[1] <= w[0]) {
            return Err(format!(
                "`distribution.edges[{}]`: the bin edges must rise",
                k + 1
            ));
        }
        Ok(())
    }
}

/// Draw the charts and write `report.html` into `dir` (which must exist); returns the files
/// written. Existing files are never replaced.
pub fn render(data: &Data, lang: Lang, dir: &Path) -> Result<Vec<PathBuf>> {
    let _t = crate::timing::Stage::start("report");
    let charts = charts::all(data, lang, dir)?;
    let mut images = Vec::new();
    for (name, path) in &charts {
        let bytes = std::fs::read(path).map_err(Error::read(path, "cannot read the chart back"))?;
        images.push((*name, bytes));
    }
    let page = html::page(data, lang, &images);
    let out = dir.join("report.html");
    crate::output::write_new(&out, page.as_bytes())?;
    let mut files: Vec<PathBuf> = charts.into_iter().map(|(_, p)| p).collect();
    files.push(out);
    Ok(files)
}
