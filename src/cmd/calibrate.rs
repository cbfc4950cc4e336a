//! `leadcal calibrate`: recommended weights and thresholds, written back as a scoring config,
//! with their back-tested effect beside the current config's.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cmd::evaluate::{self as ev, Inputs};
use crate::data::problem::thousands;
use crate::error::{Error, Result};
use crate::evaluate::{self, Bootstrap, ThresholdMetrics};
use crate::recommend::{self, Flag, Support, Weights};
use crate::report::{self, Lang};
use crate::scoring::config::ScoringModel;
use crate::scoring::explicit::with_explicit_points;
use crate::timeparse;

/// Which weights should change, and to what: a recommended scoring config with its back-test.
///
/// Runs the whole review: load, replay the live model, fit a logistic model beside it, evaluate
/// out of time, turn the coefficients into points on the live model's own scale (points to
/// double the odds), pick the SQL threshold for --objective on the training period, and replay
/// the recommended config over the test period beside the current one. Writes one run folder:
/// recommended-scoring.toml (the live config's schema, comments kept), changes.md,
/// recommendation.json and metrics.json. The input config is never modified.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal calibrate --since 2023-01\n  leadcal calibrate --since 2023-01 --until 2025-06 --data exports/ --model live-scoring.toml --objective capacity:400/month\n  leadcal calibrate --since 2024-01 --objective precision:0.3 --out reports/q3-review --force"
)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    /// What the SQL threshold should achieve: f1, precision:P (most recall with at least
    /// precision P), recall:R (most precision with at least recall R) or capacity:N/month (at
    /// most N hand-overs per month).
    #[arg(long, default_value = "f1")]
    pub objective: String,
    /// Run folder; default reports/<first day>_<last day> of the window.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing run folder.
    #[arg(long)]
    pub force: bool,
    /// No progress messages on stderr (they only appear on a terminal anyway).
    #[arg(long)]
    pub quiet: bool,
    /// Language of report.html and the charts: en or de (numbers and dates follow it).
    #[arg(long, default_value = "en", value_parser = ["en", "de"])]
    pub lang: String,
}

/// The threshold objective.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "target", rename_all = "snake_case")]
pub enum Objective {
    F1,
    Precision(f64),
    Recall(f64),
    CapacityPerMonth(f64),
}

impl Objective {
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || {
            Error::Usage(format!(
                "--objective `{s}`: expected f1, precision:0.3, recall:0.7 or capacity:400/month"
            ))
        };
        let share = |v: &str| -> Result<f64> {
            let x: f64 = v.trim().parse().map_err(|_| bad())?;
            if x > 0.0 && x <= 1.0 {
                Ok(x)
            } else {
                Err(bad())
            }
        };
        match s.split_once(':') {
            None if s == "f1" => Ok(Objective::F1),
            Some(("precision", v)) => Ok(Objective::Precision(share(v)?)),
            Some(("recall", v)) => Ok(Objective::Recall(share(v)?)),
            Some(("capacity", v)) => {
                let n: f64 = v
                    .trim()
                    .trim_end_matches("/month")
                    .parse()
                    .map_err(|_| bad())?;
                if n > 0.0 && n.is_finite() {
                    Ok(Objective::CapacityPerMonth(n))
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }
}

/// One candidate threshold on the training period.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Candidate {
    pub threshold: f64,
    pub handovers: u64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub handovers_per_month: f64,
    pub f1: Option<f64>,
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
    /// The threshold search on the training period (recommended config, hand-over replay).
    pub candidates: Vec<Candidate>,
    /// Test period: current config at its SQL threshold, recommended config at its own.
    pub current: ThresholdMetrics,
    pub recommended: ThresholdMetrics,
    pub inputs: Vec<InputHash>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputHash {
    pub file: String,
    pub sha256: String,
}

fn progress(quiet: bool, msg: &str) {
    if !quiet && std::io::stderr().is_terminal() {
        eprintln!("leadcal: {msg}");
    }
}

fn sha256(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::Input {
        path: path.to_path_buf(),
        message: format!("cannot read for hashing: {e}"),
    })?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::Input {
        path: path.to_path_buf(),
        message: format!("cannot read for hashing: {e}"),
    })?;
    Ok(format!("{:x}", h.finalize()))
}

