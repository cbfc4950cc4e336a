//! The types that describe one table of a dataset: which of the contract's tables it is
//! ([`Table`]), its file format ([`Format`]), its file, column mapping and value forms
//! ([`TableSpec`]), and how its numbers are written ([`NumberFormat`]).
//!
//! Input: none (plain types) and, for [`format_of`], a file path. Every reader in `data/`
//! imports these types from here, never from `spec` (which builds them from a dataset.toml).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The three tables of the data contract, and the companies (accounts) whose columns become
/// the attributes of their leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Table {
    Leads,
    Events,
    Outcomes,
    Accounts,
}

impl Table {
    pub const ALL: [Table; 4] = [
        Table::Leads,
        Table::Events,
        Table::Outcomes,
        Table::Accounts,
    ];

    pub fn name_str(&self) -> &'static str {
        self.name()
    }

    pub fn name(self) -> &'static str {
        match self {
            Table::Leads => "leads",
            Table::Events => "events",
            Table::Outcomes => "outcomes",
            Table::Accounts => "accounts",
        }
    }

    /// Canonical columns that must be present.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Table::Leads => &["lead_id", "created_at"],
            Table::Events => &["lead_id", "occurred_at", "event_type"],
            Table::Outcomes => &["lead_id", "stage", "reached_at"],
            Table::Accounts => &["account_id"],
        }
    }

    /// Canonical columns that may be present.
    pub fn optional(self) -> &'static [&'static str] {
        match self {
            Table::Leads => &["account_id", "converted", "converted_at"],
            Table::Events => &["topic", "asset_id", "channel", "value"],
            Table::Outcomes => &["amount"],
            Table::Accounts => &[],
        }
    }
}

/// File format, decided by the extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// `delimiter: None` means auto-detect from the header line.
    Csv {
        delimiter: Option<u8>,
    },
    Parquet,
    /// One sheet of an Excel workbook (`.xlsx`, `.xlsm`, `.xls`).
    Xlsx {
        sheet: String,
    },
}

/// A decoded UTF-8 copy of a table's file (see `encoding`), deleted when the last spec that
/// reads it is dropped.
#[derive(Debug)]
pub struct Decoded {
    pub(super) _file: tempfile::TempPath,
}

/// One table's file and column mapping.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub table: Table,
    /// The file leadcal reads: the user's, or a decoded UTF-8 copy of it (see `encoding`).
    pub path: PathBuf,
    /// The user's file, as every message names it.
    pub shown: PathBuf,
    /// The declared text encoding of a CSV file (`None`: UTF-8, or UTF-16 by its mark).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// The decoded copy `path` names, kept as long as the spec is.
    pub decoded: Option<std::sync::Arc<Decoded>>,
    pub format: Format,
    /// canonical name -> the user's column name. Canonical columns not listed keep their name.
    pub columns: BTreeMap<String, String>,
    /// Strings that mean "missing", besides the empty field.
    pub null_values: Vec<String>,
    /// User columns that are not attributes (names, e-mails, free text).
    pub ignore_columns: Vec<String>,
    /// Leads only: attributes known before a lead buys, used even where the leak guard would
    /// leave them out (a `Status` that is set at creation).
    pub deliberate_attributes: Vec<String>,
    /// Leads only: one date column per stage (HubSpot's "Became a Customer Date"); a
    /// non-empty date means the lead reached that stage then. Pairs of (stage, user column).
    pub stage_dates: Vec<(String, String)>,
    /// Outcomes only: the stage of every row of a table without a stage column (a table of
    /// won deals).
    pub fixed_stage: Option<String>,
    /// How dates are written: the table's format, and per user column (overriding it).
    pub date_format: Option<String>,
    pub date_formats: BTreeMap<String, String>,
    /// How numbers are written: the table's form, and per user column (overriding it).
    pub number_format: Option<NumberFormat>,
    pub number_formats: BTreeMap<String, NumberFormat>,
    /// Codes to names of a coded column (Marketo's activity type ids, Account Engagement's
    /// stage ids), by canonical column: `event_type` (events) or `stage` (outcomes).
    pub codes: BTreeMap<String, BTreeMap<String, String>>,
    /// Events only: the leads column (its name in the leads file) that the events' `lead_id`
    /// column holds instead of the lead id, such as the e-mail address; used for the join only.
    pub lead_key: Option<String>,
    /// Leads only: a pipeline table that is its own outcomes. Each row reaches the stage its
    /// `stage_column` names at the date in `stage_date`; a row with no date has not reached it.
    pub pipeline: Option<Pipeline>,
    /// Leads only: which rows are leads (the others are counted and left out).
    pub rows: LeadRows,
    /// Outcomes only: stage changes read from an activity log (Marketo's bulk export).
    pub activity: Option<Activity>,
    /// Lines of a report footer after the rows (Salesforce), skipped (see `footer`).
    pub footer_lines: usize,
}

/// The stage column and its date column of a pipeline table (user column names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub stage_column: String,
    pub stage_date: String,
}

/// Which rows of the leads table are leads. By default every row is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadRows {
    /// Values of the pipeline's stage column whose rows are not leads (`Prospecting`).
    pub skip_stages: Vec<String>,
    /// Rows with no creation date are not leads (otherwise they are errors).
    pub skip_undated: bool,
}

