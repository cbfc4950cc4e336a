//! `leadcal score`: the live model's scores as of a date.

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::data::{self, LoadOptions};
use crate::error::{Error, Result};
use crate::format::thousands;
use crate::scoring::config::ScoringModel;
use crate::scoring::score::score_as_of;
use crate::timeparse;

/// Score every lead with the live model as of a date: explicit, implicit and total score, score
/// groups, band, stage and per-rule contributions, plus an accounts table.
///
/// Only leads created and events occurred at or before the as-of time count. Without --out, a
/// summary is printed (leads per band and stage, score quantiles).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal score --as-of 2024-06-30\n  leadcal score --as-of 2024-06-30T12:00 --data exports/ --model scoring.toml --out scores.parquet\n  leadcal score --as-of 2025-01 --out scores.csv   # also writes scores-accounts.csv\n  leadcal score --snapshot-days 30 --out snapshot.parquet   # what `leadcal sql` computes"
)]
pub struct Args {
    /// Score as of this month, date or date-time (a month or date means its start, 00:00).
    #[arg(
        long,
        required_unless_present = "snapshot_days",
        conflicts_with = "snapshot_days"
    )]
    pub as_of: Option<timeparse::DateArg>,
    /// Instead of one as-of time, score every lead at its own snapshot, created_at + this many
    /// days, and write the per-lead table that `leadcal sql` computes in a warehouse (needs
    /// --out).
    #[arg(long, requires = "out", value_parser = clap::value_parser!(i64).range(0..=3650))]
    pub snapshot_days: Option<i64>,
    /// Dataset folder or dataset.toml.
    #[arg(long, default_value = crate::data::spec::DEMO_DATA)]
    pub data: PathBuf,
    /// Scoring model; default: scoring.toml in the dataset folder.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Write the per-lead table here (.parquet or .csv) and the accounts beside it
    /// (<name>-accounts.<ext>). EXPORTS LEAD IDS: the per-lead table has one row per lead with
    /// its id, which is personal data, for loading back into the CRM, not for a report (Parquet
    /// files carry `leadcal.contains = lead ids` in their metadata). Existing files are never
    /// overwritten.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<()> {
    let _t = crate::timing::Stage::start("score command");
    let model_path = a
        .model
        .clone()
        .unwrap_or_else(|| crate::data::spec::default_model(&a.data));
    let model = ScoringModel::from_file(&model_path)?;
    let outputs = a.out.as_ref().map(|o| output_paths(o)).transpose()?;
    let tags = crate::scoring::implicit::MatchedEvents::tags(&model);
    let ds = data::load(&a.data, &LoadOptions::default(), Some(&tags))?.require_valid()?;
    model.check_columns(&ds.attributes)?;
    let mut out = std::io::stdout().lock();
    if let (Some(days), Some((leads_path, _))) = (a.snapshot_days, &outputs) {
        let table = crate::scoring::score::score_at_snapshot(&ds, &model, days)?;
        write_table(&table, leads_path)?;
        writeln!(
            out,
            "wrote {} leads scored at created_at + {days} days to {} (one row per lead WITH LEAD IDS: personal data, keep it out of reports)",
            thousands(table.height() as u64),
            leads_path.display()
        )
        .map_err(Error::Stdout)?;
        return Ok(());
    }
    // clap requires --as-of without --snapshot-days.
    let as_of = a
        .as_of
        .as_ref()
        .and_then(|t| timeparse::from_micros(t.start))
        .ok_or_else(|| Error::Usage("--as-of: expected a date".into()))?;
    let scores = {
        let _t = crate::timing::Stage::start("score (all)");
        score_as_of(&ds, &model, as_of)?
    };
    if let Some((leads_path, accounts_path)) = outputs {
        write_table(&scores.leads, &leads_path)?;
        writeln!(
            out,
            "wrote {} lead scores as of {} to {} (one row per lead WITH LEAD IDS: personal data, keep it out of reports)",
            thousands(scores.leads.height() as u64),
            timeparse::display(as_of),
            leads_path.display()
        )
        .map_err(Error::Stdout)?;
        if let Some(acc) = &scores.accounts {
            write_table(acc, &accounts_path)?;
            writeln!(
                out,
                "wrote {} account scores to {}",
                thousands(acc.height() as u64),
                accounts_path.display()
            )
            .map_err(Error::Stdout)?;
        }
        return Ok(());
    }
    summary(&mut out, &scores.leads, &model, as_of).map_err(Error::Stdout)
}

