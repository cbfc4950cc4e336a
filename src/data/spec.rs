//! Where a dataset's tables are and what their columns are called.
//!
//! Input: a folder (holding `leads`, `events`, `outcomes` as `.csv` or `.parquet`, or a
//! `dataset.toml`) or the path of a `dataset.toml`. Output: a checked [`DatasetSpec`] that names
//! every file and maps the user's column names onto the canonical ones of DATA-CONTRACT.md.
//! The raw TOML structs reject unknown keys (with the line they stand on); the rest of the crate
//! only sees the checked types.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::table::{
    Activity, Format, LeadRows, NumberFormat, Pipeline, Table, TableSpec, format_of,
};
use crate::error::{Error, Result};

/// A checked dataset description.
#[derive(Debug, Clone)]
pub struct DatasetSpec {
    /// What the user pointed at (folder or dataset.toml).
    pub origin: PathBuf,
    pub leads: TableSpec,
    pub events: Option<TableSpec>,
    pub outcomes: Option<TableSpec>,
    /// The companies whose columns become their leads' attributes.
    pub accounts: Option<TableSpec>,
    /// The system whose export names are the defaults, applied by [`resolve`].
    pub preset: Option<&'static super::presets::Preset>,
    /// Display names for the report: raw column name, value or event type → label.
    pub labels: BTreeMap<String, String>,
}

impl DatasetSpec {
    pub fn tables(&self) -> impl Iterator<Item = &TableSpec> {
        std::iter::once(&self.leads)
            .chain(self.events.as_ref())
            .chain(self.outcomes.as_ref())
            .chain(self.accounts.as_ref())
    }

    fn tables_mut(&mut self) -> impl Iterator<Item = &mut TableSpec> {
        std::iter::once(&mut self.leads)
            .chain(self.events.as_mut())
            .chain(self.outcomes.as_mut())
            .chain(self.accounts.as_mut())
    }
}

