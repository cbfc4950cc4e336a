//! `evaluate`, `segments`, `calibrate`, `report`: not available yet.
//!
//! They accept any arguments so that a user trying the documented examples gets the plain
//! "not available yet" message (exit 2) instead of an argument error.

use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples (once available):\n  leadcal evaluate --since 2023-01 --data notebooks-data/demo\n  leadcal segments --since 2023-01 --threshold sql --by region,industry --pairs\n  leadcal calibrate --since 2023-01 --data notebooks-data/demo --objective f1\n  leadcal report reports/<run> --lang de"
)]
pub struct Args {
    /// Arguments of the command (ignored until it is available).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

pub fn run(command: &'static str) -> Result<()> {
    let detail = match command {
        "score" => {
            "replaying the live scoring model arrives with the scoring-model format (issue 3); use `leadcal validate` to check a dataset today"
        }
        "evaluate" => "threshold quality per period arrives with the fitted model (issue 4)",
        "segments" => "segment analysis of high-score non-converters arrives in issue 6",
        "calibrate" => "recommended weights and thresholds arrive in issue 5",
        _ => "the HTML meeting report arrives in issue 7",
    };
    Err(Error::NotAvailable { command, detail })
}
