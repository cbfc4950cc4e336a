//! Stage: evaluation of the live score and the fitted model, out of time and per period.
//!
//! Input: a [`FeatureTable`] (evaluable leads in creation order), the fitted model's
//! probabilities for its rows, the live model's thresholds and bands, and the test-period start.
//! Output: [`Metrics`], a serialisable result (written as `metrics.json`, schema in
//! `docs/metrics.md`); the text summary only formats numbers computed here.
//! Guarantees: test-set figures use only leads created at or after the test start, which the
//! model never saw; bootstrap intervals are seeded and therefore reproducible; undefined
//! figures (one class in a period, no hand-overs) are `null`, never NaN.

pub mod metrics;
pub mod stability;
pub mod summary;

pub use summary::Metrics;

use chrono::{Datelike, NaiveDate};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::FeatureTable;
use crate::scoring::config::ScoringModel;
use crate::timeparse;
use metrics as m;

use crate::units::DAY_US_F;

/// How leads are grouped into periods by `created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// Calendar quarters.
    Quarter,
    /// Blocks of 3 months from the first month of `--since`.
    ThreeMonths,
    /// Blocks of 6 months from the first month of `--since`.
    SixMonths,
}

impl PeriodKind {
    /// The name the command line uses (`--period`).
    pub fn name(&self) -> &'static str {
        match self {
            PeriodKind::Quarter => "quarter",
            PeriodKind::ThreeMonths => "3m",
            PeriodKind::SixMonths => "6m",
        }
    }

    /// Start (first day of its first month) of the period holding `date`.
    pub fn start(&self, date: NaiveDate, since: NaiveDate) -> NaiveDate {
        let months = |d: NaiveDate| d.year() * 12 + d.month0() as i32;
        let (len, origin) = match self {
            PeriodKind::Quarter => (3, 0),
            PeriodKind::ThreeMonths => (3, months(since)),
            PeriodKind::SixMonths => (6, months(since)),
        };
        let k = (months(date) - origin).div_euclid(len) * len + origin;
        NaiveDate::from_ymd_opt(k.div_euclid(12), k.rem_euclid(12) as u32 + 1, 1).unwrap_or(date)
    }

    pub fn months(&self) -> i32 {
        match self {
            PeriodKind::SixMonths => 6,
            _ => 3,
        }
    }

    pub fn label(&self, start: NaiveDate) -> String {
        match self {
            PeriodKind::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
            _ => start.format("%Y-%m").to_string(),
        }
    }
}

/// The first day of a period as [`PeriodKind::label`] writes it (`2024-Q4`, `2024-10`).
pub fn period_first_day(label: &str) -> Option<NaiveDate> {
    let (y, rest) = label.split_once('-')?;
    let y: i32 = y.parse().ok()?;
    let month = match rest.strip_prefix('Q') {
        Some(q) => (q.parse::<u32>().ok()?.checked_sub(1)?) * 3 + 1,
        None => rest.parse().ok()?,
    };
    NaiveDate::from_ymd_opt(y, month, 1)
}

/// First day of the month `k` months after `d`'s month.
pub fn add_months(d: NaiveDate, k: i32) -> NaiveDate {
    let m = d.year() * 12 + d.month0() as i32 + k;
    NaiveDate::from_ymd_opt(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

/// A figure with its seeded bootstrap 95% interval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Estimate {
    /// `value [low, high]` with each number written by `f` (see [`crate::format`]).
    pub fn show(&self, f: impl Fn(Option<f64>) -> String) -> String {
        crate::format::with_interval(self.value, self.low, self.high, f)
    }

    fn point(value: Option<f64>) -> Self {
        Estimate {
            value,
            low: None,
            high: None,
        }
    }
}

/// Ranking and fit of one score on one set of leads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreMetrics {
    pub roc_auc: Estimate,
    /// Average precision (scikit-learn's `average_precision_score`).
    pub pr_auc: Option<f64>,
    pub ks: Option<f64>,
    /// Probabilities only (the fitted model).
    pub brier: Option<f64>,
    pub log_loss: Option<f64>,
}

/// One decile of a score (decile 1 = the highest-scored tenth).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecileRow {
    pub decile: usize,
    pub leads: u64,
    pub converted: u64,
    pub rate: f64,
    /// rate / overall rate.
    pub lift: Option<f64>,
    /// Share of all converters in this and the higher deciles.
    pub cumulative_gain: Option<f64>,
    pub min_score: f64,
    pub max_score: f64,
}

