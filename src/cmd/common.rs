//! Argument groups several commands share, and their checked forms.
//!
//! Every value is parsed when the arguments are (a bad one is clap's usage error, naming the
//! allowed values); [`Inputs::options`] turns the group into the pipeline's checked options.

use std::path::PathBuf;

use crate::evaluate::PeriodKind;
use crate::label::LabelSpec;
use crate::pipeline::Options;
use crate::report::Lang;
use crate::timeparse::DateArg;

/// How a lead is judged (DATA-CONTRACT.md, time semantics).
#[derive(Debug, Clone, clap::Args)]
pub struct LabelArgs {
    /// Days after created_at at which a lead is judged.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i64).range(0..=3650))]
    pub snapshot_days: i64,
    /// Days after the snapshot within which the target stage must be reached.
    #[arg(long, default_value_t = 180, value_parser = clap::value_parser!(i64).range(1..=3650))]
    pub horizon_days: i64,
    /// Stage that counts as converted.
    #[arg(long, default_value = "won")]
    pub target: String,
}

impl LabelArgs {
    pub fn spec(&self) -> LabelSpec {
        LabelSpec {
            snapshot_days: self.snapshot_days,
            horizon_days: self.horizon_days,
            target_stage: self.target.clone(),
        }
    }
}

/// `--period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodArg {
    /// Calendar quarters.
    #[value(name = "quarter", alias = "q")]
    Quarter,
    /// Blocks of 3 months from the first month of --since.
    #[value(name = "3m")]
    ThreeMonths,
    /// Blocks of 6 months from the first month of --since.
    #[value(name = "6m")]
    SixMonths,
}

impl From<PeriodArg> for PeriodKind {
    fn from(p: PeriodArg) -> Self {
        match p {
            PeriodArg::Quarter => PeriodKind::Quarter,
            PeriodArg::ThreeMonths => PeriodKind::ThreeMonths,
            PeriodArg::SixMonths => PeriodKind::SixMonths,
        }
    }
}

/// `--lang`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LangArg {
    En,
    De,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::En => Lang::En,
            LangArg::De => Lang::De,
        }
    }
}

/// Inputs shared by `evaluate`, `segments` and `calibrate`: data, model, window and labels.
#[derive(Debug, Clone, clap::Args)]
pub struct Inputs {
    /// First month (or date) of lead creation to include; default: the first lead.
    #[arg(long)]
    pub since: Option<DateArg>,
    /// Last month (or date) of lead creation, and the end of the data: nothing after it is
    /// read. Default: the latest timestamp in the data.
    #[arg(long)]
    pub until: Option<DateArg>,
    /// Periods for the per-period table: quarter (calendar), 3m or 6m (from --since).
    #[arg(long, value_enum, default_value = "quarter")]
    pub period: PeriodArg,
    /// Dataset folder or dataset.toml.
    #[arg(long, default_value = crate::data::spec::DEMO_DATA)]
    pub data: PathBuf,
    /// Live scoring model; default: scoring.toml in the dataset folder.
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub label: LabelArgs,
    /// First creation month (or date) of the test period; default: the last two calendar
    /// quarters that hold mature leads.
    #[arg(long)]
    pub test_from: Option<DateArg>,
    /// Fewest converters the training period must hold.
    #[arg(long, default_value_t = 30)]
    pub min_converters: usize,
    /// Read the behaviour from this per-lead table made in a warehouse or Spark by
    /// `leadcal sql --with-events` (.parquet or .csv) instead of the dataset's events; the
    /// leads and outcomes still come from --data. Results equal a run on the raw events.
    #[arg(long)]
    pub features: Option<PathBuf>,
    /// Read the events table afresh and keep nothing for the next run. By default the checked
    /// events are kept in a cache (~/.cache/leadcal/events, or LEADCAL_CACHE_DIR; at most
    /// LEADCAL_CACHE_LIMIT_GB, default 8), so a second run on the same data skips reading them.
    #[arg(long)]
    pub no_cache: bool,
}

impl Inputs {
    /// The pipeline's options.
    pub fn options(&self) -> Options {
        Options {
            data: self.data.clone(),
            model: self.model.clone(),
            features: self.features.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            test_from: self.test_from.clone(),
            period: self.period.into(),
            label: self.label.spec(),
            min_converters: self.min_converters,
            cache: match self.no_cache {
                true => None,
                false => crate::data::CacheOptions::from_env(),
            },
        }
    }
}
