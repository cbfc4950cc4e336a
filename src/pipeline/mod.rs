//! The run that `evaluate`, `segments` and `calibrate` share: load, label, replay the live
//! model, build the features, fit, and evaluate out of time and per period.
//!
//! Input: checked [`Options`] (built from the arguments by `cmd/common.rs`; nothing here sees
//! clap). Output: [`Prepared`] (data and features, no model) and [`Analysis`] (with the fit,
//! the probabilities, the test set and `metrics.json`'s [`Metrics`]). [`calibrate`] continues
//! from an analysis to the recommendation and the run folder's files.
//! Guarantees: features are point in time (as of each lead's snapshot); the model is fitted
//! on leads created before the test period and evaluated on the newest mature ones; every
//! window that leaves nothing to analyse is a usage error saying why.

pub mod calibrate;
pub mod provenance;
pub mod report_data;

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::data::{self, Dataset, LoadOptions};
use crate::error::{Error, Result};
use crate::evaluate::summary::{ModelReport, PsiBaseline, SkippedAttribute, Split, Tool, Window};
use crate::evaluate::{self, Bootstrap, Metrics, PeriodKind};
use crate::features::{self, FeatureSpec, FeatureTable};
use crate::label::LabelSpec;
use crate::model::LogisticParams;
use crate::scoring::config::ScoringModel;
use crate::scoring::implicit::MatchedEvents;
use crate::segments;
use crate::timeparse::{self, DateArg};
use crate::units::DAY_US;

/// What a run reads and how it judges, checked at the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// Dataset folder or `dataset.toml`.
    pub data: PathBuf,
    /// The live model; `None`: `scoring.toml` in the dataset folder.
    pub model: Option<PathBuf>,
    /// A per-lead table from `leadcal sql --with-events` in place of the raw events.
    pub features: Option<PathBuf>,
    pub since: Option<DateArg>,
    pub until: Option<DateArg>,
    pub test_from: Option<DateArg>,
    pub period: PeriodKind,
    pub label: LabelSpec,
    pub min_converters: usize,
    /// Where the events pass is kept for the next run; `None`: `--no-cache`.
    pub cache: Option<data::CacheOptions>,
}

/// The loaded data and the feature table, before any fit.
pub struct Prepared {
    pub ds: Dataset,
    pub model: ScoringModel,
    pub model_path: PathBuf,
    pub table: FeatureTable,
    pub since: i64,
    pub data_end: i64,
    pub test_from: i64,
    pub last_mature: i64,
}

/// The test period: its rows of the feature table, how many months of creation it spans, and
/// its bootstrap resampling weights (drawn once; every interval on the test set uses them).
pub struct TestSet {
    pub rows: Vec<usize>,
    pub months: f64,
    pub draws: Vec<evaluate::Draw>,
}

/// Everything `evaluate` computes, for `segments` and `calibrate` to build on.
pub struct Analysis {
    pub ds: Dataset,
    pub model: ScoringModel,
    pub model_path: PathBuf,
    pub table: FeatureTable,
    /// The fitted model's probability for every row of the table.
    pub prob: Vec<f64>,
    pub metrics: Metrics,
    pub test: TestSet,
    pub since: i64,
    pub data_end: i64,
    pub test_from: i64,
}

fn date_of(us: i64) -> Result<NaiveDate> {
    timeparse::from_micros(us)
        .map(|d| d.date())
        .ok_or_else(|| Error::Internal(format!("time {us} out of range")))
}

pub(crate) fn fit_params(o: &Options) -> LogisticParams {
    LogisticParams {
        min_converters: o.min_converters,
        ..LogisticParams::default()
    }
}

impl Prepared {
    /// What the segments analysis reads.
    pub fn segment_inputs(&self) -> segments::Inputs<'_> {
        segments::Inputs {
            ds: &self.ds,
            model: &self.model,
            table: &self.table,
            data_end: self.data_end,
        }
    }
}

/// The latest creation time of a lead created in `[since, end]`.
fn last_created(leads: &polars::prelude::DataFrame, since: i64, end: i64) -> Result<Option<i64>> {
    use polars::prelude::*;
    let t = leads
        .clone()
        .lazy()
        .select([col("created_at").cast(DataType::Int64).alias("t")])
        .filter(col("t").gt_eq(lit(since)).and(col("t").lt_eq(lit(end))))
        .select([col("t").max()])
        .collect()
        .map_err(crate::error::Error::polars("the last lead's creation"))?;
    Ok(t.column("t")
        .ok()
        .and_then(|c| c.get(0).ok())
        .and_then(|v| v.extract::<i64>()))
}

