//! `leadcal evaluate`: the live score and a fitted model side by side, out of time and per period.

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Serialize;

use crate::cmd::score::default_model;
use crate::data::problem::thousands;
use crate::data::{self, LoadOptions};
use crate::error::{Error, Result};
use crate::evaluate::{self, Bootstrap, PeriodKind, PeriodRow, SetMetrics};
use crate::features::{self, FeatureSpec, Source};
use crate::label::LabelSummary;
use crate::model::{FittedLogistic, LogisticParams};
use crate::scoring::config::ScoringModel;
use crate::timeparse;

/// Inputs shared by `evaluate` and `calibrate`: data, model, window and labels.
#[derive(Debug, Clone, clap::Args)]
pub struct Inputs {
    /// First month (or date) of lead creation to include; default: the first lead.
    #[arg(long)]
    pub since: Option<String>,
    /// Last month (or date) of lead creation, and the end of the data: nothing after it is
    /// read. Default: the latest timestamp in the data.
    #[arg(long)]
    pub until: Option<String>,
    /// Periods for the per-period table: quarter (calendar), 3m or 6m (from --since).
    #[arg(long, default_value = "quarter")]
    pub period: String,
    /// Dataset folder or dataset.toml.
    #[arg(long, default_value = "notebooks-data/demo")]
    pub data: PathBuf,
    /// Live scoring model; default: scoring.toml in the dataset folder.
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub label: crate::cmd::common::LabelArgs,
    /// First creation month (or date) of the test period; default: the last two calendar
    /// quarters that hold mature leads.
    #[arg(long)]
    pub test_from: Option<String>,
    /// Fewest converters the training period must hold.
    #[arg(long, default_value_t = 30)]
    pub min_converters: usize,
    /// Read the behaviour from this per-lead table made in a warehouse or Spark by
    /// `leadcal sql --with-events` (.parquet or .csv) instead of the dataset's events; the
    /// leads and outcomes still come from --data. Results equal a run on the raw events.
    #[arg(long)]
    pub features: Option<PathBuf>,
}

/// Were the top-scored leads the ones that bought, and is the SQL threshold in the right place?
///
/// Judges every lead at its snapshot (created_at + --snapshot-days) against whether it reached
/// the target stage within --horizon-days after it. Fits a logistic model on the older leads
/// and tests it, beside the live score, on the newest mature leads (by default the last two
/// quarters). Reports ROC AUC, PR AUC, KS, Brier and log-loss, lift by decile, conversion per
/// band, precision / recall / hand-overs per month at MQL and SQL from the hand-over replay,
/// seeded bootstrap intervals, and the same per period with PSI. Writes metrics.json.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal evaluate --since 2023-01\n  leadcal evaluate --since 2023-01 --until 2024-12 --period 6m --data exports/ --out reports/q4-review\n  leadcal evaluate --since 2023 --snapshot-days 14 --horizon-days 90 --target opportunity"
)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Folder for metrics.json; an existing folder is never reused (a suffix -2, -3 ... is added).
    #[arg(long, default_value = "reports/evaluate")]
    pub out: PathBuf,
}

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
    pub data_end: String,
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
    pub params: LogisticParams,
}

#[derive(Debug, Serialize)]
pub struct SkippedAttribute {
    pub attribute: String,
    pub reason: String,
}

const DAY: i64 = 86_400_000_000;

fn date_of(us: i64) -> Result<NaiveDate> {
    timeparse::from_micros(us)
        .map(|d| d.date())
        .ok_or_else(|| Error::Internal(format!("time {us} out of range")))
}

/// Everything `evaluate` computes, for `calibrate` to build on.
pub struct Analysis {
    pub ds: data::Dataset,
    pub model: ScoringModel,
    pub model_path: PathBuf,
    pub table: features::FeatureTable,
    pub prob: Vec<f64>,
    pub metrics: Metrics,
    pub since: i64,
    pub data_end: i64,
    pub test_from: i64,
    pub test_months: f64,
}

pub fn run(a: Args) -> Result<()> {
    let _t = crate::timing::Stage::start("evaluate command");
    let an = analyse(&a.inputs)?;
    let staged = crate::output::Staged::fresh(&a.out)?;
    let json = serde_json::to_string_pretty(&an.metrics)
        .map_err(|e| Error::Internal(format!("serialising metrics: {e}")))?;
    crate::output::write_new(
        &staged.path().join("metrics.json"),
        format!("{json}\n").as_bytes(),
    )?;
    let path = staged.commit()?.join("metrics.json");
    let mut out = std::io::stdout().lock();
    print_summary(&mut out, &an.metrics).map_err(Error::Stdout)?;
    writeln!(out, "\nwrote {}", path.display()).map_err(Error::Stdout)?;
    Ok(())
}

