//! What an export folder holds, for `leadcal init`: which file is which table, which system
//! wrote it, how its dates and numbers are written, and which columns are personal.
//!
//! Input: a folder of CSV, Parquet or Excel files. Output: a [`Proposal`] and its
//! `dataset.toml` text, every choice with a comment saying why. Guarantees: nothing is written
//! here; a preset is chosen only when a file has its leads names, and a table only when a file
//! has all of that table's columns; an ambiguous date form is written out for the user to check,
//! never silently assumed.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::personal::is_personal;
use super::presets::{PRESETS, Preset};
use super::scan::header;
use super::table::{Format, Table, TableSpec, format_of};
use crate::error::{Error, Result};

/// One table as `init` proposes it.
#[derive(Debug, Clone)]
pub struct Proposed {
    pub table: Table,
    pub file: String,
    pub format: Format,
    /// Canonical -> the file's column, found by the file's shape (written as [table.columns]).
    pub mapping: Vec<(String, String)>,
    /// A pipeline's stage column and its date; the stages that are not leads; stage names.
    pub pipeline: Option<(String, String)>,
    pub skip_stages: Vec<String>,
    pub stage_names: Vec<(String, String)>,
    /// The one stage of every row (a table of won deals).
    pub fixed_stage: Option<String>,
    /// Why the shape was read so, one sentence each.
    pub shape_notes: Vec<String>,
    /// Lines of a report footer (Salesforce) after the rows.
    pub footer_lines: usize,
    /// Canonical -> the file's column, as the preset gives them (written as comments).
    pub columns: Vec<(String, String)>,
    /// User column -> detected date format (slashed forms), with a note.
    pub date_formats: Vec<(String, String, String)>,
    /// German numbers seen (`1.234,50`) in these columns.
    pub german_numbers: Vec<String>,
    /// Numbers grouped the US way (`1,500,000.00`) in these columns.
    pub us_numbers: Vec<String>,
    /// Columns whose first values are dates written 01.03.2024 (read without a declaration).
    pub dotted: Vec<String>,
    /// What else the preset sets for this table (stage dates, the join key), for the comment.
    pub preset_notes: Vec<String>,
    /// Personal columns, left out.
    pub personal: Vec<String>,
    pub header: Vec<String>,
    /// The CSV file's encoding when it is not UTF-8 (`windows-1252`, `utf-16`).
    pub encoding: Option<&'static str>,
}

impl Proposed {
    /// `file` as `table`, nothing mapped yet; `read` is the spec it is read through.
    fn new(
        table: Table,
        file: String,
        format: &Format,
        read: &TableSpec,
        header: &[String],
        encoding: Option<&'static str>,
    ) -> Proposed {
        Proposed {
            table,
            file,
            format: format.clone(),
            mapping: Vec::new(),
            pipeline: None,
            skip_stages: Vec::new(),
            stage_names: Vec::new(),
            fixed_stage: None,
            shape_notes: Vec::new(),
            footer_lines: read.footer_lines,
            columns: Vec::new(),
            date_formats: Vec::new(),
            german_numbers: Vec::new(),
            us_numbers: Vec::new(),
            dotted: Vec::new(),
            preset_notes: Vec::new(),
            personal: Vec::new(),
            header: header.to_vec(),
            encoding,
        }
    }
}

/// What `init` found in a folder.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub preset: Option<&'static Preset>,
    pub tables: Vec<Proposed>,
    /// Files that were not recognised as any table, with why when the shape says.
    pub unused: Vec<String>,
    pub unused_why: Vec<(String, String)>,
}