/// Observed conversion per band (live score) or per predicted-probability decile (model).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalibrationRow {
    pub group: String,
    pub leads: u64,
    pub converted: u64,
    pub rate: Option<f64>,
    pub rate_low: Option<f64>,
    pub rate_high: Option<f64>,
    /// Mean predicted probability (model rows only).
    pub predicted: Option<f64>,
}

/// Quality of one threshold of the live model, from the hand-over replay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThresholdMetrics {
    pub stage: String,
    pub threshold: f64,
    pub leads: u64,
    pub handovers: u64,
    /// Converters handed over at or before their conversion.
    pub converted_after_handover: u64,
    /// converted_after_handover / handovers.
    pub precision: Estimate,
    /// converted_after_handover / converters.
    pub recall: Estimate,
    pub handovers_per_month: Estimate,
    pub median_days_to_win: Option<f64>,
}

/// Live score against the model at the same hand-over volume, judged at the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EqualVolume {
    /// Leads at or above the SQL threshold at their snapshot.
    pub handovers: u64,
    pub live_precision: Option<f64>,
    pub live_recall: Option<f64>,
    /// The model's top `handovers` leads.
    pub model_precision: Option<f64>,
    pub model_recall: Option<f64>,
}

/// Everything measured on one set of leads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetMetrics {
    pub leads: u64,
    pub converted: u64,
    pub rate: Option<f64>,
    pub live: ScoreMetrics,
    pub model: ScoreMetrics,
    pub thresholds: Vec<ThresholdMetrics>,
    pub equal_volume: EqualVolume,
    pub live_deciles: Vec<DecileRow>,
    pub model_deciles: Vec<DecileRow>,
    pub live_calibration: Vec<CalibrationRow>,
    pub model_calibration: Vec<CalibrationRow>,
}

/// One period's row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeriodRow {
    pub period: String,
    pub start: String,
    /// Leads created in the period, by label status.
    pub leads: u64,
    pub immature: u64,
    pub came_in_hot: u64,
    pub evaluable: u64,
    pub converted: u64,
    pub rate: Option<f64>,
    pub live_auc: Option<f64>,
    pub model_auc: Option<f64>,
    /// The model was fitted on this period's leads (its AUC here is in-sample).
    pub in_sample: bool,
    pub sql_precision: Option<f64>,
    pub sql_recall: Option<f64>,
    pub sql_handovers_per_month: Option<f64>,
    /// Live-score distribution against the training period's (its deciles are the bins);
    /// `None` under [`PSI_MIN_LEADS`] evaluable leads.
    pub psi: Option<f64>,
}

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Bootstrap {
    pub resamples: usize,
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            resamples: 200,
            seed: 20_230_101,
        }
    }
}