/// Load, label, build features, fit and evaluate.
/// The loaded data and the feature table, before any fit.
pub struct Prepared {
    pub ds: data::Dataset,
    pub model: ScoringModel,
    pub model_path: PathBuf,
    pub table: features::FeatureTable,
    pub period: PeriodKind,
    pub since: i64,
    pub data_end: i64,
    pub test_from: i64,
    pub last_mature: i64,
}

/// Load, label and build features (no model yet).
pub fn prepare(a: &Inputs) -> Result<Prepared> {
    let period = PeriodKind::parse(&a.period).ok_or_else(|| {
        Error::Usage(format!(
            "--period `{}`: expected quarter, 3m or 6m",
            a.period
        ))
    })?;
    let model_path = a.model.clone().unwrap_or_else(|| default_model(&a.data));
    let model = ScoringModel::from_file(&model_path)?;
    let params = LogisticParams {
        min_converters: a.min_converters,
        ..LogisticParams::default()
    };
    params.check()?;
    let mut ds = data::load(&a.data, &LoadOptions::default())?.require_valid()?;
    if let Some(f) = &a.features {
        ds = ds.with_warehouse(f, &crate::sql::model_fingerprint(&model))?;
    }
    model.check_columns(&ds.attributes)?;
    let data_end = match &a.until {
        Some(u) => timeparse::parse_until(u).map_err(|e| Error::Usage(format!("--until {e}")))?,
        None => ds
            .data_end
            .map(timeparse::to_micros)
            .ok_or_else(|| Error::Usage("the dataset holds no timestamps".into()))?,
    };
    let first_lead = ds
        .leads
        .column("created_at")
        .ok()
        .and_then(|c| c.cast(&polars::prelude::DataType::Int64).ok())
        .and_then(|c| c.i64().ok().and_then(|c| c.iter().flatten().min()))
        .unwrap_or(data_end);
    let since = match &a.since {
        Some(s) => timeparse::to_micros(
            timeparse::parse_bound(s).map_err(|e| Error::Usage(format!("--since {e}")))?,
        ),
        None => first_lead,
    };
    if let Some(u) = &a.until
        && let Some(s) = &a.since
        && since > data_end
    {
        return Err(Error::Usage(format!(
            "--until {u} lies before --since {s}; nothing to evaluate"
        )));
    }
    if since > data_end {
        return Err(Error::Usage(format!(
            "--since {} lies after the end of the data ({}); nothing to evaluate",
            timeparse::display_micros(since),
            timeparse::display_micros(data_end)
        )));
    }
    let label = a.label.spec();
    if let Some(message) = ds.report.missing_target(&label.target_stage) {
        return Err(Error::Usage(message));
    }
    // The newest lead that can be mature: its snapshot + horizon reaches the data end.
    let last_mature = data_end - (a.label.snapshot_days + a.label.horizon_days) * DAY;
    if last_mature < since {
        return Err(Error::Usage(format!(
            "no lead created since {} is mature: a lead needs {} + {} days of data after its creation, and the data ends {}",
            timeparse::display_micros(since),
            a.label.snapshot_days,
            a.label.horizon_days,
            timeparse::display_micros(data_end)
        )));
    }
    let test_from = match &a.test_from {
        Some(s) => timeparse::to_micros(
            timeparse::parse_bound(s).map_err(|e| Error::Usage(format!("--test-from {e}")))?,
        ),
        None => {
            let q = PeriodKind::Quarter.start(date_of(last_mature)?, date_of(since)?);
            timeparse::to_micros(
                evaluate::add_months(q, -3)
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight exists"),
            )
        }
    };
    if test_from <= since || test_from > last_mature {
        return Err(Error::Usage(format!(
            "the test period must start after --since and hold mature leads: test from {}, since {}, last mature lead created {}",
            timeparse::display_micros(test_from),
            timeparse::display_micros(since),
            timeparse::display_micros(last_mature)
        )));
    }
    let spec = FeatureSpec {
        label: label.clone(),
        since,
        until: data_end,
        data_end,
        test_from,
        min_level_count: 30,
        max_levels: 30,
    };
    let table = features::build(&ds, &model, &spec)?;
    Ok(Prepared {
        ds,
        model,
        model_path,
        table,
        period,
        since,
        data_end,
        test_from,
        last_mature,
    })
}