/// Load, label and build features (no model yet).
pub fn prepare(o: &Options) -> Result<Prepared> {
    // The data first: without it, the model's default path says nothing useful.
    data::spec::check_exists(&o.data)?;
    let model_path = o
        .model
        .clone()
        .unwrap_or_else(|| data::spec::default_model(&o.data));
    let model = ScoringModel::from_file(&model_path)?;
    fit_params(o).check()?;
    // The events are placed per lead as they are read, tagged with the live model's rules;
    // with a warehouse table in their place they are only checked.
    let mut ds = {
        let tags = MatchedEvents::tags(&model);
        let tags: Option<data::Tags> = match o.features {
            None => Some(&tags),
            Some(_) => None,
        };
        let load = LoadOptions {
            cache: o.cache.clone(),
            ..LoadOptions::default()
        };
        data::load(&o.data, &load, tags)?.require_valid()?
    };
    if let Some(f) = &o.features {
        ds = ds.with_warehouse(f, &crate::sql::model_fingerprint(&model))?;
    }
    model.check_columns(&ds.attributes)?;
    let data_end = match &o.until {
        Some(u) => u.end,
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
    let since = o.since.as_ref().map_or(first_lead, |s| s.start);
    if let (Some(u), Some(s)) = (&o.until, &o.since)
        && since > data_end
    {
        return Err(Error::Usage(format!(
            "--until {} lies before --since {}; nothing to evaluate",
            u.text, s.text
        )));
    }
    if since > data_end {
        return Err(Error::Usage(format!(
            "--since {} lies after the end of the data ({}); nothing to evaluate",
            timeparse::display_micros(since),
            timeparse::display_micros(data_end)
        )));
    }
    let label = o.label.clone();
    if let Some(message) = ds.report.missing_target(&label.target_stage) {
        return Err(Error::Usage(message));
    }
    // The newest lead that can be mature: its snapshot + horizon reaches the data end.
    let last_mature = data_end - (label.snapshot_days + label.horizon_days) * DAY_US;
    if last_mature < since {
        return Err(Error::Usage(format!(
            "no lead created since {} is mature: a lead needs {} + {} days of data after its creation, and the data ends {}",
            timeparse::display_micros(since),
            label.snapshot_days,
            label.horizon_days,
            timeparse::display_micros(data_end)
        )));
    }
    let test_from = match &o.test_from {
        Some(s) => s.start,
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
        label,
        since,
        until: data_end,
        data_end,
        test_from,
        min_level_count: 30,
        max_levels: 30,
    };
    let table = features::build(&ds, &model, &spec)?;
    // Columns that give the outcome away stay out of the segments too, not only the model.
    let leaked: Vec<&str> = table
        .skipped
        .iter()
        .filter(|(_, why)| matches!(why, features::Skip::Leak(_)))
        .map(|(a, _)| a.as_str())
        .collect();
    ds.leave_out(&leaked);
    Ok(Prepared {
        ds,
        model,
        model_path,
        table,
        since,
        data_end,
        test_from,
        last_mature,
    })
}

/// A training period whose mature leads all share one outcome cannot be fitted: said with the
/// counts and where the converters are, before any fit (the fit's own error named neither; the
/// real Olist export's 18 converters were all created in the test period).
fn check_training_outcomes(p: &Prepared) -> Result<()> {
    let t = &p.table;
    let n = t.n_train;
    let k = t.y[..n].iter().filter(|&&v| v).count();
    if k > 0 && k < n {
        return Ok(());
    }
    let head = format!(
        "the training period (leads created from {} until the test period starts on {}) holds {} mature leads of which {} converted; a model needs both converters and non-converters",
        timeparse::display_micros(p.since),
        timeparse::display_micros(p.test_from),
        n,
        k
    );
    let hint = if k == n && n > 0 {
        "every one of them reached the target: check --target (a stage every lead reaches says nothing)".to_string()
    } else {
        match t.y.iter().position(|&v| v) {
            Some(i) => format!(
                "the first mature lead that converted was created on {}, in the test period ({} converted there): move the test period later with --test-from, or check --target, --snapshot-days and --horizon-days (`leadcal validate` counts the leads each leaves)",
                timeparse::display_micros(t.created[i]),
                t.y[n..].iter().filter(|&&v| v).count()
            ),
            None => "no mature lead converted within the horizon: check --target, --snapshot-days and --horizon-days (`leadcal validate` counts the leads each leaves)".to_string(),
        }
    };
    Err(Error::Usage(format!("{head}; {hint}")))
}

/// Load, label, build features, fit and evaluate.
pub fn analyse(o: &Options) -> Result<Analysis> {
    analyse_with(o, |_| ()).map(|(an, ())| an)
}

/// [`analyse`], running `side` on the prepared data (loaded data, feature table, window)
/// while the model is fitted (the full fit leaves one of two cores idle); the test set's
/// bootstrap weights are drawn beside it too. The result is the same as running `side`
/// afterwards: `side` reads only what the fit does not change.
pub fn analyse_with<T: Send>(
    o: &Options,
    side: impl FnOnce(&Prepared) -> T + Send,
) -> Result<(Analysis, T)> {
    let prepared = prepare(o)?;
    crate::output::checkpoint("prepared");
    let n_train = prepared.table.n_train;
    check_training_outcomes(&prepared)?;
    let boot = Bootstrap::default();
    let stability_settings = evaluate::stability::Settings::default();
    let (fitted, (side_out, (draws, stability))) = rayon::join(
        || {
            let params = fit_params(o);
            let _t = crate::timing::Stage::start("fit");
            let table = &prepared.table;
            params
                .fit(
                    table
                        .x
                        .slice_axis(ndarray::Axis(0), ndarray::Slice::from(..n_train)),
                    &table.y[..n_train],
                    &table.names,
                )
                .map(|f| (f, params))
        },
        || {
            rayon::join(
                || side(&prepared),
                || {
                    rayon::join(
                        || {
                            let _b = crate::timing::Stage::start("bootstrap draws");
                            evaluate::bootstrap_weights(prepared.table.y.len() - n_train, boot)
                        },
                        || {
                            evaluate::stability::rule_stability(
                                &prepared.ds,
                                &prepared.model,
                                &prepared.table,
                                o.period,
                                date_of(prepared.since)?,
                                &stability_settings,
                            )
                        },
                    )
                },
            )
        },
    );
    let Prepared {
        ds,
        model,
        model_path,
        table,
        since,
        data_end,
        test_from,
        last_mature,
    } = prepared;
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
    let test = TestSet {
        months: evaluate::months_between(test_from, last_mature.min(data_end) + 1),
        draws,
        rows: test_rows,
    };
    let _e = crate::timing::Stage::start("evaluate metrics");
    let step = crate::progress::Step::bar(
        format!(
            "evaluating out of time: {} test leads, the ROC AUC's bootstrap",
            crate::format::thousands(test.rows.len() as u64)
        ),
        2 * test.draws.len() as u64,
        "resamples",
    );
    let horizon_days = o.label.horizon_days;
    let test_metrics = evaluate::evaluate_set(
        &table,
        &prob,
        &test.rows,
        &model,
        horizon_days,
        test.months,
        &test.draws,
        &step.counter(),
    );
    step.say("evaluating out of time: each period's metrics");
    let _p = crate::timing::Stage::start("evaluate: periods");
    let periods = evaluate::periods(
        &table,
        &prob,
        &model,
        o.period,
        date_of(since)?,
        test_from,
        horizon_days,
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
            last_created: last_created(&ds.leads, since, data_end)?
                .map(timeparse::display_micros)
                .unwrap_or_default(),
            data_end: timeparse::display_micros(data_end),
            data_end_set_by: match &o.until {
                Some(_) => Some("--until".into()),
                None => ds.report.data_end_set_by.clone(),
            },
            snapshot_days: o.label.snapshot_days,
            horizon_days,
            target: o.label.target_stage.clone(),
            period: o.period,
            live_model: model_path.display().to_string(),
            dataset: o.data.display().to_string(),
        },
        labels: table.labels.clone(),
        split: Split {
            test_from: timeparse::display_micros(test_from),
            train_leads: n_train as u64,
            train_converted: table.y[..n_train].iter().filter(|&&v| v).count() as u64,
            test_leads: test.rows.len() as u64,
            test_converted: test_conv as u64,
            test_months: test.months,
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
                    leak: match r {
                        features::Skip::Leak(l) => Some(l.clone()),
                        _ => None,
                    },
                })
                .collect(),
            capped_counts: table.capped.clone(),
            params,
        },
        test: test_metrics,
        periods,
        psi_baseline: PsiBaseline {
            period: "training",
            leads: n_train as u64,
            created_before: timeparse::display_micros(test_from),
            min_leads: evaluate::PSI_MIN_LEADS,
        },
        rule_stability: stability?,
        rule_stability_settings: stability_settings,
    };
    Ok((
        Analysis {
            ds,
            model,
            model_path,
            table,
            prob,
            metrics,
            test,
            since,
            data_end,
            test_from,
        },
        side_out,
    ))
}
