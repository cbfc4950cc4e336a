//! `leadcal evaluate`: the live score and a fitted model side by side, out of time and per period.

use std::io::Write;
use std::path::PathBuf;

use crate::cmd::common::Inputs;
use crate::error::{Error, Result};
use crate::pipeline;

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

/// `quiet`: a few lines instead of the full tables (see `--quiet`).
pub fn run(a: Args, quiet: bool) -> Result<()> {
    let _t = crate::timing::Stage::start("evaluate command");
    let an = pipeline::analyse(&a.inputs.options())?;
    let staged = crate::output::Staged::fresh(&a.out)?;
    crate::output::write_json(&staged.path().join("metrics.json"), &an.metrics)?;
    let path = staged.commit()?.join("metrics.json");
    let mut out = std::io::stdout().lock();
    if quiet {
        return crate::report::text::metrics_brief(&mut out, &an.metrics, &path)
            .map_err(Error::Stdout);
    }
    crate::report::text::metrics(&mut out, &an.metrics, true).map_err(Error::Stdout)?;
    writeln!(out, "\nwrote {}", path.display()).map_err(Error::Stdout)?;
    Ok(())
}