/// Load, label, build features, fit and evaluate.
pub fn analyse(a: &Inputs) -> Result<Analysis> {
    analyse_with(a, |_, _, _, _| ()).map(|(an, ())| an)
}

/// [`analyse`], running `side` on the loaded data and the feature table while the model is
/// fitted (the full fit leaves one of two cores idle). The result is the same as running `side`
/// afterwards: `side` reads only what the fit does not change.
pub fn analyse_with<T: Send>(
    a: &Inputs,
    side: impl FnOnce(&data::Dataset, &ScoringModel, &features::FeatureTable, i64) -> T + Send,
) -> Result<(Analysis, T)> {
    let Prepared {
        ds,
        model,
        model_path,
        table,
        period,
        since,
        data_end,
        test_from,
        last_mature,
    } = prepare(a)?;
    let n_train = table.n_train;
    let train_y = &table.y[..n_train];
    // The full fit is one core's work; `side` (segments, for calibrate) runs beside it.
    let (fitted, side_out) = rayon::join(
        || {
            let params = LogisticParams {
                min_converters: a.min_converters,
                ..LogisticParams::default()
            };
            let _t = crate::timing::Stage::start("fit");
            params
                .fit(
                    table
                        .x
                        .slice_axis(ndarray::Axis(0), ndarray::Slice::from(..n_train)),
                    train_y,
                    &table.names,
                )
                .map(|f| (f, params))
        },
        || side(&ds, &model, &table, data_end),
    );
    let (fitted, params) = fitted?;
    let prob = fitted.predict(table.x.view());
    let test_rows: Vec<usize> = (n_train..table.y.len()).collect();
    let test_conv = test_rows.iter().filter(|&&i| table.y[i]).count();
    if test_conv == 0 || test_conv == test_rows.len() {
        return Err(Error::Usage(format!(
            "the test period (leads created from {}) holds {} mature leads of which {} converted; it needs both converters and non-converters (move it with --test-from)",
            timeparse::display_micros(test_from),
            test_rows.len(),
            test_conv
        )));
    }
    let test_months = evaluate::months_between(test_from, last_mature.min(data_end) + 1);
    let boot = Bootstrap::default();
    let _e = crate::timing::Stage::start("evaluate metrics");
    let test = evaluate::evaluate_set(
        &table,
        &prob,
        &test_rows,
        &model,
        a.label.horizon_days,
        test_months,
        boot,
    );
    let periods = evaluate::periods(
        &table,
        &prob,
        &model,
        period,
        date_of(since)?,
        test_from,
        a.label.horizon_days,
    );
    drop(_e);
    let metrics = Metrics {
        schema: "leadcal.metrics/1",
        tool: Tool {
            name: "leadcal",
            version: env!("CARGO_PKG_VERSION"),
        },
        window: Window {
            since: timeparse::display_micros(since),
            until: timeparse::display_micros(data_end),
            data_end: timeparse::display_micros(data_end),
            snapshot_days: a.label.snapshot_days,
            horizon_days: a.label.horizon_days,
            target: a.label.target.clone(),
            period,
            live_model: model_path.display().to_string(),
            dataset: a.data.display().to_string(),
        },
        labels: table.labels.clone(),
        split: Split {
            test_from: timeparse::display_micros(test_from),
            train_leads: n_train as u64,
            train_converted: train_y.iter().filter(|&&v| v).count() as u64,
            test_leads: test_rows.len() as u64,
            test_converted: test_conv as u64,
            test_months,
            bootstrap: boot,
        },
        model: ModelReport {
            fitted,
            sources: table.sources.clone(),
            skipped_attributes: table
                .skipped
                .iter()
                .map(|(a, r)| SkippedAttribute {
                    attribute: a.clone(),
                    reason: r.to_string(),
                })
                .collect(),
            params,
        },
        test,
        periods,
    };
    Ok((
        Analysis {
            ds,
            model,
            model_path,
            table,
            prob,
            metrics,
            since,
            data_end,
            test_from,
            test_months,
        },
        side_out,
    ))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v))
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.digits$}"))
}

fn est(e: &evaluate::Estimate, percent: bool) -> String {
    let f = |v: Option<f64>| if percent { pct(v) } else { num(v, 3) };
    match (e.low, e.high) {
        (Some(_), Some(_)) => format!("{} [{}, {}]", f(e.value), f(e.low), f(e.high)),
        _ => f(e.value),
    }
}

