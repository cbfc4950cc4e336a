//! `leadcal validate`: load a dataset, check it against the data contract, print its profile.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::data::problem::Severity;
use crate::data::{self, LoadOptions};
use crate::error::{Error, Result};
use crate::format::thousands;
use crate::label::{self, LabelSpec, LabelSummary};
use crate::scoring::config::ScoringModel;
use crate::timeparse;

/// Check a dataset against the data contract and print its profile.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal validate                          # the committed demo dataset\n  leadcal validate exports/2024-q4/         # a folder with leads.csv, events.csv, outcomes.csv\n  leadcal validate crm/dataset.toml --json  # a mapped export, machine-readable"
)]
pub struct Args {
    /// Dataset folder (leads, events, outcomes as .csv or .parquet) or a dataset.toml.
    #[arg(default_value = crate::data::spec::DEMO_DATA)]
    pub dataset: PathBuf,
    /// Also check a scoring model (TOML) against the dataset's attributes.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Print the profile as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub label: crate::cmd::common::LabelArgs,
    /// End of the data (month, date or date-time; a month or date covers all of it); default:
    /// the latest timestamp seen.
    #[arg(long)]
    pub until: Option<crate::timeparse::DateArg>,
}

/// The scoring model checked beside the dataset.
#[derive(Debug, Serialize)]
pub struct ModelSummary {
    pub file: String,
    pub explicit_rules: usize,
    pub implicit_rules: usize,
    pub mql: f64,
    pub sql: f64,
}

/// The profile `validate` prints.
#[derive(Debug, Serialize)]
pub struct Profile {
    pub dataset: String,
    pub tables: Vec<data::TableReport>,
    pub attributes: Vec<data::Attribute>,
    pub event_types: Vec<data::Count>,
    pub stages: Vec<data::Count>,
    pub data_end: Option<String>,
    /// Which table and column set the data end (`--until` when given).
    pub data_end_set_by: Option<String>,
    pub label_spec: LabelSpec,
    pub labels: Option<LabelSummary>,
    pub model: Option<ModelSummary>,
    pub errors: usize,
    pub warnings: usize,
    pub problems: Vec<data::problem::Problem>,
}