/// Evaluate rows `rows` (indices into the table); `draws` are [`bootstrap_weights`] for them.
/// `done` counts the ROC AUC resamples (two per draw: the live score's and the model's).
#[allow(clippy::too_many_arguments)] // the set, its scores and settings, and the progress
pub fn evaluate_set(
    t: &FeatureTable,
    prob: &[f64],
    rows: &[usize],
    model: &ScoringModel,
    horizon_days: i64,
    months: f64,
    draws: &[Draw],
    done: &crate::progress::Counter,
) -> SetMetrics {
    let y: Vec<bool> = rows.iter().map(|&i| t.y[i]).collect();
    let live: Vec<f64> = rows.iter().map(|&i| t.live_score[i]).collect();
    let p: Vec<f64> = rows.iter().map(|&i| prob[i]).collect();
    let converted = y.iter().filter(|&&v| v).count() as u64;
    let n = y.len() as u64;
    let order_live = m::order_desc(&live);
    let order_model = m::order_desc(&p);
    let auc_ci = |s: &[f64], o: &[usize]| -> Estimate {
        let value = m::roc_auc::<u8>(&y, s, o, None);
        let reps: Vec<f64> = draws
            .par_iter()
            .filter_map(|w| {
                let auc = m::roc_auc(&y, s, o, Some(w));
                done.add(1);
                auc
            })
            .collect();
        with_interval(value, reps)
    };
    let score_metrics = |s: &[f64], o: &[usize], probs: bool| ScoreMetrics {
        roc_auc: auc_ci(s, o),
        pr_auc: m::average_precision::<u8>(&y, s, o, None),
        ks: m::ks(&y, s, o),
        brier: probs.then(|| m::brier(&y, s)).flatten(),
        log_loss: probs.then(|| m::log_loss(&y, s)).flatten(),
    };
    let thresholds = [("mql", model.mql), ("sql", model.sql)]
        .iter()
        .map(|(stage, thr)| threshold_metrics(t, rows, stage, *thr, horizon_days, months, draws))
        .collect();
    // Equal volume at the snapshot.
    let k = live.iter().filter(|&&s| s >= model.sql).count();
    let hits = |sel: &mut dyn Iterator<Item = usize>| sel.filter(|&i| y[i]).count() as f64;
    let live_hits = hits(&mut (0..y.len()).filter(|&i| live[i] >= model.sql));
    let model_hits = hits(&mut order_model.iter().copied().take(k));
    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    let equal_volume = EqualVolume {
        handovers: k as u64,
        live_precision: ratio(live_hits, k as f64),
        live_recall: ratio(live_hits, converted as f64),
        model_precision: ratio(model_hits, k as f64),
        model_recall: ratio(model_hits, converted as f64),
    };
    let mut live_calibration = Vec::new();
    for (b, band) in model.bands.iter().enumerate() {
        let upper = model.bands.get(b + 1).map(|u| u.from);
        let members: Vec<usize> = (0..y.len())
            .filter(|&i| live[i] >= band.from && upper.is_none_or(|u| live[i] < u))
            .collect();
        live_calibration.push(calibration_row(&band.name, &members, &y, None));
    }
    let model_calibration = deciles_of(&order_model)
        .iter()
        .enumerate()
        .map(|(d, members)| {
            let mean = members.iter().map(|&i| p[i]).sum::<f64>() / members.len().max(1) as f64;
            calibration_row(&format!("decile {}", d + 1), members, &y, Some(mean))
        })
        .collect();
    SetMetrics {
        leads: n,
        converted,
        rate: ratio(converted as f64, n as f64),
        live: score_metrics(&live, &order_live, false),
        model: score_metrics(&p, &order_model, true),
        thresholds,
        equal_volume,
        live_deciles: decile_table(&order_live, &live, &y),
        model_deciles: decile_table(&order_model, &p, &y),
        live_calibration,
        model_calibration,
    }
}

fn calibration_row(
    name: &str,
    members: &[usize],
    y: &[bool],
    predicted: Option<f64>,
) -> CalibrationRow {
    let n = members.len() as u64;
    let k = members.iter().filter(|&&i| y[i]).count() as u64;
    let ci = crate::stats::wilson(k, n);
    CalibrationRow {
        group: name.to_string(),
        leads: n,
        converted: k,
        rate: (n > 0).then(|| k as f64 / n as f64),
        rate_low: ci.map(|c| c.0),
        rate_high: ci.map(|c| c.1),
        predicted: predicted.filter(|_| n > 0),
    }
}

/// Ten groups of (almost) equal size along `order` (highest first).
fn deciles_of(order: &[usize]) -> Vec<Vec<usize>> {
    let n = order.len();
    (0..10)
        .map(|d| order[d * n / 10..(d + 1) * n / 10].to_vec())
        .filter(|g| !g.is_empty())
        .collect()
}