pub fn print_summary(out: &mut impl Write, m: &Metrics) -> std::io::Result<()> {
    let l = &m.labels;
    writeln!(
        out,
        "Leads created {} .. {}: {} in total; {} immature (excluded), {} came in hot (counted apart), {} evaluated, {} converted ({}).",
        &m.window.since[..10.min(m.window.since.len())],
        &m.window.until[..10.min(m.window.until.len())],
        thousands(l.leads),
        thousands(l.immature),
        thousands(l.came_in_hot),
        thousands(l.evaluable),
        thousands(l.converted),
        pct(l.conversion_rate)
    )?;
    let s = &m.split;
    writeln!(
        out,
        "Model fitted on {} leads ({} converted) created before {}; tested on the {} leads ({} converted) created since.",
        thousands(s.train_leads),
        thousands(s.train_converted),
        &s.test_from[..10.min(s.test_from.len())],
        thousands(s.test_leads),
        thousands(s.test_converted)
    )?;
    let t = &m.test;
    writeln!(
        out,
        "\nOut of time (test set)        live score               model"
    )?;
    let rows = [
        (
            "ROC AUC",
            est(&t.live.roc_auc, false),
            est(&t.model.roc_auc, false),
        ),
        ("PR AUC", num(t.live.pr_auc, 3), num(t.model.pr_auc, 3)),
        ("KS", num(t.live.ks, 3), num(t.model.ks, 3)),
        (
            "Brier / log-loss",
            "-".to_string(),
            format!("{} / {}", num(t.model.brier, 4), num(t.model.log_loss, 4)),
        ),
    ];
    for (what, live, model) in rows {
        writeln!(out, "  {what:<27} {live:<24} {model}")?;
    }
    let ev = &t.equal_volume;
    writeln!(
        out,
        "  at SQL volume ({} leads)     precision {} recall {}   precision {} recall {}",
        thousands(ev.handovers),
        pct(ev.live_precision),
        pct(ev.live_recall),
        pct(ev.model_precision),
        pct(ev.model_recall)
    )?;
    writeln!(out, "\nThresholds (hand-over replay, test set)")?;
    for th in &t.thresholds {
        writeln!(
            out,
            "  {} at {}: {} hand-overs ({}/month), precision {}, recall {}, median {} days to win",
            th.stage.to_uppercase(),
            th.threshold,
            thousands(th.handovers),
            num(th.handovers_per_month.value, 0),
            est(&th.precision, true),
            est(&th.recall, true),
            num(th.median_days_to_win, 0)
        )?;
    }
    writeln!(out, "\nConversion by band (test set)")?;
    for b in &t.live_calibration {
        writeln!(
            out,
            "  {:<10} {:>9} leads  {:>7} [{}, {}]",
            b.group,
            thousands(b.leads),
            pct(b.rate),
            pct(b.rate_low),
            pct(b.rate_high)
        )?;
    }
    writeln!(out, "\nLift by decile (test set)   live   model")?;
    for (a, b) in t.live_deciles.iter().zip(&t.model_deciles) {
        writeln!(
            out,
            "  decile {:>2}                {:>5}  {:>5}",
            a.decile,
            num(a.lift, 2),
            num(b.lift, 2)
        )?;
    }
    writeln!(
        out,
        "\nPer period     leads  immature  evaluable  conv.rate  live AUC  model AUC  SQL prec  SQL recall  SQL/month   PSI"
    )?;
    for p in &m.periods {
        writeln!(
            out,
            "  {:<9} {:>8} {:>9} {:>10} {:>10} {:>9} {:>9}{} {:>9} {:>11} {:>10} {:>5}",
            p.period,
            thousands(p.leads),
            thousands(p.immature),
            thousands(p.evaluable),
            pct(p.rate),
            num(p.live_auc, 3),
            num(p.model_auc, 3),
            if p.in_sample { "*" } else { " " },
            pct(p.sql_precision),
            pct(p.sql_recall),
            num(p.sql_handovers_per_month, 0),
            num(p.psi, 3)
        )?;
    }
    writeln!(
        out,
        "  (* the model was fitted on this period: in-sample. PSI compares each period's live scores with the first period's.)"
    )?;
    let mut coefs: Vec<(f64, &String)> = m
        .model
        .fitted
        .coef
        .iter()
        .copied()
        .zip(&m.model.fitted.names)
        .collect();
    coefs.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()).then(a.1.cmp(b.1)));
    writeln!(
        out,
        "\nStrongest model features (log-odds per standard deviation; penalty {} chosen by time-ordered CV)",
        m.model.fitted.penalty
    )?;
    for (c, name) in coefs.iter().take(10) {
        writeln!(out, "  {c:>+7.3}  {name}")?;
    }
    Ok(())
}
