//! `leadcal compare`: what changed between two reviews, from their run folders alone.

use std::io::Write;
use std::path::PathBuf;

use crate::cmd::common::LangArg;
use crate::error::{Error, Result};
use crate::report::Lang;

/// Compare two calibrate runs: what was adopted, and whether it delivered.
///
/// Reads OLD_RUN and NEW_RUN (folders written by `leadcal calibrate`) and compares their saved
/// results; nothing is loaded, replayed or refitted. It says which of the earlier run's
/// recommended changes today's config adopted (fully, partly, not), what the earlier back-test
/// promised for them against what the new run measured, how the live score's quality moved
/// (with intervals), which hand-over segments are still, no longer or newly flagged, and which
/// rules' drift verdicts changed. Writes compare.json and compare.html into
/// NEW_RUN/compare-<old> (or -2, -3 ... if that exists), or into --out; never overwrites.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal compare reports/2025-q1-review reports/2025-q3-review\n  leadcal compare reports/q1 reports/q3 --lang de --out /tmp/q1-vs-q3"
)]
pub struct Args {
    /// The earlier run folder.
    pub old_run: PathBuf,
    /// The later run folder.
    pub new_run: PathBuf,
    /// Language of compare.html: en or de.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,
    /// Output folder (must not exist); default NEW_RUN/compare-<old run's name>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace --out when it is a comparison leadcal wrote (never a folder holding other files,
    /// and never one of the two runs).
    #[arg(long, requires = "out")]
    pub force: bool,
}

pub fn run(a: Args) -> Result<()> {
    let lang = Lang::from(a.lang);
    let inputs = [a.old_run.as_path(), a.new_run.as_path()];
    if let Some(out) = &a.out {
        crate::output::replaceable(out, a.force, &inputs)?;
    }
    let c = crate::compare::compare(&a.old_run, &a.new_run)?;
    let staged = match a.out {
        Some(out) => crate::output::Staged::exact(&out, a.force, &inputs)?,
        None => crate::output::Staged::fresh(&a.new_run.join(format!("compare-{}", c.old.name)))?,
    };
    crate::output::write_json(&staged.path().join("compare.json"), &c)?;
    crate::output::write_new(
        &staged.path().join("compare.html"),
        crate::compare::html::page(&c, lang).as_bytes(),
    )?;
    let dir = staged.commit()?;
    let mut out = std::io::stdout().lock();
    let adopted = c
        .adoption
        .iter()
        .filter(|r| r.status == crate::compare::Adoption::Adopted)
        .count();
    let (old, new) = (&c.old.name, &c.new.name);
    let (segments, drift) = (c.segments.len(), c.drift.len());
    let summary = match lang {
        Lang::En => format!(
            "{old} → {new}: {adopted} recommended changes adopted; {segments} segments compared; {drift} drift verdicts changed."
        ),
        Lang::De => format!(
            "{old} → {new}: {adopted} empfohlene Änderungen übernommen; {segments} Segmente verglichen; {drift} Befunde zu veränderter Wirkung geändert."
        ),
    };
    writeln!(out, "{summary}").map_err(Error::Stdout)?;
    if c.first_review {
        let line = match lang {
            Lang::En => format!(
                "First review: {old} recommended a first model (no live score then); its promise is set against what the live score measures now."
            ),
            Lang::De => format!(
                "Erstes Review: {old} empfahl ein erstes Modell (damals kein Live-Score); sein Versprechen wird dem gegenübergestellt, was der Live-Score jetzt misst."
            ),
        };
        writeln!(out, "{line}").map_err(Error::Stdout)?;
    }
    for m in &c.missing {
        writeln!(
            out,
            "{} {}",
            lang.pick("not compared:", "nicht verglichen:"),
            m.text(lang)
        )
        .map_err(Error::Stdout)?;
    }
    writeln!(
        out,
        "{} {}",
        lang.pick("wrote", "geschrieben:"),
        dir.display()
    )
    .map_err(Error::Stdout)?;
    Ok(())
}