// ---- raw dataset.toml ---------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    /// A system whose export names are the defaults (`hubspot`, `salesforce`, ...).
    preset: Option<String>,
    null_values: Option<Vec<String>>,
    leads: Option<RawTable<RawLeadColumns>>,
    events: Option<RawTable<RawEventColumns>>,
    outcomes: Option<RawTable<RawOutcomeColumns>>,
    accounts: Option<RawTable<RawAccountColumns>>,
    /// Display names for the report (`job_level = "Position"`, `trade_show = "Messe"`).
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable<C> {
    file: Option<String>,
    delimiter: Option<String>,
    null_values: Option<Vec<String>>,
    ignore_columns: Option<Vec<String>>,
    /// CSV only: the file's text encoding (`windows-1252`, `latin-1`, `utf-16`).
    encoding: Option<String>,
    /// Leads only: attributes the leak guard must not leave out.
    deliberate_attributes: Option<Vec<String>>,
    columns: Option<C>,
    /// Leads only: stage name -> the date column that says when it was reached.
    stage_dates: Option<BTreeMap<String, String>>,
    /// Codes to names, per canonical column (`[events.codes.event_type] "2" = "form_fill"`).
    codes: Option<BTreeMap<String, BTreeMap<String, String>>>,
    /// Events only: the leads column their `lead_id` column holds (an e-mail address).
    lead_key: Option<String>,
    /// Outcomes only: the stage of every row.
    stage: Option<String>,
    /// Excel workbooks: the sheet to read (default: the first).
    sheet: Option<String>,
    /// strftime format of every date column (`%d.%m.%Y`), and per column.
    date_format: Option<String>,
    date_formats: Option<BTreeMap<String, String>>,
    /// Decimal and thousands marks of every numeric column, and per column.
    decimal: Option<String>,
    thousands: Option<String>,
    number_formats: Option<BTreeMap<String, RawNumberFormat>>,
    /// Leads only: a pipeline table's stage column and the date it was reached.
    stage_column: Option<String>,
    stage_date: Option<String>,
    /// Leads only: which rows are leads.
    rows: Option<RawLeadRows>,
    /// Outcomes only: stage changes in an activity log.
    activity: Option<RawActivity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLeadRows {
    skip_stages: Option<Vec<String>>,
    skip_undated: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActivity {
    type_column: String,
    types: Vec<String>,
    attributes_column: Option<String>,
    stage_key: Option<String>,
    field_column: Option<String>,
    fields: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNumberFormat {
    decimal: Option<String>,
    thousands: Option<String>,
}

/// A checked strftime date or date-time format: it must name a year, a month and a day.
fn check_date_format(f: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    let items: Vec<Item> = StrftimeItems::new(f).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(format!(
            "`{f}` is not a strftime format (such as \"%d.%m.%Y\" or \"%m/%d/%Y %H:%M\")"
        ));
    }
    let has = |spec: &[&str]| spec.iter().any(|s| f.contains(s));
    if !(has(&["%Y", "%y"]) && has(&["%m", "%b", "%B"]) && has(&["%d", "%e"])) {
        return Err(format!(
            "`{f}` does not name a year, a month and a day (%Y, %m, %d)"
        ));
    }
    Ok(())
}

fn mark(what: &str, v: &str, allowed: &[&str]) -> Result<Option<char>, String> {
    if v.is_empty() && allowed.contains(&"") {
        return Ok(None);
    }
    match (allowed.contains(&v), v.chars().next()) {
        (true, Some(c)) => Ok(Some(c)),
        _ => Err(format!(
            "{what} = {v:?}: expected one of {}",
            allowed
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn parse_number_format(
    decimal: Option<&str>,
    thousands: Option<&str>,
) -> Result<Option<NumberFormat>, String> {
    if decimal.is_none() && thousands.is_none() {
        return Ok(None);
    }
    let decimal = mark("decimal", decimal.unwrap_or("."), &[".", ","])?.unwrap_or('.');
    let thousands = mark(
        "thousands",
        thousands.unwrap_or(""),
        &["", ".", ",", " ", "'", "\u{a0}"],
    )?;
    if thousands == Some(decimal) {
        return Err(format!("decimal and thousands are both {decimal:?}"));
    }
    Ok(Some(NumberFormat { decimal, thousands }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLeadColumns {
    lead_id: Option<String>,
    created_at: Option<String>,
    account_id: Option<String>,
    converted: Option<String>,
    converted_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEventColumns {
    lead_id: Option<String>,
    occurred_at: Option<String>,
    event_type: Option<String>,
    topic: Option<String>,
    asset_id: Option<String>,
    channel: Option<String>,
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccountColumns {
    account_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutcomeColumns {
    lead_id: Option<String>,
    stage: Option<String>,
    reached_at: Option<String>,
    amount: Option<String>,
}

fn collect_map(pairs: &[(&str, &Option<String>)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v.clone())))
        .collect()
}

impl RawLeadColumns {
    fn map(&self) -> BTreeMap<String, String> {
        collect_map(&[
            ("lead_id", &self.lead_id),
            ("created_at", &self.created_at),
            ("account_id", &self.account_id),
            ("converted", &self.converted),
            ("converted_at", &self.converted_at),
        ])
    }
}
impl RawEventColumns {
    fn map(&self) -> BTreeMap<String, String> {
        collect_map(&[
            ("lead_id", &self.lead_id),
            ("occurred_at", &self.occurred_at),
            ("event_type", &self.event_type),
            ("topic", &self.topic),
            ("asset_id", &self.asset_id),
            ("channel", &self.channel),
            ("value", &self.value),
        ])
    }
}
impl RawAccountColumns {
    fn map(&self) -> BTreeMap<String, String> {
        collect_map(&[("account_id", &self.account_id)])
    }
}
impl RawOutcomeColumns {
    fn map(&self) -> BTreeMap<String, String> {
        collect_map(&[
            ("lead_id", &self.lead_id),
            ("stage", &self.stage),
            ("reached_at", &self.reached_at),
            ("amount", &self.amount),
        ])
    }
}

// ---- resolution ---------------------------------------------------------------------------

/// Turn what the user pointed at into a checked spec; CSV files in another encoding than
/// UTF-8 are decoded (see [`super::encoding`]).
pub fn resolve(path: &Path) -> Result<DatasetSpec> {
    let mut spec = resolve_names(path)?;
    for t in spec.tables_mut() {
        super::encoding::prepare(t)?;
        super::footer::strip(t)?;
    }
    // The preset's names are matched against the header as decoded (a UTF-16 report's
    // labels), so after the decoding.
    if let Some(p) = spec.preset {
        let has_outcomes = spec.outcomes.is_some() || spec.leads.pipeline.is_some();
        for t in spec.tables_mut() {
            let header = super::scan::header(t);
            super::presets::apply(p, t, &header, has_outcomes);
        }
    }
    Ok(spec)
}

/// The dataset the commands read when none is named: the demo inside leadcal's repository.
pub const DEMO_DATA: &str = "notebooks-data/demo";

/// That `path` exists; when it is the demo default and missing (leadcal run outside its
/// repository without --data), says that no dataset was given and how to give one.
pub fn check_exists(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let message = if path == Path::new(DEMO_DATA) {
        // Run inside an export folder: say the one flag that reads it.
        let here = if Path::new("dataset.toml").is_file() {
            "; this folder has a dataset.toml: --data ."
        } else {
            ""
        };
        format!(
            "no dataset was given, and the demo dataset ({DEMO_DATA}, inside leadcal's repository) is not in this folder: name your export folder or its dataset.toml with --data DIR (validate takes it as its argument); `leadcal init DIR` writes a dataset.toml for an export folder{here}"
        )
    } else {
        "no such file or folder; expected a dataset folder or a dataset.toml".into()
    };
    Err(Error::Input {
        path: path.to_path_buf(),
        message,
    })
}

fn resolve_names(path: &Path) -> Result<DatasetSpec> {
    check_exists(path)?;
    if path.is_dir() {
        let toml = path.join("dataset.toml");
        if toml.is_file() {
            return from_toml(&toml);
        }
        return discover(path);
    }
    if path.extension().and_then(|e| e.to_str()) == Some("toml") {
        return from_toml(path);
    }
    Err(Error::Input {
        path: path.to_path_buf(),
        message: "expected a dataset folder (with leads.csv or leads.parquet) or a dataset.toml"
            .into(),
    })
}

/// Find `leads.*`, `events.*`, `outcomes.*` in a folder.
fn discover(dir: &Path) -> Result<DatasetSpec> {
    let mut found: BTreeMap<Table, Vec<PathBuf>> = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(Error::read(dir, "cannot list the folder"))?;
    for entry in entries.flatten() {
        let p = entry.path();
        let (Some(stem), Some(ext)) = (
            p.file_stem().and_then(|s| s.to_str()),
            p.extension().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        let ext = ext.to_ascii_lowercase();
        if !matches!(
            ext.as_str(),
            "csv" | "parquet" | "pq" | "tsv" | "xlsx" | "xlsm" | "xls"
        ) {
            continue;
        }
        for t in Table::ALL {
            if stem.eq_ignore_ascii_case(t.name()) {
                found.entry(t).or_default().push(p.clone());
            }
        }
    }
    let mut pick = |t: Table| -> Result<Option<TableSpec>> {
        let Some(mut paths) = found.remove(&t) else {
            return Ok(None);
        };
        paths.sort();
        if paths.len() > 1 {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            return Err(Error::Input {
                path: dir.to_path_buf(),
                message: format!(
                    "the {} table exists more than once ({}); keep one, or name it in a dataset.toml",
                    t.name(),
                    names.join(", ")
                ),
            });
        }
        let path = paths.pop().expect("one path");
        let format = format_of(&path, None, None)?;
        Ok(Some(TableSpec::bare(t, path, format)))
    };
    let leads = pick(Table::Leads)?.ok_or_else(|| Error::Input {
        path: dir.to_path_buf(),
        message: "no leads table: expected leads.csv or leads.parquet (or a dataset.toml that names the files)".into(),
    })?;
    Ok(DatasetSpec {
        origin: dir.to_path_buf(),
        leads,
        events: pick(Table::Events)?,
        outcomes: pick(Table::Outcomes)?,
        accounts: pick(Table::Accounts)?,
        preset: None,
        labels: BTreeMap::new(),
    })
}

/// `[labels]` checked: every label a visible word (no control or direction-changing
/// characters), and no two raw names shown alike, which would make two rows of the report
/// look the same.
fn check_labels(
    raw: BTreeMap<String, String>,
) -> std::result::Result<BTreeMap<String, String>, String> {
    // Control characters, zero-width characters and the bidirectional overrides that can make
    // text display in another order than it is stored.
    let hidden = |c: char| {
        c.is_control()
            || ('\u{200b}'..='\u{200f}').contains(&c)
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    let mut labels = BTreeMap::new();
    let mut shown: BTreeMap<String, String> = BTreeMap::new();
    for (name, label) in raw {
        let word = label.trim().to_string();
        if name.trim().is_empty() {
            return Err(format!(
                "[labels] {name:?} = {label:?}: the raw name on the left is empty"
            ));
        }
        if word.is_empty() {
            return Err(format!(
                "[labels] {name:?} = {label:?}: the label is empty; write the word the report should show for {name:?} (job_level = \"Position\"), or delete the line"
            ));
        }
        if let Some(c) = word.chars().find(|c| hidden(*c)) {
            return Err(format!(
                "[labels] {name:?} = {label:?}: holds the invisible character U+{:04X}; a label must be text a reader can see",
                c as u32
            ));
        }
        if let Some(other) = shown.insert(word.clone(), name.clone()) {
            return Err(format!(
                "[labels] {other:?} and {name:?} would both show as {word:?}: the report could not tell them apart; give each its own word"
            ));
        }
        labels.insert(name, word);
    }
    Ok(labels)
}

fn parse_delimiter(toml: &Path, table: Table, d: &str) -> Result<u8> {
    let d = match d {
        "\\t" | "tab" => "\t",
        other => other,
    };
    match d.as_bytes() {
        [b] if d.is_ascii() && *b != b'"' && *b != b'\n' && *b != b'\r' => Ok(*b),
        _ => Err(Error::Spec {
            path: toml.to_path_buf(),
            message: format!(
                "[{}] delimiter = {d:?}: expected a single ASCII character such as \",\", \";\", \"|\" or \"\\t\"",
                table.name()
            ),
        }),
    }
}

fn from_toml(toml_path: &Path) -> Result<DatasetSpec> {
    let text = std::fs::read_to_string(toml_path).map_err(Error::read(toml_path, "cannot read"))?;
    let raw: RawSpec = toml::from_str(&text).map_err(|e| Error::Spec {
        path: toml_path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let base = toml_path.parent().unwrap_or(Path::new("."));
    let global_nulls = raw.null_values.clone().unwrap_or_default();
    let spec_err = |message: String| Error::Spec {
        path: toml_path.to_path_buf(),
        message,
    };
    let preset = match raw.preset.as_deref() {
        None => None,
        Some(name) => Some(super::presets::find(name).ok_or_else(|| {
            spec_err(format!(
                "preset = {name:?}: expected one of {}",
                super::presets::PRESETS
                    .iter()
                    .map(|p| format!("{:?}", p.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?),
    };

    fn build<C>(
        toml_path: &Path,
        base: &Path,
        table: Table,
        raw: RawTable<C>,
        columns: BTreeMap<String, String>,
        global_nulls: &[String],
    ) -> Result<TableSpec> {
        let file = raw.file.ok_or_else(|| Error::Spec {
            path: toml_path.to_path_buf(),
            message: format!(
                "[{}] has no `file = \"...\"`: name the table's CSV or Parquet file",
                table.name()
            ),
        })?;
        let path = base.join(&file);
        let delimiter = raw
            .delimiter
            .as_deref()
            .map(|d| parse_delimiter(toml_path, table, d))
            .transpose()?;
        let format = format_of(&path, delimiter, raw.sheet.as_deref())?;
        if delimiter.is_some() && !matches!(format, Format::Csv { .. }) {
            return Err(Error::Spec {
                path: toml_path.to_path_buf(),
                message: format!(
                    "[{}] sets a delimiter, but {file} is not a CSV file",
                    table.name()
                ),
            });
        }
        if raw.sheet.is_some() && !matches!(format, Format::Xlsx { .. }) {
            return Err(Error::Spec {
                path: toml_path.to_path_buf(),
                message: format!(
                    "[{}] names a sheet, but {file} is not an Excel workbook",
                    table.name()
                ),
            });
        }
        let mut null_values = global_nulls.to_vec();
        null_values.extend(raw.null_values.unwrap_or_default());
        let spec_err = |message: String| Error::Spec {
            path: toml_path.to_path_buf(),
            message: format!("[{}] {message}", table.name()),
        };
        let stage_dates: Vec<(String, String)> =
            raw.stage_dates.unwrap_or_default().into_iter().collect();
        if table != Table::Leads && !stage_dates.is_empty() {
            return Err(spec_err(
                "has stage_dates: only the leads table holds one date column per stage".into(),
            ));
        }
        if table != Table::Leads && raw.deliberate_attributes.is_some() {
            return Err(spec_err(
                "has deliberate_attributes: only the leads table holds attributes".into(),
            ));
        }
        for (stage, column) in &stage_dates {
            if stage.trim().is_empty() || column.trim().is_empty() {
                return Err(spec_err(format!(
                    "stage_dates: `{stage}` = `{column}`: expected a stage name and the column that holds its date"
                )));
            }
        }
        let fixed_stage = raw.stage;
        match &fixed_stage {
            Some(_) if table != Table::Outcomes => {
                return Err(spec_err(
                    "has `stage = ...`: only the outcomes table takes one stage for every row"
                        .into(),
                ));
            }
            Some(s) if s.trim().is_empty() => {
                return Err(spec_err(
                    "stage = \"\": expected a stage name such as \"won\"".into(),
                ));
            }
            Some(s) if columns.contains_key("stage") => {
                return Err(spec_err(format!(
                    "has both `stage = \"{s}\"` for every row and a stage column in [{}.columns]: use one",
                    table.name()
                )));
            }
            _ => {}
        }
        let date_formats = raw.date_formats.unwrap_or_default();
        for f in raw.date_format.iter().chain(date_formats.values()) {
            check_date_format(f).map_err(|m| spec_err(format!("date format {m}")))?;
        }
        let number_format = parse_number_format(raw.decimal.as_deref(), raw.thousands.as_deref())
            .map_err(&spec_err)?;
        let mut number_formats = BTreeMap::new();
        for (column, n) in raw.number_formats.unwrap_or_default() {
            let f = parse_number_format(n.decimal.as_deref(), n.thousands.as_deref())
                .map_err(|m| spec_err(format!("number_formats.{column:?}: {m}")))?
                .ok_or_else(|| {
                    spec_err(format!(
                        "number_formats.{column:?}: give decimal = \",\" and/or thousands = \".\""
                    ))
                })?;
            number_formats.insert(column, f);
        }
        let codes = raw.codes.unwrap_or_default();
        let codable = match table {
            Table::Events => "event_type",
            Table::Outcomes => "stage",
            // A pipeline table names its stages in its stage column.
            Table::Leads if raw.stage_column.is_some() => "stage",
            Table::Leads | Table::Accounts => "",
        };
        for (column, map) in &codes {
            if column != codable {
                return Err(spec_err(match codable {
                    "" => "has codes: only event types and stages can be coded (a leads table's stages when it has a stage_column)".into(),
                    _ => format!("codes.{column}: only `{codable}` can be coded in this table"),
                }));
            }
            if let Some((code, _)) = map
                .iter()
                .find(|(c, n)| c.trim().is_empty() || n.trim().is_empty())
            {
                return Err(spec_err(format!(
                    "codes.{column}: `{code}`: expected a code and a name, neither empty"
                )));
            }
        }
        match &raw.lead_key {
            Some(_) if table != Table::Events => {
                return Err(spec_err(
                    "has lead_key: only the events table can be keyed by another leads column"
                        .into(),
                ));
            }
            Some(k) if k.trim().is_empty() => {
                return Err(spec_err(
                    "lead_key = \"\": expected the leads column the events' lead ids hold, such as \"Email\"".into(),
                ));
            }
            _ => {}
        }
        let encoding = match raw.encoding.as_deref() {
            None => None,
            Some(_) if !matches!(format, Format::Csv { .. }) => {
                return Err(spec_err(format!(
                    "sets an encoding, but {file} is not a CSV file (Parquet and Excel files say their own)"
                )));
            }
            Some(label) => Some(super::encoding::by_label(label).ok_or_else(|| {
                spec_err(format!(
                    "encoding = \"{label}\": not an encoding leadcal reads; expected one of {}",
                    super::encoding::LABELS
                ))
            })?),
        };
        let pipeline = match (raw.stage_column, raw.stage_date) {
            (None, None) => None,
            _ if table != Table::Leads => {
                return Err(spec_err(
                    "has stage_column/stage_date: only a leads table can hold its own outcomes (a pipeline table)".into(),
                ));
            }
            (Some(_), Some(d)) if columns.get("created_at") == Some(&d) => {
                return Err(spec_err(format!(
                    "stage_date = \"{d}\" is also the creation date (columns.created_at): every lead would reach its stage as it is created; name the column of the date the stage was reached (such as \"close_date\")"
                )));
            }
            (Some(c), Some(d)) if !c.trim().is_empty() && !d.trim().is_empty() => Some(Pipeline {
                stage_column: c,
                stage_date: d,
            }),
            _ => {
                return Err(spec_err(
                    "a pipeline table needs both stage_column (the column that holds each row's stage, such as \"deal_stage\") and stage_date (the date it was reached, such as \"close_date\")".into(),
                ));
            }
        };
        let rows = match raw.rows {
            None => LeadRows::default(),
            Some(_) if table != Table::Leads => {
                return Err(spec_err(
                    "has [rows]: only the leads table chooses its rows".into(),
                ));
            }
            Some(r) => {
                let rows = LeadRows {
                    skip_stages: r.skip_stages.unwrap_or_default(),
                    skip_undated: r.skip_undated.unwrap_or(false),
                };
                if !rows.skip_stages.is_empty() && pipeline.is_none() {
                    return Err(spec_err(
                        "rows.skip_stages needs stage_column: the column whose stages say which rows are not leads".into(),
                    ));
                }
                rows
            }
        };
        let activity = match raw.activity {
            None => None,
            Some(_) if table != Table::Outcomes => {
                return Err(spec_err(
                    "has [activity]: only the outcomes table can be an activity log".into(),
                ));
            }
            Some(a) => {
                if a.types.is_empty() || a.types.iter().any(|t| t.trim().is_empty()) {
                    return Err(spec_err(
                        "activity.types: expected the activity type ids that change a stage, such as [\"104\"]".into(),
                    ));
                }
                if a.stage_key.is_some() && columns.contains_key("stage") {
                    return Err(spec_err(
                        "activity.stage_key and a stage column: the stage is read from one of them"
                            .into(),
                    ));
                }
                if fixed_stage.is_some() {
                    return Err(spec_err(
                        "activity and `stage = ...`: the stage is read from the activity".into(),
                    ));
                }
                Some(Activity {
                    type_column: a.type_column,
                    types: a.types,
                    attributes_column: a.attributes_column.unwrap_or_else(|| "attributes".into()),
                    stage_key: a.stage_key,
                    fields: a.fields.map(|f| {
                        (
                            a.field_column
                                .unwrap_or_else(|| "primaryAttributeValue".into()),
                            f,
                        )
                    }),
                })
            }
        };
        let mut spec = TableSpec::bare(table, path, format);
        spec.encoding = encoding;
        spec.columns = columns;
        spec.null_values = null_values;
        spec.ignore_columns = raw.ignore_columns.unwrap_or_default();
        spec.deliberate_attributes = raw.deliberate_attributes.unwrap_or_default();
        spec.stage_dates = stage_dates;
        spec.fixed_stage = fixed_stage;
        spec.date_format = raw.date_format;
        spec.date_formats = date_formats;
        spec.number_format = number_format;
        spec.number_formats = number_formats;
        spec.codes = codes;
        spec.lead_key = raw.lead_key;
        spec.pipeline = pipeline;
        spec.rows = rows;
        spec.activity = activity;
        Ok(spec)
    }

    let leads_raw = raw.leads.ok_or_else(|| {
        spec_err("no [leads] section: the leads table is required (file = \"...\")".into())
    })?;
    let lead_cols = leads_raw
        .columns
        .as_ref()
        .map(|c| c.map())
        .unwrap_or_default();
    // Outcomes come from one place: an outcomes table, an outcome column (yes/no, a
    // conversion date, or both), or one date column per stage.
    let outcome_column = ["converted", "converted_at"]
        .into_iter()
        .find(|c| lead_cols.contains_key(*c));
    let stage_dates = leads_raw
        .stage_dates
        .as_ref()
        .is_some_and(|s| !s.is_empty());
    let sources: Vec<&str> = [
        raw.outcomes.is_some().then_some("[outcomes]"),
        outcome_column.map(|_| "an outcome column in [leads.columns]"),
        stage_dates.then_some("[leads.stage_dates]"),
        leads_raw
            .stage_column
            .is_some()
            .then_some("a pipeline stage_column in [leads]"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if sources.len() > 1 {
        return Err(spec_err(format!(
            "outcomes are given twice ({}): use one source of outcomes",
            sources.join(" and ")
        )));
    }
    let leads = build(
        toml_path,
        base,
        Table::Leads,
        leads_raw,
        lead_cols,
        &global_nulls,
    )?;
    let events = raw
        .events
        .map(|t| {
            let cols = t.columns.as_ref().map(|c| c.map()).unwrap_or_default();
            build(toml_path, base, Table::Events, t, cols, &global_nulls)
        })
        .transpose()?;
    let outcomes = raw
        .outcomes
        .map(|t| {
            let cols = t.columns.as_ref().map(|c| c.map()).unwrap_or_default();
            build(toml_path, base, Table::Outcomes, t, cols, &global_nulls)
        })
        .transpose()?;
    let accounts = raw
        .accounts
        .map(|t| {
            let cols = t.columns.as_ref().map(|c| c.map()).unwrap_or_default();
            build(toml_path, base, Table::Accounts, t, cols, &global_nulls)
        })
        .transpose()?;
    let labels = check_labels(raw.labels.unwrap_or_default()).map_err(spec_err)?;
    let mut spec = DatasetSpec {
        origin: toml_path.to_path_buf(),
        leads,
        events,
        outcomes,
        accounts,
        preset: None,
        labels,
    };
    spec.preset = preset;
    Ok(spec)
}

/// The live model a dataset folder holds: `scoring.toml` beside its tables.
pub fn default_model(data: &Path) -> PathBuf {
    let dir = if data.is_dir() {
        data
    } else {
        data.parent().unwrap_or(Path::new("."))
    };
    dir.join("scoring.toml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_numbers_are_read_and_others_refused() {
        let de = NumberFormat {
            decimal: ',',
            thousands: Some('.'),
        };
        for (text, read) in [
            ("1.234,50", Some("1234.50")),
            ("-2.500", Some("-2500")),
            ("980,00", Some("980.00")),
            ("12", Some("12")),
            ("1.5", None),
            ("12.34.567", None),
            ("1.234,5.6", None),
        ] {
            assert_eq!(de.normalise(text).as_deref(), read, "{text}");
        }
        let plain_comma = NumberFormat {
            decimal: ',',
            thousands: None,
        };
        assert_eq!(plain_comma.normalise("3,25").as_deref(), Some("3.25"));
    }

    #[test]
    fn unknown_key_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dataset.toml");
        std::fs::write(
            &p,
            "[leads]\nfile = \"l.csv\"\n[leads.columns]\nlead_id = \"Id\"\ncreated = \"Create Date\"\n",
        )
        .unwrap();
        let msg = resolve(&p).unwrap_err().to_string();
        assert!(msg.contains("line 5"), "{msg}");
        assert!(msg.contains("created"), "{msg}");
    }

    #[test]
    fn delimiter_must_be_one_character() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dataset.toml");
        std::fs::write(&p, "[leads]\nfile = \"l.csv\"\ndelimiter = \";;\"\n").unwrap();
        let msg = resolve(&p).unwrap_err().to_string();
        assert!(msg.contains("single ASCII character"), "{msg}");
    }
}
