//! The command line: one file per subcommand, each owning its arguments and its `run`.

use clap::{Parser, Subcommand};

use crate::error::Result;

pub mod calibrate;
pub mod common;
pub mod compare;
pub mod demo;
pub mod evaluate;
pub mod init;
pub mod report;
pub mod score;
pub mod segments;
pub mod sql;
pub mod validate;

/// Calibrate a B2B lead-scoring points model against what actually converted.
///
/// Exit codes: 0 ok, 2 a problem with the input or the arguments, 1 an internal error.
#[derive(Debug, Parser)]
#[command(name = "leadcal", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// A few lines on stdout instead of the full tables (evaluate, segments, calibrate: the
    /// answers and where the files are), and no progress on stderr.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a seeded synthetic B2B dataset with a known ground truth.
    Demo(demo::Args),
    /// Write dataset.toml and a scoring template for an export folder.
    Init(init::Args),
    /// Check a dataset against the data contract and print its profile.
    Validate(validate::Args),
    /// Score every lead with the live model as of a date.
    Score(score::Args),
    /// Live score and a fitted model side by side: ranking, thresholds, per period, out of time.
    Evaluate(evaluate::Args),
    /// Hand-overs that do not buy, by attribute value and pair; values that mark converters.
    Segments(segments::Args),
    /// Recommended weights and thresholds as a loadable config, with their back-test.
    Calibrate(calibrate::Args),
    /// Re-render a run folder's meeting report (HTML with PNG charts), e.g. in German.
    Report(report::Args),
    /// What changed between two reviews: adopted recommendations, quality, segments, drift.
    Compare(compare::Args),
    /// Write the live model's snapshot scoring as one SQL query for a warehouse or Spark.
    Sql(sql::Args),
}

/// The name of every subcommand, as clap knows them (without clap's own `help`).
pub fn subcommand_names() -> Vec<String> {
    use clap::CommandFactory;
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|n| n != "help")
        .collect()
}

/// Run the chosen command.
pub fn dispatch(cli: Cli) -> Result<()> {
    use std::io::IsTerminal;
    crate::progress::show(!cli.quiet && std::io::stderr().is_terminal());
    match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Init(a) => init::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Score(a) => score::run(a),
        Command::Evaluate(a) => evaluate::run(a, cli.quiet),
        Command::Calibrate(a) => calibrate::run(a, cli.quiet),
        Command::Segments(a) => segments::run(a, cli.quiet),
        Command::Report(a) => report::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Sql(a) => sql::run(a),
    }
}
