//! `leadcal sql`: the live model's snapshot scoring as one query for a warehouse or Spark.

use std::io::Write;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::scoring::config::ScoringModel;
use crate::sql::{self, Dialect, Options};

/// Write one SQL query that scores every lead at its snapshot where the data lives.
///
/// The query reads your leads and events tables and returns one row per lead: lead_id,
/// created_at, snapshot_at, explicit, implicit and total score, band, stage, and per rule its
/// fire count and points after progressive steps, caps, windows and half-lives. The result
/// equals `leadcal score --snapshot-days N` on the same data. Columns are read by leadcal's
/// names (lead_id, created_at, occurred_at, event_type, topic, asset_id, channel and the
/// attributes the rules use): map yours in a view first. Timestamps are taken as UTC.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal sql --model scoring.toml --dialect duckdb > snapshot.sql\n  leadcal sql --model scoring.toml --dialect spark --leads-table crm.leads --events-table crm.events\n  leadcal sql --model scoring.toml --dialect postgres --snapshot-days 14\n  leadcal sql --model scoring.toml --dialect duckdb --with-events > for-calibrate.sql   # then calibrate --features"
)]
pub struct Args {
    /// Scoring model (TOML).
    #[arg(long, default_value = "notebooks-data/demo/scoring.toml")]
    pub model: PathBuf,
    /// SQL dialect of the engine that runs the query.
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// Days after created_at at which a lead is judged (as calibrate's --snapshot-days).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i64).range(0..=3650))]
    pub snapshot_days: i64,
    /// The leads table (or view), optionally schema-qualified.
    #[arg(long, default_value = "leads")]
    pub leads_table: String,
    /// The events table (or view), optionally schema-qualified.
    #[arg(long, default_value = "events")]
    pub events_table: String,
    /// Also return each lead's matched events as two lists (lc_t, lc_mask), its latest event
    /// (last_event_at) and the rules' fingerprint (lc_model): export the result and pass it to
    /// `calibrate --features` (and `evaluate`, `segments`) in place of the raw events.
    #[arg(long)]
    pub with_events: bool,
}

pub fn run(a: Args) -> Result<()> {
    let model = ScoringModel::from_file(&a.model)?;
    let text = sql::query(
        &model,
        a.dialect,
        &Options {
            snapshot_days: a.snapshot_days,
            leads_table: a.leads_table.clone(),
            events_table: a.events_table.clone(),
            with_events: a.with_events,
        },
    )
    .map_err(|e| Error::Usage(format!("{}: {e}", a.model.display())))?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(Error::Stdout)?;
    out.flush().map_err(Error::Stdout)
}