pub fn run(args: Args) -> Result<()> {
    let until = args
        .until
        .as_ref()
        .map(|u| {
            timeparse::from_micros(u.end)
                .ok_or_else(|| Error::Usage(format!("--until `{}` is out of range", u.text)))
        })
        .transpose()?;
    let model = args
        .model
        .as_deref()
        .map(ScoringModel::from_file)
        .transpose()?;
    // An unusable leads table leaves nothing to profile: its problems are the error.
    let ds = data::load(&args.dataset, &LoadOptions::default(), None)?;
    let mut model_problems = vec![];
    let model = match model {
        Some(m) => {
            m.check_columns(&ds.attributes)?;
            let unscored: Vec<String> = ds
                .report
                .event_types
                .iter()
                .filter(|c| !m.implicit.iter().any(|r| r.event_type == c.value))
                .map(|c| format!("`{}` ({})", c.value, thousands(c.count)))
                .collect();
            if !unscored.is_empty() {
                model_problems.push(data::problem::Problem::file_warning(
                    "unscored-event-type",
                    m.path.display().to_string(),
                    format!(
                        "{}: {} event type(s) in the data that no implicit rule scores: {}. They add nothing to the live score, and calibrate cannot weigh them until a rule names them",
                        m.path.display(),
                        unscored.len(),
                        unscored.join(", ")
                    ),
                ));
            }
            Some(ModelSummary {
                file: m.path.display().to_string(),
                explicit_rules: m.explicit.len(),
                implicit_rules: m.implicit.len(),
                mql: m.mql,
                sql: m.sql,
            })
        }
        None => None,
    };
    let label_spec = args.label.spec();
    let data_end = until.or(ds.data_end);
    let labels = match (data_end, ds.leads.height()) {
        (Some(end), n) if n > 0 => Some(label::summarize(&label::label(
            &ds.leads,
            ds.outcomes.as_ref(),
            &label_spec,
            end,
        )?)?),
        _ => None,
    };
    let mut problems = ds.report.problems.clone();
    problems.extend(crate::features::leak::state_named(&ds));
    problems.extend(model_problems);
    if let Some(message) = ds.report.missing_target(&label_spec.target_stage) {
        problems.push(data::problem::Problem::file_warning(
            "target-stage-missing",
            args.dataset.display().to_string(),
            message,
        ));
    }
    let profile = Profile {
        dataset: args.dataset.display().to_string(),
        tables: ds.report.tables.clone(),
        attributes: ds.attributes.clone(),
        event_types: ds.report.event_types.clone(),
        stages: ds.report.stages.clone(),
        data_end: data_end.map(timeparse::display),
        data_end_set_by: if until.is_some() {
            Some("--until".into())
        } else {
            ds.report.data_end_set_by.clone()
        },
        label_spec,
        labels,
        model,
        errors: problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count(),
        warnings: problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
            .count(),
        problems,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &profile)
            .map_err(|e| Error::Internal(e.to_string()))?;
        writeln!(out).map_err(Error::Stdout)?;
    } else {
        write_text(&mut out, &profile).map_err(Error::Stdout)?;
    }
    out.flush().map_err(Error::Stdout)?;
    if profile.errors > 0 {
        return Err(Error::Reported(profile.errors));
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// The human-readable profile.
pub fn write_text(out: &mut impl Write, p: &Profile) -> std::io::Result<()> {
    writeln!(out, "Dataset {}", p.dataset)?;
    writeln!(out, "\nTables")?;
    for t in &p.tables {
        let range = match (&t.first, &t.last) {
            (Some(a), Some(b)) => format!("  {a} .. {b}"),
            _ => String::new(),
        };
        let left_out = t.rows - t.rows_used.min(t.rows);
        let lo = if left_out > 0 {
            format!(" ({} left out)", thousands(left_out))
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {:<9} {:>12} rows{lo}  {} [{}]{range}",
            t.table.name_str(),
            thousands(t.rows),
            t.file,
            t.format
        )?;
    }
    if !p.attributes.is_empty() {
        writeln!(out, "\nAttributes")?;
        for a in &p.attributes {
            writeln!(
                out,
                "  {:<24} {:<8} {:>6} distinct  {:>12} filled",
                a.name,
                format!("{:?}", a.kind).to_lowercase(),
                thousands(a.distinct),
                thousands(a.non_null)
            )?;
        }
    }
    if !p.event_types.is_empty() {
        writeln!(out, "\nEvent types")?;
        for c in &p.event_types {
            writeln!(out, "  {:<24} {:>12}", c.value, thousands(c.count))?;
        }
    }
    if !p.stages.is_empty() {
        writeln!(out, "\nStages")?;
        for c in &p.stages {
            writeln!(out, "  {:<24} {:>12}", c.value, thousands(c.count))?;
        }
    }
    if let Some(l) = &p.labels {
        let s = &p.label_spec;
        writeln!(
            out,
            "\nOutcome: target stage `{}`, snapshot created_at + {} days, horizon {} days, data end {}{}",
            s.target_stage,
            s.snapshot_days,
            s.horizon_days,
            p.data_end.as_deref().unwrap_or("-"),
            p.data_end_set_by
                .as_deref()
                .map(|b| format!(" (set by {b})"))
                .unwrap_or_default()
        )?;
        let share = |n: u64| {
            if l.leads > 0 {
                pct(n as f64 / l.leads as f64)
            } else {
                "-".into()
            }
        };
        writeln!(
            out,
            "  immature (snapshot + horizon after data end): {:>10} ({})",
            thousands(l.immature),
            share(l.immature)
        )?;
        writeln!(
            out,
            "  came in hot (converted before snapshot):      {:>10} ({})",
            thousands(l.came_in_hot),
            share(l.came_in_hot)
        )?;
        writeln!(
            out,
            "  evaluable:                                     {:>10} ({})",
            thousands(l.evaluable),
            share(l.evaluable)
        )?;
        match l.conversion_rate {
            Some(r) => writeln!(
                out,
                "  converted within horizon:                     {:>10} ({} of evaluable)",
                thousands(l.converted),
                pct(r)
            )?,
            None => writeln!(
                out,
                "  converted within horizon:                     - (no evaluable leads)"
            )?,
        }
        if l.undated_conversions > 0 {
            writeln!(
                out,
                "  note: {} conversion(s) have no date; horizon and came-in-hot cannot be applied to them",
                thousands(l.undated_conversions)
            )?;
        }
    }
    if let Some(m) = &p.model {
        writeln!(
            out,
            "\nScoring model {}: {} explicit and {} implicit rules, MQL {} / SQL {}; every attribute it uses exists",
            m.file, m.explicit_rules, m.implicit_rules, m.mql, m.sql
        )?;
    }
    writeln!(
        out,
        "\nProblems: {} error(s), {} warning(s)",
        p.errors, p.warnings
    )?;
    for pr in &p.problems {
        let tag = if pr.is_error() { "error" } else { "warning" };
        writeln!(out, "  {tag}: {}", pr.message)?;
    }
    Ok(())
}