impl LeadRows {
    pub fn filters(&self) -> bool {
        !self.skip_stages.is_empty() || self.skip_undated
    }
}

/// Outcomes as rows of an activity log: the rows whose `type_column` holds one of `types` (and,
/// with `fields`, whose field column names one of them) are stage changes; the new stage is the `stage_key` of the JSON in `attributes_column`, or the
/// outcomes' `stage` column when no key is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub type_column: String,
    pub types: Vec<String>,
    pub attributes_column: String,
    pub stage_key: Option<String>,
    /// Only rows whose column (Marketo's `primaryAttributeValue`) names one of these fields
    /// ("Change Data Value" changes any field; only `Lead Status` is a stage).
    pub fields: Option<(String, Vec<String>)>,
}

/// How a number is written: its decimal mark, and the mark that groups thousands, if any
/// (`1.234,50`: decimal `,`, thousands `.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    pub decimal: char,
    pub thousands: Option<char>,
}

impl NumberFormat {
    /// `text` as Rust reads a number: grouping marks removed, the decimal mark a point.
    /// `None` when the text is not written this way: a grouping mark after the decimal mark,
    /// or groups that are not of three digits (`1.5` is no German number).
    pub fn normalise(&self, text: &str) -> Option<String> {
        let t = text.trim();
        let (int, frac) = match t.split_once(self.decimal) {
            Some((i, f)) => (i, Some(f)),
            None => (t, None),
        };
        if let Some(f) = frac
            && (f.contains(self.decimal) || self.thousands.is_some_and(|m| f.contains(m)))
        {
            return None;
        }
        let mut out = String::with_capacity(t.len());
        match self.thousands {
            Some(m) if int.contains(m) => {
                let unsigned = int.trim_start_matches(['-', '+']);
                let mut groups = unsigned.split(m);
                let first = groups.next().unwrap_or_default();
                let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
                if first.is_empty() || first.len() > 3 || !digits(first) {
                    return None;
                }
                out.push_str(&int[..int.len() - unsigned.len()]);
                out.push_str(first);
                for g in groups {
                    if g.len() != 3 || !digits(g) {
                        return None;
                    }
                    out.push_str(g);
                }
            }
            _ => out.push_str(int),
        }
        if let Some(f) = frac {
            out.push('.');
            out.push_str(f);
        }
        Some(out)
    }
}

impl TableSpec {
    /// A table with no mapping: every column keeps its canonical name.
    pub fn bare(table: Table, path: PathBuf, format: Format) -> TableSpec {
        TableSpec {
            table,
            shown: path.clone(),
            encoding: None,
            decoded: None,
            path,
            format,
            columns: BTreeMap::new(),
            null_values: Vec::new(),
            ignore_columns: Vec::new(),
            deliberate_attributes: Vec::new(),
            stage_dates: Vec::new(),
            fixed_stage: None,
            date_format: None,
            date_formats: BTreeMap::new(),
            number_format: None,
            number_formats: BTreeMap::new(),
            codes: BTreeMap::new(),
            lead_key: None,
            pipeline: None,
            rows: LeadRows::default(),
            activity: None,
            footer_lines: 0,
        }
    }

    /// The user's name for a canonical column.
    pub fn user_name<'a>(&'a self, canonical: &'a str) -> &'a str {
        self.columns
            .get(canonical)
            .map(String::as_str)
            .unwrap_or(canonical)
    }

    /// The file name as messages show it.
    pub fn display(&self) -> String {
        self.shown.display().to_string()
    }

    /// The declared date format of the user column `column`, if any.
    pub fn date_format_of(&self, column: &str) -> Option<&str> {
        self.date_formats
            .get(column)
            .or(self.date_format.as_ref())
            .map(String::as_str)
    }

    /// The declared number format of the user column `column`, if any.
    pub fn number_format_of(&self, column: &str) -> Option<NumberFormat> {
        self.number_formats
            .get(column)
            .copied()
            .or(self.number_format)
    }

    /// Canonical columns the file must hold: the table's, less `stage` when every row has a
    /// fixed stage.
    pub fn required(&self) -> Vec<&'static str> {
        let stage_elsewhere = self.fixed_stage.is_some()
            || self
                .activity
                .as_ref()
                .is_some_and(|a| a.stage_key.is_some());
        self.table
            .required()
            .iter()
            .copied()
            .filter(|c| !(*c == "stage" && stage_elsewhere))
            .collect()
    }
}

pub fn format_of(path: &Path, delimiter: Option<u8>, sheet: Option<&str>) -> Result<Format> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") | Some("tsv") | Some("txt") => Ok(Format::Csv { delimiter }),
        Some("parquet") | Some("pq") => Ok(Format::Parquet),
        // A missing file is reported when the table is read.
        Some("xlsx") | Some("xlsm") | Some("xls") if !path.is_file() => Ok(Format::Xlsx {
            sheet: sheet.unwrap_or_default().to_string(),
        }),
        Some("xlsx") | Some("xlsm") | Some("xls") => Ok(Format::Xlsx {
            sheet: super::xlsx::sheet_name(path, sheet)?,
        }),
        _ => Err(Error::Input {
            path: path.to_path_buf(),
            message: "unknown file type; expected a .csv, .parquet or .xlsx extension".into(),
        }),
    }
}