impl Proposal {
    /// Where the outcomes come from, or `None` when no source was found.
    pub fn outcome_source(&self) -> Option<String> {
        if let Some(t) = self.tables.iter().find(|t| t.table == Table::Outcomes) {
            return Some(format!("the outcomes table {}", t.file));
        }
        let leads = self.tables.iter().find(|t| t.table == Table::Leads)?;
        if leads.pipeline.is_some() {
            return Some(format!("the pipeline's stages in {}", leads.file));
        }
        let cols = leads.columns.iter().chain(&leads.mapping);
        if let Some((c, u)) = cols
            .into_iter()
            .find(|(c, _)| c == "converted" || c == "converted_at")
        {
            return Some(format!("the column `{u}` of {} ({c})", leads.file));
        }
        let stage_dates = leads.preset_notes.iter().any(|n| n.starts_with("stage `"));
        stage_dates.then(|| format!("the stage date columns of {}", leads.file))
    }
}

const EXTENSIONS: [&str; 7] = ["csv", "tsv", "txt", "parquet", "xlsx", "xlsm", "xls"];

/// The canonical names of each table, as a pseudo-preset: a file that already uses them.
fn canonical(table: Table) -> Vec<(&'static str, &'static str)> {
    table.required().iter().map(|c| (*c, *c)).collect()
}

/// Whether `header` has every canonical column of `names` under one of its names (a preset
/// may give a column two names: an API name and a report label).
fn has_all(header: &[String], names: &[(&str, &str)]) -> bool {
    !names.is_empty()
        && names.iter().all(|(c, _)| {
            names
                .iter()
                .any(|(c2, u)| c2 == c && header.iter().any(|h| h == u))
        })
}

/// How many of a preset's leads names `header` holds: of two files that both have the lead id
/// and creation date (HubSpot's contacts and companies), the leads are the one with more.
fn leads_score(p: &Preset, header: &[String]) -> usize {
    let has = |c: &str| header.iter().any(|h| h == c);
    p.leads.iter().filter(|(_, u)| has(u)).count()
        + p.stage_dates.iter().filter(|(_, u)| has(u)).count()
        + p.ignore.iter().filter(|u| has(u)).count()
}

/// The leads names of `p` a file must have: its `lead_id` and `created_at`.
fn leads_key(p: &Preset) -> Vec<(&'static str, &'static str)> {
    p.leads
        .iter()
        .copied()
        .filter(|(c, _)| matches!(*c, "lead_id" | "created_at"))
        .collect()
}