fn sha256_bytes(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

/// Everything the report shows, from what the stages computed.
fn report_data(
    an: &ev::Analysis,
    seg: &crate::cmd::segments::Report,
    rec: &Recommendation,
    a: &Args,
    current_sweep: Vec<Candidate>,
    recommended_sha256: String,
) -> report::Data {
    let t = &an.table;
    let m = &an.metrics;
    let n_train = t.n_train;
    let test_y = &t.y[n_train..];
    let point = |c: &Candidate| report::SweepPoint {
        threshold: c.threshold,
        precision: c.precision,
        recall: c.recall,
        handovers_per_month: c.handovers_per_month,
    };
    let spec = &seg.segments.spec;
    let row = |g: &crate::segments::Group| report::SegmentRow {
        values: g.values.clone(),
        leads: g.leads,
        converted: g.converted,
        rate: g.rate,
        rate_low: g.rate_low,
        rate_high: g.rate_high,
        lift: g.lift,
        q_value: g.q_value,
    };
    let (nc, cm) = (&seg.segments.non_converting, &seg.segments.converter_marks);
    let shown = |g: &&crate::segments::Group| g.significant && !g.redundant;
    let w = rec.weights;
    report::Data {
        schema: report::SCHEMA.into(),
        window: report::Window {
            since: day(an.since),
            until: day(an.data_end),
            test_from: day(an.test_from),
            snapshot_days: m.window.snapshot_days,
            horizon_days: m.window.horizon_days,
            target: m.window.target.clone(),
            test_months: an.test_months,
        },
        quality: report::Quality {
            tables: an
                .ds
                .report
                .tables
                .iter()
                .map(|r| report::TableRow {
                    table: r.table.name_str().into(),
                    file: r.file.clone(),
                    rows: r.rows,
                    used: r.rows_used,
                })
                .collect(),
            warnings: an
                .ds
                .report
                .problems
                .iter()
                .map(|p| report::Warning {
                    code: p.code.into(),
                    file: p.file.clone(),
                    column: p.column.clone(),
                    rows: p.rows_affected,
                    message: p.message.clone(),
                })
                .collect(),
            leads: m.labels.leads,
            immature: m.labels.immature,
            came_in_hot: m.labels.came_in_hot,
            evaluable: m.labels.evaluable,
            converted: m.labels.converted,
            undated_conversions: m.labels.undated_conversions,
            train_leads: m.split.train_leads,
            train_converted: m.split.train_converted,
            test_leads: m.split.test_leads,
            test_converted: m.split.test_converted,
            skipped_attributes: t.skipped.clone(),
            min_group_size: spec.min_size,
            suppressed_groups: nc.suppressed + cm.suppressed,
        },
        test: m.test.clone(),
        periods: m.periods.clone(),
        curves: report::Curves::of(test_y, &t.live_score[n_train..], &an.prob[n_train..]),
        distribution: report::Distribution::of(test_y, &t.live_score[n_train..]),
        thresholds: report::Thresholds {
            objective: a.objective.clone(),
            objective_met: rec.objective_met,
            current_mql: an.model.mql,
            current_sql: an.model.sql,
            recommended_mql: rec.mql,
            recommended_sql: rec.sql,
            current_sweep: current_sweep.iter().map(point).collect(),
            recommended_sweep: rec.candidates.iter().map(point).collect(),
            current: rec.current.clone(),
            recommended: rec.recommended.clone(),
            current_mql_metrics: m.test.thresholds.iter().find(|x| x.stage == "mql").cloned(),
        },
        segments: report::SegmentsView {
            threshold: seg.threshold,
            handovers: nc.population,
            converted: nc.converted,
            rate: nc.rate,
            tested: nc.groups.len() as u64,
            significant: nc.groups.iter().filter(|g| g.significant).count() as u64,
            worst: nc
                .groups
                .iter()
                .filter(shown)
                .filter(|g| g.lift < 1.0)
                .take(15)
                .map(row)
                .collect(),
            converter_marks: cm
                .groups
                .iter()
                .filter(shown)
                .filter(|g| g.lift > 1.0)
                .take(10)
                .map(row)
                .collect(),
            converter_rate: cm.rate,
            accounts_without_conversion: seg.accounts.len() as u64,
        },
        matrix: seg
            .matrix
            .iter()
            .map(|c| report::MatrixCell {
                fit: c.fit.trim_start_matches("fit ").into(),
                engagement: c.engagement.trim_start_matches("engagement ").into(),
                leads: c.leads,
                rate: c.rate,
            })
            .collect(),
        weights: report::WeightsView {
            pdo: w.scaling.pdo,
            rounding_max: w.rounding_max,
            rules: w
                .implicit
                .iter()
                .chain(&w.explicit)
                .map(|r| report::RuleRow {
                    kind: r.kind.into(),
                    rule: r.rule.clone(),
                    current: r.current,
                    recommended: r.recommended,
                    leads: r.leads,
                    converters: r.converters,
                    coefficient: r.coefficient,
                    odds_ratio: r.coefficient.map(f64::exp),
                    flags: r.flags.clone(),
                })
                .collect(),
            suggestions: w.suggestions.iter().take(15).cloned().collect(),
        },
        provenance: report::Provenance {
            version: env!("CARGO_PKG_VERSION").into(),
            inputs: rec
                .inputs
                .iter()
                .map(|h| report::InputFile {
                    file: h.file.clone(),
                    sha256: h.sha256.clone(),
                })
                .collect(),
            recommended_config_sha256: recommended_sha256,
            settings: format!(
                "--since {} --until {} --test-from {} --snapshot-days {} --horizon-days {} --target {} --period {} --objective {}",
                day(an.since),
                day(an.data_end),
                day(an.test_from),
                m.window.snapshot_days,
                m.window.horizon_days,
                m.window.target,
                a.inputs.period,
                a.objective
            ),
        },
    }
}

fn day(us: i64) -> String {
    timeparse::display_micros(us).chars().take(10).collect()
}

pub fn run(a: Args) -> Result<()> {
    let _t = crate::timing::Stage::start("calibrate command");
    let objective = Objective::parse(&a.objective)?;
    if let Some(out) = &a.out {
        // Refuse before the analysis, not after it; checked again when the run is written.
        drop(crate::output::Staged::exact(out, a.force)?);
    }
    let q = a.quiet;
    progress(
        q,
        "loading, replaying the live model, fitting and evaluating ...",
    );
    // Segments need the live model's hand-overs only, so they run beside the fit.
    let (mut an, seg) = ev::analyse_with(&a.inputs, |ds, model, table, data_end| {
        crate::cmd::segments::compute(
            crate::cmd::segments::Inputs {
                ds,
                model,
                table,
                data_end,
            },
            "sql",
            &[],
            &crate::segments::SegmentSpec::default(),
            a.inputs.label.horizon_days,
        )
    })?;
    let seg = seg?;
    let dir = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!("{}_{}", day(an.since), day(an.data_end)))
    });
    // Every file goes into a staging folder that gets `dir`'s name only when it is complete;
    // with --force an earlier run there is replaced at that moment, not before.
    let staged = crate::output::Staged::exact(&dir, a.force)?;
    let out_dir = staged.path().to_path_buf();
    progress(q, "turning coefficients into points ...");
    let _w = crate::timing::Stage::start("recommend");
    let weights = recommend::weights(
        &an.model,
        &an.table,
        &an.metrics.model.fitted,
        Support::default(),
    );
    // Nothing after the weights reads the design matrix (4.5 GB at 10M leads): free it.
    an.table.x = ndarray::Array2::zeros((0, 0));
    let t = &an.table;
    let mut weights = weights.ok_or_else(|| {
        Error::Usage("points cannot be scaled: the live score (or the fitted model) gives every training lead the same value; check that the live model's rules match this data (attribute values and event types)".into())
    })?;
    // The recommended config's scores: explicit from the leads, implicit from the same matched
    // events (same rules and filters, new points).
    let explicit_all: Vec<f64> = with_explicit_points(an.ds.leads.clone().lazy(), &weights.model)
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
            let (_, p) = m.contributions_at(&weights.model, |i| t.snapshot[i]);
            (0..n)
                .map(|i| explicit[i] + p[i * n_rules..(i + 1) * n_rules].iter().sum::<f64>())
                .collect()
        }
        None => explicit.clone(),
    };
    // Candidate thresholds: the distinct whole-point 2nd..98th percentiles of the training
    // leads' recommended scores at their snapshot.
    let n_train = t.n_train;
    let mut sorted: Vec<f64> = snapshot_scores[..n_train].to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut grid: Vec<f64> = (1..50)
        .map(|k| sorted[(k * 2 * (sorted.len() - 1)) / 100].round())
        .collect();
    grid.dedup();
    progress(q, "replaying the recommended config ...");
    // The threshold search replays an evenly spaced sample of at most SEARCH_LEADS training
    // leads (every k-th in creation order); volumes are scaled back to all training leads.
    const SEARCH_LEADS: usize = 150_000;
    let stride = n_train.div_ceil(SEARCH_LEADS).max(1);
    let search: Vec<usize> = (0..n_train).step_by(stride).collect();
    let scale = n_train as f64 / search.len().max(1) as f64;
    // Points only: the thresholds to replay are passed explicitly.
    let points_model = weights.model.clone();
    let replay_with = |model: &ScoringModel,
                       explicit: &[f64],
                       rows: &[usize],
                       thresholds: &[f64]|
     -> Result<Vec<Vec<Option<i64>>>> {
        match &t.matched {
            Some(m) => {
                m.first_crossings_of(model, rows, explicit, &t.created, an.data_end, thresholds)
            }
            None => Ok(rows
                .iter()
                .map(|&i| {
                    thresholds
                        .iter()
                        .map(|g| (explicit[i] >= *g).then_some(t.created[i]))
                        .collect()
                })
                .collect()),
        }
    };
    let replay = |rows: &[usize], thresholds: &[f64]| {
        replay_with(&points_model, &explicit, rows, thresholds)
    };
    let horizon = a.inputs.label.horizon_days;
    let train_months = evaluate::months_between(an.since, an.test_from);
    // Hand-over metrics at each threshold of `grid` for the search sample's crossings.
    let sweep = |grid: &[f64], crossings: &[Vec<Option<i64>>]| -> Vec<Candidate> {
        grid.iter()
            .enumerate()
            .map(|(k, thr)| {
                // `handover_metrics` reads rows of the table; the crossings are by position.
                let at = |i: usize| search.binary_search(&i).ok().and_then(|p| crossings[p][k]);
                let m = evaluate::handover_metrics(
                    t,
                    &search,
                    "sql",
                    *thr,
                    &at,
                    horizon,
                    train_months / scale,
                    &[],
                );
                let (p, r) = (m.precision.value, m.recall.value);
                Candidate {
                    threshold: *thr,
                    handovers: (m.handovers as f64 * scale).round() as u64,
                    precision: p,
                    recall: r,
                    handovers_per_month: m.handovers_per_month.value.unwrap_or(0.0),
                    f1: match (p, r) {
                        (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
                        _ => None,
                    },
                }
            })
            .collect()
    };
    let candidates = sweep(&grid, &replay(&search, &grid)?);
    // The same sweep for the current points, for the report's threshold chart.
    let mut live_sorted: Vec<f64> = t.live_score[..n_train].to_vec();
    live_sorted.sort_by(f64::total_cmp);
    let mut live_grid: Vec<f64> = (1..50)
        .map(|k| live_sorted[(k * 2 * (live_sorted.len() - 1)) / 100].round())
        .chain([an.model.sql])
        .collect();
    live_grid.sort_by(f64::total_cmp);
    live_grid.dedup();
    let current_sweep = sweep(
        &live_grid,
        &replay_with(&an.model, &t.explicit, &search, &live_grid)?,
    );
    let pick = |ok: &dyn Fn(&Candidate) -> bool,
                better: &dyn Fn(&Candidate, &Candidate) -> bool| {
        let mut best: Option<usize> = None;
        for (k, c) in candidates.iter().enumerate() {
            if ok(c) && best.is_none_or(|b| better(c, &candidates[b])) {
                best = Some(k);
            }
        }
        best
    };
    let (chosen, met) = {
        let found = match objective {
            Objective::F1 => pick(&|c| c.f1.is_some(), &|c, b| c.f1 > b.f1),
            Objective::Precision(p) => pick(&|c| c.precision.is_some_and(|v| v >= p), &|c, b| {
                c.recall > b.recall
            }),
            Objective::Recall(r) => pick(&|c| c.recall.is_some_and(|v| v >= r), &|c, b| {
                c.precision > b.precision
            }),
            Objective::CapacityPerMonth(cap) => pick(&|c| c.handovers_per_month <= cap, &|c, b| {
                c.handovers > b.handovers
            }),
        };
        match found {
            Some(k) => (k, true),
            // Nearest miss: the best F1 for precision/recall, the highest threshold for capacity.
            None => match objective {
                Objective::CapacityPerMonth(_) => (grid.len() - 1, false),
                _ => (
                    pick(&|c| c.f1.is_some(), &|c, b| c.f1 > b.f1).unwrap_or(grid.len() - 1),
                    false,
                ),
            },
        }
    };
    let sql = grid[chosen];
    // MQL: the candidate below SQL whose training hand-over share is closest to the current MQL's.
    let horizon_us = horizon * 86_400_000_000;
    let share_now = (0..n_train)
        .filter(|&i| t.mql_at[i].is_some_and(|h| h <= t.snapshot[i] + horizon_us))
        .count() as f64
        / n_train.max(1) as f64;
    let mql_k = (0..chosen).min_by(|&x, &y| {
        let d =
            |k: usize| (candidates[k].handovers as f64 / n_train.max(1) as f64 - share_now).abs();
        d(x).total_cmp(&d(y))
    });
    let mql = mql_k.map(|k| grid[k]).unwrap_or(sql - 1.0).min(sql - 1.0);
    let (old_mql, old_sql) = (an.model.mql, an.model.sql);
    weights.model.mql = mql;
    weights.model.sql = sql;
    // Bands that start at a threshold follow it; others keep the share of snapshot scores above them.
    let live_train: Vec<f64> = t.live_score[..n_train].to_vec();
    for b in weights.model.bands.iter_mut() {
        if !b.from.is_finite() {
            continue;
        }
        b.from = if b.from == old_sql {
            sql
        } else if b.from == old_mql {
            mql
        } else {
            let share =
                live_train.iter().filter(|&&s| s >= b.from).count() as f64 / n_train.max(1) as f64;
            let k = (((1.0 - share) * (sorted.len() - 1) as f64).round() as usize)
                .min(sorted.len() - 1);
            sorted[k].round()
        };
    }
    // Back-test on the test period.
    let test_rows: Vec<usize> = (n_train..n).collect();
    let draws = evaluate::bootstrap_weights(test_rows.len(), Bootstrap::default());
    // Bootstrap weights are indexed by position in `rows`; handover_metrics expects that.
    let test_cross = replay(&test_rows, &[sql])?;
    let at_new = |i: usize| test_cross[i - n_train][0];
    let recommended = evaluate::handover_metrics(
        t,
        &test_rows,
        "sql",
        sql,
        &at_new,
        horizon,
        an.test_months,
        &draws,
    );
    let current = an
        .metrics
        .test
        .thresholds
        .iter()
        .find(|m| m.stage == "sql")
        .cloned()
        .ok_or_else(|| Error::Internal("no SQL threshold metrics".into()))?;
    drop(_w);
    // Provenance.
    let mut inputs = Vec::new();
    let warehouse = an.ds.warehouse.as_ref().map(|w| w.path.clone());
    let from_warehouse = warehouse.is_some();
    let files = an
        .ds
        .spec
        .tables()
        // With --features the raw events, if present, were not read.
        .filter(|ts| !from_warehouse || ts.table != crate::data::spec::Table::Events)
        .map(|ts| ts.path.clone())
        .chain(warehouse)
        .collect::<Vec<_>>();
    for path in files {
        inputs.push(InputHash {
            file: path.display().to_string(),
            sha256: sha256(&path)?,
        });
    }
    inputs.push(InputHash {
        file: an.model_path.display().to_string(),
        sha256: sha256(&an.model_path)?,
    });
    progress(q, "writing the run folder ...");
    let original = std::fs::read_to_string(&an.model_path).map_err(|e| Error::Input {
        path: an.model_path.clone(),
        message: format!("cannot read: {e}"),
    })?;
    let w = &an.metrics.window;
    let mut header = format!(
        "# Recommended by leadcal {} (`leadcal calibrate --objective {}`).\n# Data window: leads created {} .. {}; snapshot {} days, horizon {} days, target `{}`.\n# Objective {}: SQL {} (was {}), MQL {} (was {}). Every {:.1} points double a lead's odds of converting (PDO).\n# Changes and their reasons: changes.md beside this file. Inputs (SHA-256):\n",
        env!("CARGO_PKG_VERSION"),
        a.objective,
        day(an.since),
        day(an.data_end),
        w.snapshot_days,
        w.horizon_days,
        w.target,
        a.objective,
        sql,
        old_sql,
        mql,
        old_mql,
        weights.scaling.pdo
    );
    for h in &inputs {
        header.push_str(&format!("#   {}  {}\n", h.sha256, h.file));
    }
    header.push('\n');
    let text =
        recommend::write_config(&original, &weights.model, &header).map_err(|m| Error::Output {
            path: dir.join("recommended-scoring.toml"),
            message: m,
        })?;
    // It must load back as a model before it is written.
    let check_path = dir.join("recommended-scoring.toml");
    ScoringModel::parse(&text, &check_path)
        .map_err(|e| Error::Internal(format!("the recommended config does not load back: {e}")))?;
    crate::output::write_new(&out_dir.join("recommended-scoring.toml"), text.as_bytes())?;
    let rec = Recommendation {
        schema: "leadcal.recommendation/1",
        objective,
        objective_met: met,
        weights: &weights,
        mql,
        sql,
        candidates,
        current,
        recommended,
        inputs,
    };
    let changes = changes_md(&rec, old_mql, old_sql);
    crate::output::write_new(&out_dir.join("changes.md"), changes.as_bytes())?;
    let json = |v: &dyn erased::Json| v.to_json();
    crate::output::write_new(&out_dir.join("recommendation.json"), json(&rec)?.as_bytes())?;
    crate::output::write_new(&out_dir.join("metrics.json"), json(&an.metrics)?.as_bytes())?;
    crate::cmd::segments::write(&seg, &out_dir)?;
    progress(q, "drawing the charts and writing report.html ...");
    let data = report_data(
        &an,
        &seg,
        &rec,
        &a,
        current_sweep,
        sha256_bytes(text.as_bytes()),
    );
    crate::output::write_new(&out_dir.join(report::DATA_FILE), data.to_json()?.as_bytes())?;
    let lang = Lang::parse(&a.lang).unwrap_or(Lang::En);
    report::render(&data, lang, &out_dir)?;
    let dir = staged.commit()?;
    let mut out = std::io::stdout().lock();
    ev::print_summary(&mut out, &an.metrics).map_err(Error::Stdout)?;
    writeln!(out).map_err(Error::Stdout)?;
    crate::cmd::segments::print(&mut out, &seg, false).map_err(Error::Stdout)?;
    write!(out, "\n{changes}").map_err(Error::Stdout)?;
    writeln!(out, "\nwrote {}", dir.display()).map_err(Error::Stdout)?;
    Ok(())
}

