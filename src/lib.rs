//! leadcal: calibrate a B2B lead-scoring points model against what actually converted.
//!
//! Pipeline stages, in dependency order (each module's header states its inputs, outputs and
//! guarantees; `docs/ARCHITECTURE.md` is the map): [`data`] (load and check the exports) ->
//! [`label`] (snapshots, horizon, maturity) -> [`scoring`] (the live model replayed) ->
//! [`features`] (as of each snapshot) -> [`model`] (logistic fit) -> [`evaluate`] ->
//! [`segments`] -> [`recommend`] -> [`report`]. [`pipeline`] runs them in that order for the
//! commands in [`cmd`]; [`run`] is the entry point.
//!
//! Beside the stages: [`demo`] writes a synthetic dataset with a known ground truth; [`sql`]
//! writes the scoring stage as one SQL query for warehouses and Spark. Below them all, shared
//! by every stage: [`error`], [`units`], [`stats`], [`format`], [`timeparse`], [`timing`],
//! [`progress`], [`views`] (lookups keyed on a text column's views) and
//! [`output`] (atomic writes). A module never imports one above it (`tests/it/layering.rs`).

#![forbid(unsafe_code)]

pub mod cmd;
pub mod compare;
pub mod data;
pub mod demo;
pub mod error;
pub mod evaluate;
pub mod features;
pub mod format;
pub mod label;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod recommend;
pub mod report;
pub mod saved;
pub mod scoring;
pub mod segments;
pub mod sql;
pub mod stats;
pub mod timeparse;
pub mod timing;
pub mod units;
pub mod views;

pub use error::{Error, ExitStatus, Result};

use std::io::Write;

/// Run the command line and return the process exit code: 0 ok, 2 user error, 1 internal error
/// (130 when interrupted; see [`ExitStatus`]).
pub fn run() -> i32 {
    output::install_interrupt_handler();
    run_with_args(std::env::args_os())
}

/// [`run`] with explicit arguments (the first is the program name).
pub fn run_with_args<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    let cli = match cmd::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let code = e.exit_code();
            let _ = e.print();
            return code;
        }
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cmd::dispatch(cli)));
    match outcome {
        Ok(Ok(())) => ExitStatus::Ok.code(),
        Ok(Err(err)) => {
            let status = err.status();
            if status != ExitStatus::Ok {
                report_error(&err);
            }
            status.code()
        }
        Err(_) => {
            // The panic hook has already printed the panic message.
            let _ = writeln!(
                std::io::stderr(),
                "error: internal error (a bug in leadcal); please report it with the command you ran"
            );
            ExitStatus::Internal.code()
        }
    }
}

/// Print an error and every cause in its chain.
fn report_error(err: &Error) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let _ = writeln!(stderr, "  caused by: {cause}");
        source = cause.source();
    }
}
