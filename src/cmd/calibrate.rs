//! `leadcal calibrate`: recommended weights and thresholds, written back as a scoring config,
//! with their back-tested effect beside the current config's.

use std::io::Write;
use std::path::PathBuf;

use crate::cmd::common::{Inputs, LangArg};
use crate::error::{Error, Result};
use crate::output::Staged;
use crate::pipeline::calibrate::{self as run_calibrate, Settings};
use crate::recommend::Objective;

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
    /// What the SQL threshold should achieve: volume (today's hand-overs per month, ranked by
    /// the new points), f1, precision:P (most recall with at least precision P), recall:R (most
    /// precision with at least recall R) or capacity:N/month (at most N hand-overs per month).
    /// When the live model gives every lead the same score (init's template as written, or
    /// rules that match nothing), calibrate recommends a first model instead, and volume means
    /// share:0.1 (the top tenth of leads handed over).
    #[arg(long, default_value = "volume")]
    pub objective: Objective,
    /// A first model's scale: points that double a lead's odds of converting. A model with
    /// live points keeps the live scale.
    #[arg(long, default_value_t = 20.0, value_parser = pdo)]
    pub pdo: f64,
    /// Run folder; default reports/<first day>_<last day> of the window.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing run folder.
    #[arg(long)]
    pub force: bool,
    /// Language of report.html and the charts: en or de (numbers and dates follow it).
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,
}

fn pdo(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (1.0..=1000.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}`: expected points that double the odds, 1 to 1000 (default 20)"
        )),
    }
}

/// `quiet`: a few lines instead of the full tables (see `--quiet`).
pub fn run(a: Args, quiet: bool) -> Result<()> {
    let _t = crate::timing::Stage::start("calibrate command");
    let options = a.inputs.options();
    let settings = Settings {
        objective: a.objective,
        lang: a.lang.into(),
        pdo: a.pdo,
    };
    // What this run reads: --force never replaces a folder that holds one of them.
    let inputs: Vec<&std::path::Path> = [
        Some(&options.data),
        options.model.as_ref(),
        options.features.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(PathBuf::as_path)
    .collect();
    if let Some(out) = &a.out {
        // Refuse before the analysis, not after it; checked again when the run is written.
        crate::output::replaceable(out, a.force, &inputs)?;
    }
    let (an, beside) = run_calibrate::analyse(&options)?;
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| run_calibrate::default_dir(&an));
    // Every file goes into a staging folder that gets `dir`'s name only when it is complete;
    // with --force an earlier run there is replaced at that moment, not before.
    let staged = Staged::exact(&dir, a.force, &inputs)?;
    let done = run_calibrate::finish(an, beside, &options, &settings, &dir, staged.path())?;
    let dir = staged.commit()?;
    let mut out = std::io::stdout().lock();
    if quiet {
        return crate::report::text::calibrate_brief(
            &mut out,
            &done.analysis.metrics,
            &done.segments,
            &done.recommended,
            &dir,
        )
        .map_err(Error::Stdout);
    }
    let live = done.recommended.first_model.is_none();
    crate::report::text::metrics(&mut out, &done.analysis.metrics, live).map_err(Error::Stdout)?;
    writeln!(out).map_err(Error::Stdout)?;
    crate::report::text::segments(&mut out, &done.segments, false, live).map_err(Error::Stdout)?;
    write!(out, "\n{}", done.changes).map_err(Error::Stdout)?;
    writeln!(out, "\nwrote {}", dir.display()).map_err(Error::Stdout)?;
    Ok(())
}