/// Look at the files of `dir`.
pub fn propose(dir: &Path) -> Result<Proposal> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(Error::read(dir, "cannot list the folder"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    let mut headers = Vec::new();
    let mut decoded = Vec::new();
    for path in &files {
        let format = format_of(path, None, None)?;
        let mut spec = bare(Table::Leads, path, format.clone());
        // A file in another encoding is read through its decoded copy, and the encoding is
        // written into dataset.toml.
        let encoding = match format {
            Format::Csv { .. } => super::encoding::detect(path),
            _ => None,
        };
        spec.encoding = encoding.and_then(super::encoding::by_label);
        super::encoding::prepare(&mut spec)?;
        super::footer::strip(&mut spec)?;
        headers.push((path.clone(), format, header(&spec)));
        decoded.push((spec, encoding));
    }
    // The system: the preset whose leads names a file has, matching the most tables.
    let fits = |p: &Preset| -> usize {
        let leads = headers.iter().any(|(_, _, h)| has_all(h, &leads_key(p)));
        // Marketo's outcomes are in the activity log its events come from.
        if !leads {
            return 0;
        }
        1 + usize::from(headers.iter().any(|(_, _, h)| has_all(h, p.events)))
            + usize::from(headers.iter().any(|(_, _, h)| has_all(h, p.outcomes)))
    };
    let preset = PRESETS
        .iter()
        .map(|p| (fits(p), p))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, _)| *n)
        .map(|(_, p)| p);
    let names = |t: Table| -> Vec<(&'static str, &'static str)> {
        match (t, preset) {
            (Table::Leads, Some(p)) => leads_key(p),
            (Table::Events, Some(p)) if !p.events.is_empty() => p.events.to_vec(),
            (Table::Outcomes, Some(p)) if !p.outcomes.is_empty() => p.outcomes.to_vec(),
            _ => canonical(t),
        }
    };
    let mut tables: Vec<Proposed> = Vec::new();
    let mut unused = Vec::new();
    // The preset's leads: of the files with its lead id and creation date, the one with most
    // of its leads names (HubSpot's companies export has a Record ID and a Create Date too).
    let preset_leads: Option<usize> = preset.and_then(|p| {
        headers
            .iter()
            .enumerate()
            .filter(|(_, (_, _, h))| has_all(h, &leads_key(p)))
            .max_by_key(|(i, (_, _, h))| (leads_score(p, h), std::cmp::Reverse(*i)))
            .map(|(i, _)| i)
    });
    for (i, ((path, format, h), (read, encoding))) in headers.iter().zip(&decoded).enumerate() {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The more specific shapes first: an events table also has an id and a date.
        let table = [Table::Events, Table::Outcomes, Table::Leads]
            .into_iter()
            .find(|t| {
                if *t == Table::Leads && preset_leads.is_some_and(|l| l != i) {
                    return has_all(h, &canonical(*t)) && !tables.iter().any(|p| p.table == *t);
                }
                !tables.iter().any(|p| p.table == *t)
                    && (has_all(h, &names(*t)) || has_all(h, &canonical(*t)))
            });
        let Some(table) = table else {
            unused.push(i);
            continue;
        };
        let mut p = Proposed::new(table, file, format, read, h, *encoding);
        if let Some(pr) = preset {
            let given: &[(&str, &str)] = match table {
                Table::Leads => pr.leads,
                Table::Events => pr.events,
                Table::Outcomes => pr.outcomes,
                Table::Accounts => pr.accounts,
            };
            for (c, u) in given {
                if h.iter().any(|x| x == u) && !p.columns.iter().any(|(c2, _)| c2 == c) {
                    p.columns.push((c.to_string(), u.to_string()));
                }
            }
            let has = |c: &str| h.iter().any(|x| x == c);
            match table {
                Table::Leads => p.preset_notes.extend(
                    pr.stage_dates
                        .iter()
                        .filter(|(_, c)| has(c))
                        .map(|(s, c)| format!("stage `{s}` from {c:?}")),
                ),
                Table::Events => p.preset_notes.extend(
                    pr.events_key
                        .map(|k| format!("the events' lead ids are the leads' {k:?} (lead_key)")),
                ),
                Table::Outcomes | Table::Accounts => {}
            }
        }
        if table == Table::Leads {
            p.personal = h.iter().filter(|c| is_personal(c)).cloned().collect();
        }
        inspect(&mut p, &read.path, preset)?;
        tables.push(p);
    }
    // The files no name matched, by their shape: leads and won deals (Olist), a pipeline
    // (Maven), the companies the leads name.
    let file_name = |i: usize| {
        headers[i]
            .0
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let columns_of = |i: usize| text_columns(&file_name(i), &headers[i].1, &decoded[i].0.path);
    let leads_file = tables
        .iter()
        .find(|t| t.table == Table::Leads)
        .and_then(|t| (0..headers.len()).find(|i| file_name(*i) == t.file));
    let unused_cols: Vec<super::shape::Columns> =
        unused.iter().filter_map(|i| columns_of(*i)).collect();
    let leads_cols = leads_file.and_then(columns_of);
    let roles = super::shape::roles(&unused_cols, leads_cols.as_ref());
    let mut taken: Vec<String> = Vec::new();
    let mut add = |table: Table, file: &str, tables: &mut Vec<Proposed>| -> Result<Option<usize>> {
        let Some(i) = (0..headers.len()).find(|i| file_name(*i) == file) else {
            return Ok(None);
        };
        let (_, format, h) = &headers[i];
        let (read, encoding) = &decoded[i];
        let mut p = Proposed::new(table, file.to_string(), format, read, h, *encoding);
        p.personal = h.iter().filter(|c| is_personal(c)).cloned().collect();
        if table == Table::Accounts
            && let Some(pr) = preset
        {
            p.personal
                .retain(|c| !pr.accounts_ignore.contains(&c.as_str()));
        }
        inspect(&mut p, &read.path, preset)?;
        tables.push(p);
        taken.push(file.to_string());
        Ok(Some(tables.len() - 1))
    };
    if let Some(l) = &roles.leads
        && let Some(k) = add(Table::Leads, &l.file, &mut tables)?
    {
        let p = &mut tables[k];
        p.mapping.push(("lead_id".into(), l.lead_id.clone()));
        p.mapping.push(("created_at".into(), l.created_at.clone()));
        p.pipeline = l.pipeline.clone();
        p.skip_stages = l.skip_stages.clone();
        p.stage_names = l.stage_names.clone().into_iter().collect();
        p.shape_notes = l.notes.clone();
        p.shape_notes.insert(
            0,
            format!(
                "`{}` holds one value per row and `{}` a date: the leads",
                l.lead_id, l.created_at
            ),
        );
    }
    if let Some(o) = &roles.outcomes
        && let Some(k) = add(Table::Outcomes, &o.file, &mut tables)?
    {
        let p = &mut tables[k];
        p.mapping.push(("lead_id".into(), o.lead_id.clone()));
        p.mapping.push(("reached_at".into(), o.reached_at.clone()));
        p.fixed_stage = Some(o.stage.clone());
        p.shape_notes.push(o.note.clone());
    }
    if let Some(a) = &roles.accounts
        && let Some(k) = add(Table::Accounts, &a.file, &mut tables)?
    {
        let p = &mut tables[k];
        let preset_key = p.columns.iter().any(|(c, _)| c == "account_id");
        if !preset_key {
            p.mapping.push(("account_id".into(), a.key.clone()));
        }
        p.shape_notes.push(a.note.clone());
        // The leads' side of the join, when no preset named it.
        if let Some(lp) = tables.iter_mut().find(|t| t.table == Table::Leads)
            && !lp
                .columns
                .iter()
                .chain(&lp.mapping)
                .any(|(c, _)| c == "account_id")
        {
            lp.mapping
                .push(("account_id".into(), a.leads_column.clone()));
        }
    }
    // Marketo: the stage changes are in the activity log the events come from.
    if let Some(pr) = preset
        && let Some((type_column, types, key)) = pr.outcome_activity
        && !tables.iter().any(|t| t.table == Table::Outcomes)
        && let Some(ev) = tables.iter().find(|t| t.table == Table::Events).cloned()
        && let Some(i) = (0..headers.len()).find(|i| file_name(*i) == ev.file)
        && columns_of(i).is_some_and(|c| {
            c.names
                .iter()
                .position(|n| n == type_column)
                .is_some_and(|k| {
                    c.values[k]
                        .iter()
                        .flatten()
                        .any(|v| types.contains(&v.trim()))
                })
        })
    {
        // The new stages, by name: `Won` is the sale the default --target names.
        let stages: std::collections::BTreeSet<String> = columns_of(i)
            .and_then(|c| {
                let at = |n: &str| c.names.iter().position(|x| x == n);
                let (t, a) = (at(type_column)?, at("attributes")?);
                Some(
                    c.values[t]
                        .iter()
                        .zip(&c.values[a])
                        .filter(|(t, _)| t.as_deref().is_some_and(|t| types.contains(&t)))
                        .filter_map(|(_, a)| super::activity::new_stage(a.as_deref()?, key))
                        .collect(),
                )
            })
            .unwrap_or_default();
        let mut p = ev.clone();
        p.table = Table::Outcomes;
        p.stage_names = stages
            .into_iter()
            .map(|v| {
                let n = v.to_lowercase().replace(' ', "_");
                (v, n)
            })
            .collect();
        p.columns = pr
            .outcomes
            .iter()
            .map(|(c, u)| (c.to_string(), u.to_string()))
            .collect();
        p.preset_notes = vec![format!(
            "the stage changes in the activity log: rows of {type_column} {} (\"Change Status in Progression\"), the new stage from the attributes' \"New Status\"",
            types.join(", ")
        )];
        p.date_formats.clear();
        tables.push(p);
    }
    let unused: Vec<String> = unused
        .iter()
        .map(|i| file_name(*i))
        .filter(|f| !taken.contains(f))
        .collect();
    let unused_why = roles.lookups.clone();
    tables.sort_by_key(|t| t.table);
    if !tables.iter().any(|t| t.table == Table::Leads) {
        return Err(Error::Input {
            path: dir.to_path_buf(),
            message: format!(
                "no file looks like a leads table (a lead id and a creation date: `lead_id` and `created_at`, or a HubSpot, Salesforce, Marketo, Account Engagement or Mautic export); files seen: {}",
                if headers.is_empty() {
                    "none".to_string()
                } else {
                    headers
                        .iter()
                        .map(|(p, _, _)| {
                            p.file_name()
                                .unwrap_or_default()
                                .to_string_lossy()
                                .into_owned()
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        });
    }
    Ok(Proposal {
        preset,
        tables,
        unused,
        unused_why,
    })
}

/// Every value of every column of a file, as text.
fn text_columns(file: &str, format: &Format, path: &Path) -> Option<super::shape::Columns> {
    let df = read_text(format, path, None)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let values = df
        .columns()
        .iter()
        .map(|c| {
            let s = c.cast(&DataType::String).ok()?;
            Some(
                s.str()
                    .ok()?
                    .iter()
                    .map(|v| {
                        v.map(str::trim)
                            .filter(|v| !v.is_empty())
                            .map(str::to_string)
                    })
                    .collect(),
            )
        })
        .collect::<Option<Vec<_>>>()?;
    Some(super::shape::Columns {
        file: file.to_string(),
        names,
        values,
    })
}

fn bare(table: Table, path: &Path, format: Format) -> TableSpec {
    TableSpec::bare(table, path.to_path_buf(), format)
}

/// The first values of every column of the file, as text.
fn sample(p: &Proposed, path: &Path) -> Option<DataFrame> {
    read_text(&p.format, path, Some(2_000))
}

/// The file's rows (the first `limit`), every column as text.
fn read_text(format: &Format, path: &Path, limit: Option<u32>) -> Option<DataFrame> {
    let lf = match format {
        Format::Csv { .. } => {
            let s = super::sniff::sniff(path, None).ok()?;
            LazyCsvReader::new(PlRefPath::from(path.to_str()?))
                .with_separator(s.delimiter)
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .finish()
                .ok()?
        }
        Format::Parquet => {
            LazyFrame::scan_parquet(PlRefPath::from(path.to_str()?), ScanArgsParquet::default())
                .ok()?
        }
        Format::Xlsx { sheet } => super::xlsx::read(path, sheet).ok()?.frame.lazy(),
    };
    match limit {
        Some(n) => lf.limit(n).collect().ok(),
        None => lf.collect().ok(),
    }
}

/// Dates with slashes and German numbers in the file's first values.
fn inspect(p: &mut Proposed, path: &Path, _preset: Option<&Preset>) -> Result<()> {
    let Some(df) = sample(p, path) else {
        return Ok(());
    };
    for c in df.columns() {
        let Ok(s) = c.cast(&DataType::String) else {
            continue;
        };
        let Ok(s) = s.str() else { continue };
        let values: Vec<&str> = s
            .iter()
            .flatten()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            continue;
        }
        let name = c.name().to_string();
        if let Some((format, note)) = slashed_format(&values) {
            p.date_formats.push((name.clone(), format, note));
        } else if values.iter().all(|v| crate::timeparse::looks_dotted(v)) {
            p.dotted.push(name);
        } else if values.iter().all(|v| german_number(v))
            && values.iter().any(|v| unambiguous(v, ',', '.'))
        {
            p.german_numbers.push(name);
        } else if values.iter().all(|v| us_number(v))
            && values.iter().any(|v| unambiguous(v, '.', ','))
        {
            p.us_numbers.push(name);
        }
    }
    // `1,200` reads either way: a table is German only when no column is surely US-written.
    if !p.us_numbers.is_empty() {
        p.german_numbers.clear();
    }
    Ok(())
}

/// A number that can only be written with `decimal` as its decimal mark and `group` as its
/// thousands mark: both marks, the group first (`1.500.000,00`), or a decimal part that is not
/// three digits (`980,00`, `3,5`).
fn unambiguous(v: &str, decimal: char, group: char) -> bool {
    let Some(at) = v.rfind(decimal) else {
        return false;
    };
    let after = &v[at + 1..];
    v[..at].contains(group) || (after.len() != 3 && after.bytes().all(|b| b.is_ascii_digit()))
}

/// `1,500,000.00`, `1,200`: a number written with US grouping.
fn us_number(v: &str) -> bool {
    let us = super::table::NumberFormat {
        decimal: '.',
        thousands: Some(','),
    };
    us.normalise(v).is_some_and(|n| n.parse::<f64>().is_ok())
}

/// `1.234,50`, `980,00`, `-2.500`: a number only a German reader takes as such.
fn german_number(v: &str) -> bool {
    let de = super::table::NumberFormat {
        decimal: ',',
        thousands: Some('.'),
    };
    de.normalise(v).is_some_and(|n| n.parse::<f64>().is_ok())
}

/// For values written `03/04/2024` (optionally with a time): the format, and how sure it is.
fn slashed_format(values: &[&str]) -> Option<(String, String)> {
    let parts: Vec<(u32, u32, &str)> = values
        .iter()
        .filter_map(|v| {
            let (date, time) = v.split_once(' ').unwrap_or((v, ""));
            let mut it = date.split('/');
            let (a, b, y) = (it.next()?, it.next()?, it.next()?);
            (y.len() == 4 && it.next().is_none()).then_some(())?;
            Some((a.parse().ok()?, b.parse().ok()?, time))
        })
        .collect();
    if parts.len() != values.len() {
        return None;
    }
    let time = match parts
        .iter()
        .map(|p| p.2.matches(':').count())
        .max()
        .unwrap_or(0)
    {
        0 => "",
        1 => " %H:%M",
        _ => " %H:%M:%S",
    };
    let (day_first, month_first) = (
        parts.iter().any(|p| p.0 > 12),
        parts.iter().any(|p| p.1 > 12),
    );
    Some(match (day_first, month_first) {
        (true, false) => (
            format!("%d/%m/%Y{time}"),
            "day first: a first number above 12 was seen".into(),
        ),
        (false, true) => (
            format!("%m/%d/%Y{time}"),
            "month first: a second number above 12 was seen".into(),
        ),
        _ => (
            format!("%m/%d/%Y{time}"),
            "CHECK: the values seen fit both month/day and day/month; month first is assumed (US exports)".into(),
        ),
    })
}

impl Proposal {
    /// The `dataset.toml` text, each choice with its reason.
    pub fn to_toml(&self) -> String {
        let mut s = String::from(
            "# Written by `leadcal init`. Every choice below says why; check the lines marked CHECK.\n# Keys: README \"Mapping a CRM export\"; presets: docs/crm-exports.md.\n\n",
        );
        if let Some(p) = self.preset {
            s.push_str(&format!(
                "# The headers are {}'s: its column names are the defaults.\npreset = \"{}\"\n\n",
                p.name, p.name
            ));
        }
        if self.outcome_source().is_none() {
            s.push_str("# NO OUTCOME SOURCE FOUND: no outcomes table, no converted column, no stage dates.\n# leadcal needs to know which leads bought: add an [outcomes] table (a file with the lead id,\n# the stage and its date; or won deals with `stage = \"won\"`), or map a converted column in\n# [leads.columns] (see docs/crm-exports.md).\n\n");
        }
        for t in &self.tables {
            for n in &t.shape_notes {
                s.push_str(&format!("# {n}.\n"));
            }
            s.push_str(&format!("[{}]\nfile = {:?}\n", t.table.name(), t.file));
            if t.footer_lines > 0 {
                s.push_str(&format!(
                    "# The file ends with a {}-line report footer (Salesforce); it is skipped and counted.\n",
                    t.footer_lines
                ));
            }
            if let Some(stage) = &t.fixed_stage {
                s.push_str(&format!("stage = {stage:?}\n"));
            }
            if let Some((stage, at)) = &t.pipeline {
                s.push_str(&format!("stage_column = {stage:?}\nstage_date = {at:?}\n"));
            }
            if let Some(e) = t.encoding {
                s.push_str(&format!(
                    "# The file is not UTF-8: its bytes are {e} text{}.\nencoding = {e:?}\n",
                    if e == "windows-1252" {
                        " (what Excel writes for \"CSV (Trennzeichen-getrennt)\")"
                    } else {
                        " (what Excel writes for \"Unicode text\")"
                    }
                ));
            }
            if let Format::Xlsx { sheet } = &t.format {
                s.push_str(&format!(
                    "sheet = {sheet:?}  # the workbook's first sheet\n"
                ));
            }
            if !t.german_numbers.is_empty() {
                s.push_str(&format!(
                    "# Numbers written 1.234,50 in: {}.\ndecimal = \",\"\nthousands = \".\"\n",
                    t.german_numbers.join(", ")
                ));
            }
            if !t.us_numbers.is_empty() {
                s.push_str(&format!(
                    "# Numbers written 1,500,000.00 in: {}.\nthousands = \",\"\n",
                    t.us_numbers.join(", ")
                ));
            }
            if !t.dotted.is_empty() {
                s.push_str(&format!(
                    "# Dates written 01.03.2024 in: {}; read as day.month.year without a declaration.\n",
                    t.dotted.join(", ")
                ));
            }
            if !t.personal.is_empty() {
                s.push_str(&format!(
                    "# Personal data (by name): never read as attributes, never in an output.\nignore_columns = {:?}\n",
                    t.personal
                ));
            }
            if !t.mapping.is_empty() {
                s.push_str(&format!("\n[{}.columns]\n", t.table.name()));
                for (c, u) in &t.mapping {
                    s.push_str(&format!("{c} = {u:?}\n"));
                }
            }
            if !t.skip_stages.is_empty() {
                s.push_str(&format!(
                    "\n[{}.rows]\nskip_stages = {:?}\n",
                    t.table.name(),
                    t.skip_stages
                ));
            }
            if !t.stage_names.is_empty() {
                let sale = t.stage_names.iter().any(|(_, n)| n == "won");
                s.push_str(&format!(
                    "\n# The stages by name{}.\n[{}.codes.stage]\n",
                    if sale {
                        "; `won` is the sale (--target won)"
                    } else {
                        "; CHECK which one is the sale and give it with --target"
                    },
                    t.table.name()
                ));
                for (v, n) in &t.stage_names {
                    s.push_str(&format!("{v:?} = {n:?}\n"));
                }
            }
            if !t.date_formats.is_empty() {
                s.push_str(&format!("\n[{}.date_formats]\n", t.table.name()));
                for (c, f, note) in &t.date_formats {
                    s.push_str(&format!("{c:?} = {f:?}  # {note}\n"));
                }
            }
            if !t.columns.is_empty() {
                s.push_str(&format!(
                    "# The preset maps: {}. To change one: [{}.columns] canonical = \"your column\".\n",
                    t.columns
                        .iter()
                        .map(|(c, u)| format!("{c} = {u:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    t.table.name()
                ));
            }
            if !t.preset_notes.is_empty() {
                s.push_str(&format!(
                    "# The preset also reads: {}.\n",
                    t.preset_notes.join("; ")
                ));
            }
            s.push('\n');
        }
        for f in &self.unused {
            match self.unused_why.iter().find(|(u, _)| u == f) {
                Some((_, why)) => s.push_str(&format!("# {f}: {why}.\n")),
                None => s.push_str(&format!(
                    "# {f}: not recognised as leads, events, outcomes or companies; map it by hand if it is one.\n"
                )),
            }
        }
        s
    }
}