fn output_paths(out: &Path) -> Result<(PathBuf, PathBuf)> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext != "csv" && ext != "parquet" {
        return Err(Error::Usage(format!(
            "--out {}: expected a .parquet or .csv file name",
            out.display()
        )));
    }
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("scores");
    let accounts = out.with_file_name(format!("{stem}-accounts.{ext}"));
    for p in [out, accounts.as_path()] {
        if p.exists() {
            return Err(Error::Output {
                path: p.to_path_buf(),
                message: "already exists; leadcal never overwrites an earlier output".into(),
            });
        }
    }
    Ok((out.to_path_buf(), accounts))
}

/// Write a table atomically (see [`crate::output::NewFile`]).
fn write_table(df: &DataFrame, path: &Path) -> Result<()> {
    let has_ids = df.column("lead_id").is_ok();
    let err = |e: String| Error::Output {
        path: path.to_path_buf(),
        message: e,
    };
    let mut out = crate::output::NewFile::create(path)?;
    let file = out.file();
    let mut df = df.clone();
    let res = if path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
        == Some("csv")
    {
        CsvWriter::new(file)
            .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S".into()))
            .finish(&mut df)
    } else {
        let mark = has_ids.then(|| {
            KeyValueMetadata::from_static(vec![("leadcal.contains".into(), "lead ids".into())])
        });
        ParquetWriter::new(file)
            .with_key_value_metadata(mark)
            .finish(&mut df)
            .map(|_| ())
    };
    res.map_err(|e| err(e.to_string()))?;
    crate::output::checkpoint("score: table written");
    out.persist()
}

fn summary(
    out: &mut impl Write,
    leads: &DataFrame,
    model: &ScoringModel,
    as_of: chrono::NaiveDateTime,
) -> std::io::Result<()> {
    let n = leads.height();
    writeln!(
        out,
        "Scores as of {} ({} leads, model {})",
        timeparse::display(as_of),
        thousands(n as u64),
        model.path.display()
    )?;
    let count = |c: &str, v: &str| -> u64 {
        leads
            .column(c)
            .ok()
            .and_then(|s| {
                s.str()
                    .ok()
                    .map(|s| s.iter().filter(|x| *x == Some(v)).count() as u64)
            })
            .unwrap_or(0)
    };
    let pct = |k: u64| {
        if n > 0 {
            format!("{:.1}%", 100.0 * k as f64 / n as f64)
        } else {
            "-".into()
        }
    };
    writeln!(out, "\nBand")?;
    for b in &model.bands {
        let k = count("band", &b.name);
        writeln!(out, "  {:<12} {:>12} {:>7}", b.name, thousands(k), pct(k))?;
    }
    writeln!(out, "\nStage")?;
    for (s, label) in [
        ("lead", "below MQL"),
        ("mql", &*format!("MQL ({}+)", model.mql)),
        ("sql", &*format!("SQL ({}+)", model.sql)),
    ] {
        let k = count("stage", s);
        writeln!(out, "  {:<12} {:>12} {:>7}", label, thousands(k), pct(k))?;
    }
    if let Ok(s) = leads.column("score").and_then(|c| c.f64().cloned()) {
        let mut v: Vec<f64> = s.iter().flatten().collect();
        v.sort_by(|a, b| a.total_cmp(b));
        if !v.is_empty() {
            let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
            writeln!(
                out,
                "\nScore quantiles\n  min {:.1}  p10 {:.1}  p25 {:.1}  median {:.1}  p75 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
                v[0],
                q(0.1),
                q(0.25),
                q(0.5),
                q(0.75),
                q(0.9),
                q(0.99),
                v[v.len() - 1]
            )?;
        }
    }
    Ok(())
}
