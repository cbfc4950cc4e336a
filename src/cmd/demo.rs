//! `leadcal demo`: write the seeded synthetic world.

use std::io::Write;
use std::path::PathBuf;

use crate::demo::{self, DemoDrift, DemoFormat, DemoIds, DemoParams};
use crate::error::{Error, Result};
use crate::format::thousands;

/// Write a seeded synthetic B2B dataset with a known ground truth.
///
/// The world and its ground truth are documented in notebooks-data/README.md. The same seed and
/// size give byte-identical files. Existing files are never overwritten.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal demo --out /tmp/world                       # 100,000 leads as Parquet\n  leadcal demo --out /tmp/big --leads 1000000          # about 50M events\n  leadcal demo --out /tmp/small --leads 2000 --format csv --seed 7\n  leadcal demo --out /tmp/crm --ids text             # lead ids L0000001, ... as text"
)]
pub struct Args {
    /// Folder to write leads, events, outcomes and scoring.toml into.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of leads (about 50 events each).
    #[arg(long, default_value_t = 100_000)]
    pub leads: u64,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Table format.
    #[arg(long, value_enum, default_value_t = DemoFormat::Parquet)]
    pub format: DemoFormat,
    /// Lead ids as integers (1, 2, ...) or as text (`L0000001`, ...), as many CRMs export them.
    #[arg(long, value_enum, default_value_t = DemoIds::Int)]
    pub ids: DemoIds,
    /// The documented changes (e-mail opens from 2024-07, the webinar drift from 2024-10), or
    /// none: a world where no rule's effect changes.
    #[arg(long, value_enum, default_value_t = DemoDrift::Webinar)]
    pub drift: DemoDrift,
}

pub fn run(a: Args) -> Result<()> {
    let s = demo::generate(
        &a.out,
        &DemoParams {
            leads: a.leads,
            seed: a.seed,
            format: a.format,
            ids: a.ids,
            drift: a.drift,
            events_per_lead: 50.0,
        },
    )?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "wrote {} leads, {} events, {} outcome rows to {}",
        thousands(s.leads),
        thousands(s.events),
        thousands(s.outcomes),
        a.out.display()
    )
    .map_err(Error::Stdout)?;
    for f in &s.files {
        writeln!(out, "  {}", f.display()).map_err(Error::Stdout)?;
    }
    Ok(())
}