mod erased {
    use crate::error::{Error, Result};
    pub trait Json {
        fn to_json(&self) -> Result<String>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> Result<String> {
            serde_json::to_string_pretty(self)
                .map(|s| s + "\n")
                .map_err(|e| Error::Internal(format!("serialising: {e}")))
        }
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v))
}

fn est(e: &evaluate::Estimate) -> String {
    match (e.low, e.high) {
        (Some(l), Some(h)) => format!("{} [{}, {}]", pct(e.value), pct(Some(l)), pct(Some(h))),
        _ => pct(e.value),
    }
}

fn per_month(e: &evaluate::Estimate) -> String {
    let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
    match (e.low, e.high) {
        (Some(_), Some(_)) => format!("{} [{}, {}]", f(e.value), f(e.low), f(e.high)),
        _ => f(e.value),
    }
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The readable diff.
fn changes_md(r: &Recommendation, old_mql: f64, old_sql: f64) -> String {
    let w = r.weights;
    let mut s = String::from("# Recommended changes\n\n");
    s.push_str(&format!(
        "Scaling: points = {:.2} × log-odds; every {:.1} points double the odds of converting (PDO). Rounding to whole points moves a lead's score by at most {:.2} points (mean {:.2}).\n\n",
        w.scaling.factor, w.scaling.pdo, w.rounding_max, w.rounding_mean
    ));
    s.push_str("| rule | current → recommended | why |\n|---|---|---|\n");
    let flag = |f: &[Flag]| {
        f.iter()
            .map(|f| match f {
                Flag::LowSupport => " **low support**",
                Flag::NotExercised => " **never exercised**",
                Flag::SignContradicts => " **sign contradicts current points**",
            })
            .collect::<String>()
    };
    let mut unchanged = 0;
    for c in w.implicit.iter().chain(&w.explicit) {
        if c.current == c.recommended && c.flags.is_empty() {
            unchanged += 1;
            continue;
        }
        let what = if c.kind == "implicit" { "per fire" } else { "" };
        s.push_str(&format!(
            "| `{}` {} | {} → {} | {}{} |\n",
            c.rule.replace('|', "\\|"),
            what,
            num(c.current),
            num(c.recommended),
            c.reason.replace('|', "\\|"),
            flag(&c.flags)
        ));
    }
    s.push_str(&format!(
        "| SQL threshold | {} → {} | objective {}{} |\n| MQL threshold | {} → {} | keeps the current MQL's share of hand-overs |\n",
        num(old_sql),
        num(r.sql),
        serde_json::to_string(&r.objective).unwrap_or_default(),
        if r.objective_met { "" } else { " **not reachable on the training period; nearest threshold used**" },
        num(old_mql),
        num(r.mql)
    ));
    if unchanged > 0 {
        s.push_str(&format!("\n{unchanged} rule(s) unchanged.\n"));
    }
    if !w.suggestions.is_empty() {
        s.push_str("\nValues the live model gives no points but the model would (not written to the config; add a rule if the meeting agrees):\n\n");
        for g in w.suggestions.iter().take(15) {
            s.push_str(&format!(
                "- `{}`: {} points ({} leads, {} converted)\n",
                g.feature,
                num(g.points),
                thousands(g.leads),
                thousands(g.converters)
            ));
        }
    }
    let (c, n) = (&r.current, &r.recommended);
    s.push_str(&format!(
        "\n## Back-test on the test period (hand-over replay)\n\n| | current (SQL {}) | recommended (SQL {}) |\n|---|---|---|\n| hand-overs | {} | {} |\n| hand-overs per month | {} | {} |\n| precision | {} | {} |\n| recall | {} | {} |\n| median days to win | {} | {} |\n",
        num(c.threshold),
        num(n.threshold),
        thousands(c.handovers),
        thousands(n.handovers),
        per_month(&c.handovers_per_month),
        per_month(&n.handovers_per_month),
        est(&c.precision),
        est(&n.precision),
        est(&c.recall),
        est(&n.recall),
        c.median_days_to_win.map_or("-".into(), |d| format!("{d:.0}")),
        n.median_days_to_win.map_or("-".into(), |d| format!("{d:.0}")),
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_parse_or_explain() {
        assert_eq!(Objective::parse("f1").unwrap(), Objective::F1);
        assert_eq!(
            Objective::parse("precision:0.3").unwrap(),
            Objective::Precision(0.3)
        );
        assert_eq!(
            Objective::parse("recall:0.7").unwrap(),
            Objective::Recall(0.7)
        );
        assert_eq!(
            Objective::parse("capacity:400/month").unwrap(),
            Objective::CapacityPerMonth(400.0)
        );
        for bad in ["precision:30", "recall:", "capacity:-4/month", "auc", "f2"] {
            let e = Objective::parse(bad).unwrap_err().to_string();
            assert!(e.contains("expected f1, precision:0.3"), "{bad}: {e}");
        }
    }
}
