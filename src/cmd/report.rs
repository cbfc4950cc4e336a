//! `leadcal report`: re-render a run folder's report from its saved results, without refitting.

use std::io::Write;
use std::path::PathBuf;

use crate::cmd::common::LangArg;
use crate::error::{Error, Result};
use crate::report::{self, Data, Lang};

/// Re-render the meeting report of a `calibrate` run folder, e.g. in another language.
///
/// Reads RUN_DIR/report-data.json (written by `calibrate`) and draws the charts and
/// report.html again from it alone: nothing is loaded, replayed or fitted. The run folder's own
/// files are never touched: the new report goes to RUN_DIR/report-<lang> (or -2, -3 ... if that
/// exists), or to --out. report.html is self-contained (charts and styles inline, no scripts),
/// so it can be sent as an e-mail attachment.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal report reports/2023-01-01_2025-12-31 --lang de\n  leadcal report reports/q3-review --out /tmp/q3-review-en"
)]
pub struct Args {
    /// A run folder written by `leadcal calibrate`.
    pub run_dir: PathBuf,
    /// Language of the report and its charts: en or de (numbers and dates follow it).
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,
    /// Output folder (must not exist); default RUN_DIR/report-<lang>.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<()> {
    let lang = Lang::from(a.lang);
    if !a.run_dir.is_dir() {
        return Err(Error::Input {
            path: a.run_dir.clone(),
            message: "not a folder; expected a run folder written by `leadcal calibrate`".into(),
        });
    }
    if let Some(out) = &a.out {
        crate::output::replaceable(out, false, &[])?;
    }
    let data = Data::load(&a.run_dir)?;
    let staged = match a.out {
        Some(out) => crate::output::Staged::exact(&out, false, &[])?,
        None => crate::output::Staged::fresh(&a.run_dir.join(format!("report-{}", lang.code())))?,
    };
    let files = report::render(&data, lang, staged.path())?;
    let dir = staged.commit()?;
    let files: Vec<_> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| dir.join(n)))
        .collect();
    let mut out = std::io::stdout().lock();
    for f in files {
        writeln!(out, "wrote {}", f.display()).map_err(Error::Stdout)?;
    }
    Ok(())
}