fn decile_table(order: &[usize], s: &[f64], y: &[bool]) -> Vec<DecileRow> {
    let total = y.iter().filter(|&&v| v).count() as f64;
    let overall = total / y.len().max(1) as f64;
    let mut cum = 0.0;
    deciles_of(order)
        .iter()
        .enumerate()
        .map(|(d, g)| {
            let k = g.iter().filter(|&&i| y[i]).count();
            cum += k as f64;
            let rate = k as f64 / g.len() as f64;
            DecileRow {
                decile: d + 1,
                leads: g.len() as u64,
                converted: k as u64,
                rate,
                lift: (overall > 0.0).then(|| rate / overall),
                cumulative_gain: (total > 0.0).then(|| cum / total),
                min_score: g.iter().map(|&i| s[i]).fold(f64::INFINITY, f64::min),
                max_score: g.iter().map(|&i| s[i]).fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect()
}

/// One resample's weights: how often it draws each row.
pub type Draw = Vec<u8>;

/// Multinomial resampling weights (Poisson(1) counts, the standard large-sample form), one
/// vector per resample, each from its own seeded stream. A count is held in a byte: a
/// Poisson(1) draw reaches 256 with a probability far below 1e-400.
pub fn bootstrap_weights(n: usize, boot: Bootstrap) -> Vec<Draw> {
    (0..boot.resamples)
        .into_par_iter()
        .map(|b| {
            let mut rng = ChaCha8Rng::seed_from_u64(boot.seed.wrapping_add(b as u64));
            let pois = Poisson::new(1.0).expect("Poisson(1) is valid");
            (0..n)
                .map(|_| {
                    let k: f64 = pois.sample(&mut rng);
                    k.min(255.0) as u8
                })
                .collect()
        })
        .collect()
}

/// A figure and its bootstrap interval: `f` with no weights, then with each draw's.
pub fn estimate(draws: &[Draw], f: impl Fn(Option<&[u8]>) -> Option<f64> + Sync) -> Estimate {
    let reps: Vec<f64> = draws.par_iter().filter_map(|w| f(Some(w))).collect();
    with_interval(f(None), reps)
}

/// [`estimate`] for `K` figures computed together.
pub fn estimates<const K: usize>(
    draws: &[Draw],
    f: impl Fn(Option<&[u8]>) -> [Option<f64>; K] + Sync,
) -> [Estimate; K] {
    let reps: Vec<[Option<f64>; K]> = draws.par_iter().map(|w| f(Some(w))).collect();
    let value = f(None);
    std::array::from_fn(|k| with_interval(value[k], reps.iter().filter_map(|r| r[k]).collect()))
}

fn with_interval(value: Option<f64>, mut reps: Vec<f64>) -> Estimate {
    if value.is_none() || reps.len() < 20 {
        return Estimate::point(value);
    }
    reps.sort_by(f64::total_cmp);
    let q = |p: f64| reps[((reps.len() - 1) as f64 * p).round() as usize];
    Estimate {
        value,
        low: Some(q(0.025)),
        high: Some(q(0.975)),
    }
}

/// Precision, recall and volume of a threshold from the replayed hand-over times. A lead is
/// handed over when its running score first reaches the threshold, at most `horizon` days after
/// its snapshot; a converter counts as caught when it was handed over at or before converting.
fn threshold_metrics(
    t: &FeatureTable,
    rows: &[usize],
    stage: &str,
    threshold: f64,
    horizon_days: i64,
    months: f64,
    draws: &[Draw],
) -> ThresholdMetrics {
    let at = |i: usize| {
        if stage == "mql" {
            t.mql_at[i]
        } else {
            t.sql_at[i]
        }
    };
    handover_metrics(t, rows, stage, threshold, &at, horizon_days, months, draws)
}

/// [`threshold_metrics`] for any hand-over times (`at(row)`), e.g. of a recommended config.
#[allow(clippy::too_many_arguments)]
pub fn handover_metrics(
    t: &FeatureTable,
    rows: &[usize],
    stage: &str,
    threshold: f64,
    at: &(dyn Fn(usize) -> Option<i64> + Sync),
    horizon_days: i64,
    months: f64,
    draws: &[Draw],
) -> ThresholdMetrics {
    let handed: Vec<bool> = rows
        .iter()
        .map(|&i| t.handed_within(i, at(i), horizon_days))
        .collect();
    let caught: Vec<bool> = rows
        .iter()
        .zip(&handed)
        .map(|(&i, &h)| {
            h && t.y[i] && t.converted_at[i].is_some_and(|w| at(i).is_some_and(|a| a <= w))
        })
        .collect();
    let conv: Vec<bool> = rows.iter().map(|&i| t.y[i]).collect();
    // The positions where each flag holds, found once: a resample then adds its weights at
    // those positions only, in the order a pass over every row would.
    let positions = |v: &[bool]| -> Vec<usize> { (0..v.len()).filter(|&i| v[i]).collect() };
    let (handed_at, caught_at, conv_at) =
        (positions(&handed), positions(&caught), positions(&conv));
    let sum_w = |at: &[usize], w: Option<&[u8]>| -> f64 {
        // Unweighted, a sum of ones as well: an empty one is -0.0, as before.
        at.iter().map(|&i| w.map_or(1.0, |w| f64::from(w[i]))).sum()
    };
    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    let prec = |w: Option<&[u8]>| ratio(sum_w(&caught_at, w), sum_w(&handed_at, w));
    let rec = |w: Option<&[u8]>| ratio(sum_w(&caught_at, w), sum_w(&conv_at, w));
    let reps = |f: &(dyn Fn(Option<&[u8]>) -> Option<f64> + Sync)| -> Vec<f64> {
        draws.par_iter().filter_map(|w| f(Some(w))).collect()
    };
    let mut days: Vec<f64> = rows
        .iter()
        .zip(&caught)
        .filter(|(_, c)| **c)
        .filter_map(|(&i, _)| Some((t.converted_at[i]? - at(i)?) as f64 / DAY_US_F))
        .collect();
    days.sort_by(f64::total_cmp);
    let median = (!days.is_empty()).then(|| {
        let k = days.len();
        if k % 2 == 1 {
            days[k / 2]
        } else {
            (days[k / 2 - 1] + days[k / 2]) / 2.0
        }
    });
    let n_handed = handed.iter().filter(|&&h| h).count() as u64;
    ThresholdMetrics {
        stage: stage.to_string(),
        threshold,
        leads: rows.len() as u64,
        handovers: n_handed,
        converted_after_handover: caught.iter().filter(|&&c| c).count() as u64,
        precision: with_interval(prec(None), reps(&prec)),
        recall: with_interval(rec(None), reps(&rec)),
        handovers_per_month: {
            // Undefined without evaluable leads; `+ 0.0` makes an empty sum (-0.0) print as 0.
            let per = |w: Option<&[u8]>| {
                (months > 0.0 && !rows.is_empty()).then(|| (sum_w(&handed_at, w) + 0.0) / months)
            };
            with_interval(per(None), reps(&per))
        },
        median_days_to_win: median,
    }
}

/// The start of each creation time's period (one date conversion per lead).
pub fn period_starts(created: &[i64], kind: PeriodKind, since: NaiveDate) -> Vec<NaiveDate> {
    created
        .par_iter()
        .map(|&us| {
            let d = timeparse::from_micros(us)
                .map(|d| d.date())
                .unwrap_or(since);
            kind.start(d, since)
        })
        .collect()
}

/// A period needs this many evaluable leads for its PSI (the minimum group size).
pub const PSI_MIN_LEADS: usize = 30;

/// Per-period rows over the whole window.
#[allow(clippy::too_many_arguments)]
pub fn periods(
    t: &FeatureTable,
    prob: &[f64],
    model: &ScoringModel,
    kind: PeriodKind,
    since: NaiveDate,
    test_from: i64,
    horizon_days: i64,
) -> Vec<PeriodRow> {
    let all_keys = period_starts(&t.all_created, kind, since);
    let row_keys = period_starts(&t.created, kind, since);
    let mut starts = all_keys.clone();
    starts.sort_unstable();
    starts.dedup();
    let train_live: Vec<f64> = (0..t.y.len())
        .filter(|&i| t.created[i] < test_from)
        .map(|i| t.live_score[i])
        .collect();
    let base_edges = m::decile_edges(&train_live);
    let base_counts = m::bin_counts(&train_live, &base_edges);
    let mut out = Vec::new();
    for start in starts {
        let all: Vec<usize> = (0..t.all_created.len())
            .filter(|&i| all_keys[i] == start)
            .collect();
        let count = |s: &str| all.iter().filter(|&&i| t.all_status[i] == s).count() as u64;
        let rows: Vec<usize> = (0..t.y.len()).filter(|&i| row_keys[i] == start).collect();
        let y: Vec<bool> = rows.iter().map(|&i| t.y[i]).collect();
        let live: Vec<f64> = rows.iter().map(|&i| t.live_score[i]).collect();
        let p: Vec<f64> = rows.iter().map(|&i| prob[i]).collect();
        let converted = y.iter().filter(|&&v| v).count() as u64;
        let th = threshold_metrics(
            t,
            &rows,
            "sql",
            model.sql,
            horizon_days,
            kind.months() as f64,
            &[],
        );
        // Against the training period's deciles; a period too small to compare has none.
        let psi = (rows.len() >= PSI_MIN_LEADS)
            .then(|| m::psi(&base_counts, &m::bin_counts(&live, &base_edges)))
            .flatten();
        out.push(PeriodRow {
            period: kind.label(start),
            start: start.to_string(),
            leads: all.len() as u64,
            immature: count("immature"),
            came_in_hot: count("came_in_hot"),
            evaluable: rows.len() as u64,
            converted,
            rate: (!rows.is_empty()).then(|| converted as f64 / rows.len() as f64),
            live_auc: m::roc_auc::<u8>(&y, &live, &m::order_desc(&live), None),
            model_auc: m::roc_auc::<u8>(&y, &p, &m::order_desc(&p), None),
            in_sample: rows.iter().any(|&i| t.created[i] < test_from),
            sql_precision: th.precision.value,
            sql_recall: th.recall.value,
            sql_handovers_per_month: th.handovers_per_month.value,
            psi,
        });
    }
    out
}

pub use crate::units::months_between;
