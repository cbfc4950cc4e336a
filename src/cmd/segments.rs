//! `leadcal segments`: which hand-overs do not buy, and what marks the leads that do.

use std::io::Write;
use std::path::PathBuf;

use crate::cmd::common::Inputs;
use crate::error::{Error, Result};
use crate::pipeline;
use crate::segments::{self, SegmentSpec, Threshold};

/// High-score leads that never bought: the groups (one attribute value, or a pair) whose
/// hand-overs convert worst, with Wilson intervals, lift, Fisher / chi-square p-values and
/// Benjamini–Hochberg q-values; the values that mark converters; the fit × engagement matrix;
/// and accounts with several hand-overs and no conversion.
///
/// Groups under --min-size leads are never shown. Pairs that add nothing beyond their worse
/// single value are marked redundant and listed after the others (all of them with
/// --show-redundant). Writes segments.json and segments.csv (schema: docs/segments.md).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal segments --since 2023-01 --pairs\n  leadcal segments --since 2023-01 --threshold 60 --by region,industry,source --pairs\n  leadcal segments --since 2024-01 --threshold mql --min-size 50 --out reports/segments-q3"
)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Hand-over threshold: sql, mql or a number of points.
    #[arg(long, default_value = "sql")]
    pub threshold: Threshold,
    /// Attributes to group by (comma-separated); default: every attribute with at most 50
    /// distinct values (numeric ones binned into quintiles).
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// Also test pairs of attribute values.
    #[arg(long)]
    pub pairs: bool,
    /// Smallest group shown (and tested).
    #[arg(long, default_value_t = 30)]
    pub min_size: u64,
    /// Print redundant pairs too.
    #[arg(long)]
    pub show_redundant: bool,
    /// Folder for segments.json and segments.csv (a suffix -2, -3 ... if it exists).
    #[arg(long, default_value = "reports/segments")]
    pub out: PathBuf,
}

/// `quiet`: a few lines instead of the full tables (see `--quiet`).
pub fn run(a: Args, quiet: bool) -> Result<()> {
    let _t = crate::timing::Stage::start("segments command");
    let prep = pipeline::prepare(&a.inputs.options())?;
    let p = segments::Inputs {
        ds: &prep.ds,
        model: &prep.model,
        table: &prep.table,
        data_end: prep.data_end,
    };
    let spec = SegmentSpec {
        min_size: a.min_size.max(1),
        pairs: a.pairs,
        ..SegmentSpec::default()
    };
    let report = segments::compute(p, a.threshold, &a.by, &spec, a.inputs.label.horizon_days)?;
    let staged = crate::output::Staged::fresh(&a.out)?;
    segments::table::write(&report, staged.path())?;
    let dir = staged.commit()?;
    let mut out = std::io::stdout().lock();
    if quiet {
        return crate::report::text::segments_brief(&mut out, &report, &dir).map_err(Error::Stdout);
    }
    crate::report::text::segments(&mut out, &report, a.show_redundant, true)
        .map_err(Error::Stdout)?;
    writeln!(out, "\nwrote {}", dir.display()).map_err(Error::Stdout)?;
    Ok(())
}
