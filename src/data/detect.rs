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
    /// Canonical -> the file's column, as the preset gives them (written as comments).
    pub columns: Vec<(String, String)>,
    /// User column -> detected date format (slashed forms), with a note.
    pub date_formats: Vec<(String, String, String)>,
    /// German numbers seen (`1.234,50`) in these columns.
    pub german_numbers: Vec<String>,
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

/// What `init` found in a folder.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub preset: Option<&'static Preset>,
    pub tables: Vec<Proposed>,
    /// Files that were not recognised as any table.
    pub unused: Vec<String>,
}

const EXTENSIONS: [&str; 7] = ["csv", "tsv", "txt", "parquet", "xlsx", "xlsm", "xls"];

/// The canonical names of each table, as a pseudo-preset: a file that already uses them.
fn canonical(table: Table) -> Vec<(&'static str, &'static str)> {
    table.required().iter().map(|c| (*c, *c)).collect()
}

fn has_all(header: &[String], names: &[(&str, &str)]) -> bool {
    !names.is_empty() && names.iter().all(|(_, u)| header.iter().any(|h| h == u))
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
        headers.push((path.clone(), format, header(&spec)));
        decoded.push((spec, encoding));
    }
    // The system: the preset whose leads names a file has, matching the most tables.
    let fits = |p: &Preset| -> usize {
        let leads = headers.iter().any(|(_, _, h)| has_all(h, &leads_key(p)));
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
    for ((path, format, h), (read, encoding)) in headers.iter().zip(&decoded) {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The more specific shapes first: an events table also has an id and a date.
        let table = [Table::Events, Table::Outcomes, Table::Leads]
            .into_iter()
            .find(|t| {
                !tables.iter().any(|p| p.table == *t)
                    && (has_all(h, &names(*t)) || has_all(h, &canonical(*t)))
            });
        let Some(table) = table else {
            unused.push(file);
            continue;
        };
        let mut p = Proposed {
            table,
            file,
            format: format.clone(),
            columns: Vec::new(),
            date_formats: Vec::new(),
            german_numbers: Vec::new(),
            dotted: Vec::new(),
            preset_notes: Vec::new(),
            personal: Vec::new(),
            header: h.clone(),
            encoding: *encoding,
        };
        if let Some(pr) = preset {
            let given: &[(&str, &str)] = match table {
                Table::Leads => pr.leads,
                Table::Events => pr.events,
                Table::Outcomes => pr.outcomes,
            };
            p.columns = given
                .iter()
                .filter(|(_, u)| h.iter().any(|x| x == u))
                .map(|(c, u)| (c.to_string(), u.to_string()))
                .collect();
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
                Table::Outcomes => {}
            }
        }
        if table == Table::Leads {
            p.personal = h.iter().filter(|c| is_personal(c)).cloned().collect();
        }
        inspect(&mut p, &read.path, preset)?;
        tables.push(p);
    }
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
    })
}

fn bare(table: Table, path: &Path, format: Format) -> TableSpec {
    TableSpec {
        table,
        path: path.to_path_buf(),
        shown: path.to_path_buf(),
        encoding: None,
        decoded: None,
        format,
        columns: Default::default(),
        null_values: Vec::new(),
        ignore_columns: Vec::new(),
        deliberate_attributes: Vec::new(),
        stage_dates: Vec::new(),
        fixed_stage: None,
        date_format: None,
        date_formats: Default::default(),
        number_format: None,
        number_formats: Default::default(),
        codes: Default::default(),
        lead_key: None,
    }
}

/// The first values of every column of the file, as text.
fn sample(p: &Proposed, path: &Path) -> Option<DataFrame> {
    let lf = match &p.format {
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
    lf.limit(2_000).collect().ok()
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
        } else if values.iter().all(|v| german_number(v)) && values.iter().any(|v| v.contains(','))
        {
            p.german_numbers.push(name);
        }
    }
    Ok(())
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
        for t in &self.tables {
            s.push_str(&format!("[{}]\nfile = {:?}\n", t.table.name(), t.file));
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
            s.push_str(&format!(
                "# {f}: not recognised as leads, events or outcomes; map it by hand if it is one.\n"
            ));
        }
        s
    }
}
