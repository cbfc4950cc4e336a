//! Arguments several commands share.

use crate::label::LabelSpec;

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
