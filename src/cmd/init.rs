//! `leadcal init DIR`: a `dataset.toml` and a scoring template for an export folder.

use std::io::Write;
use std::path::PathBuf;

use crate::data::{self, LoadOptions};
use crate::error::{Error, Result};
use crate::format::thousands;

/// Describe an export folder: which file is which table, and a scoring template to fill in.
///
/// Looks at the CSV, Parquet and Excel files in DIR, recognises a HubSpot, Salesforce, Marketo,
/// Account Engagement or Mautic export by its headers, and writes DIR/dataset.toml (the tables,
/// the preset, dates written with slashes and German numbers it saw, personal columns left out,
/// each with a comment) and DIR/scoring-template.toml (every event type and attribute as a rule
/// with 0 points, with how often it occurs). Existing files are never overwritten. Then type
/// your live points into the template and run `leadcal calibrate --data DIR --model ...`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal init exports/hubspot-2025-q3\n  leadcal init . && leadcal validate ."
)]
pub struct Args {
    /// The export folder.
    pub dir: PathBuf,
    /// Keep DIR/dataset.toml (yours, or an earlier init's) and write only the scoring
    /// template from the data it describes.
    #[arg(long)]
    pub template_only: bool,
}

pub fn run(a: Args) -> Result<()> {
    let toml_path = a.dir.join("dataset.toml");
    let template_path = a.dir.join("scoring-template.toml");
    if a.template_only {
        return template_only(&a, &toml_path, &template_path);
    }
    if toml_path.exists() && !template_path.exists() {
        return Err(Error::Output {
            path: toml_path.clone(),
            message: format!(
                "already exists; leadcal never overwrites a file. To write only the scoring template from it: leadcal init --template-only {}",
                a.dir.display()
            ),
        });
    }
    for p in [&toml_path, &template_path] {
        if p.exists() {
            return Err(Error::Output {
                path: p.clone(),
                message:
                    "already exists; leadcal never overwrites a file (move it away, or edit it)"
                        .into(),
            });
        }
    }
    let proposal = data::detect::propose(&a.dir)?;
    crate::output::write_new(&toml_path, proposal.to_toml().as_bytes())?;
    // The template reads the data as dataset.toml describes it. When that fails, the
    // dataset.toml this run just wrote is taken back: a failed init leaves nothing behind.
    let made = data::load(&toml_path, &LoadOptions::default(), None).and_then(|ds| {
        let text = crate::scoring::template::template(&ds)?;
        crate::output::write_new(&template_path, text.as_bytes())?;
        // The labels name what the data holds, so they follow its first load; the file is
        // the one this run just wrote.
        let labels = crate::scoring::template::labels(&ds)?;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&toml_path)
            .and_then(|mut f| f.write_all(labels.as_bytes()))
            .map_err(Error::write(&toml_path, "cannot add the [labels] section"))?;
        Ok(ds)
    });
    let ds = match made {
        Ok(ds) => ds,
        Err(e) => {
            let _ = std::fs::remove_file(&toml_path);
            return Err(e);
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "wrote {}", toml_path.display()).map_err(Error::Stdout)?;
    match proposal.preset {
        Some(p) => writeln!(out, "  a {} export", p.name),
        None => writeln!(
            out,
            "  no CRM preset: the files use leadcal's own column names"
        ),
    }
    .map_err(Error::Stdout)?;
    for t in &proposal.tables {
        writeln!(out, "  {:<9} {}", t.table.name(), t.file).map_err(Error::Stdout)?;
    }
    for f in &proposal.unused {
        let why = proposal
            .unused_why
            .iter()
            .find(|(u, _)| u == f)
            .map(|(_, w)| w.as_str())
            .unwrap_or("not recognised as leads, events, outcomes or companies");
        writeln!(out, "  not used  {f} ({why})").map_err(Error::Stdout)?;
    }
    match proposal.outcome_source() {
        Some(src) => writeln!(out, "  outcomes from {src}"),
        None => writeln!(
            out,
            "  NO OUTCOME SOURCE FOUND: no outcomes table, converted column or stage dates; leadcal cannot tell who bought until dataset.toml names one (see docs/crm-exports.md)"
        ),
    }
    .map_err(Error::Stdout)?;
    writeln!(
        out,
        "wrote {} ({} attributes, {} event types, all at 0 points)",
        template_path.display(),
        ds.attributes.len(),
        thousands(ds.report.event_types.len() as u64)
    )
    .map_err(Error::Stdout)?;
    let checks = proposal
        .tables
        .iter()
        .flat_map(|t| t.date_formats.iter())
        .filter(|(_, _, note)| note.starts_with("CHECK"))
        .count();
    writeln!(out, "\nTo check:").map_err(Error::Stdout)?;
    if checks > 0 {
        writeln!(
            out,
            "  - {checks} date format(s) marked CHECK in dataset.toml"
        )
        .map_err(Error::Stdout)?;
    }
    let problems = ds.report.problems.len();
    writeln!(
        out,
        "  - `leadcal validate {}`: {} problem(s) found now",
        a.dir.display(),
        problems
    )
    .map_err(Error::Stdout)?;
    writeln!(
        out,
        "  - type your live points and thresholds into {}, then `leadcal calibrate --data {} --model {}`: that calibrates your live model",
        template_path.display(),
        a.dir.display(),
        template_path.display()
    )
    .map_err(Error::Stdout)?;
    writeln!(
        out,
        "  - no live scoring yet? Run the same command with the template unchanged (every rule at 0 points): calibrate then recommends a first model from the data (at most 30 rules, every 20 points double the odds; --pdo changes the scale)"
    )
    .map_err(Error::Stdout)?;
    Ok(())
}

/// `--template-only`: the scoring template from an existing dataset.toml.
fn template_only(
    a: &Args,
    toml_path: &std::path::Path,
    template_path: &std::path::Path,
) -> Result<()> {
    if !toml_path.is_file() {
        return Err(Error::Input {
            path: toml_path.to_path_buf(),
            message: format!(
                "--template-only reads the folder's dataset.toml, and there is none; run `leadcal init {}` to write both",
                a.dir.display()
            ),
        });
    }
    if template_path.exists() {
        return Err(Error::Output {
            path: template_path.to_path_buf(),
            message: "already exists; leadcal never overwrites a file (move it away, or edit it)"
                .into(),
        });
    }
    let ds = data::load(toml_path, &LoadOptions::default(), None)?;
    let text = crate::scoring::template::template(&ds)?;
    crate::output::write_new(template_path, text.as_bytes())?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "wrote {} from {} ({} attributes, {} event types, all at 0 points)",
        template_path.display(),
        toml_path.display(),
        ds.attributes.len(),
        thousands(ds.report.event_types.len() as u64)
    )
    .map_err(Error::Stdout)?;
    Ok(())
}
