//! Loading and checking the three tables. See the module header of [`crate::data`].

use std::path::Path;

use chrono::NaiveDateTime;
use polars::prelude::*;
use serde::Serialize;

use super::problem::{MAX_EXAMPLES, Problem, Severity, list_examples, thousands};
use super::sniff;
use super::spec::{self, DatasetSpec, Format, Table, TableSpec};
use crate::error::{Error, Result};
use crate::timeparse;

/// Bounds outside which a timestamp is taken to be an export error.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub earliest: NaiveDateTime,
    pub now: NaiveDateTime,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            earliest: timeparse::parse_bound("1990-01-01").expect("valid"),
            now: chrono::Utc::now().naive_utc(),
        }
    }
}

/// Type of a lead attribute, inferred from its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeKind {
    Text,
    Integer,
    Float,
    Bool,
}

/// A profile attribute of the leads table.
#[derive(Debug, Clone, Serialize)]
pub struct Attribute {
    pub name: String,
    pub kind: AttributeKind,
    pub non_null: u64,
    pub distinct: u64,
}

/// A value and how often it occurs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Count {
    pub value: String,
    pub count: u64,
}

/// Rows read and used per table.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub table: Table,
    pub file: String,
    pub format: &'static str,
    pub rows: u64,
    pub rows_used: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// What loading found.
#[derive(Debug, Clone, Serialize, Default)]
pub struct LoadReport {
    pub tables: Vec<TableReport>,
    pub event_types: Vec<Count>,
    pub stages: Vec<Count>,
    pub problems: Vec<Problem>,
}

impl LoadReport {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// Why no lead can convert when the outcomes hold rows but none of them has the `target`
    /// stage (a CRM's own stage names, or a misspelt `--target`); `None` otherwise.
    pub fn missing_target(&self, target: &str) -> Option<String> {
        if self.stages.is_empty() || self.stages.iter().any(|c| c.value == target) {
            return None;
        }
        let seen: Vec<String> = self
            .stages
            .iter()
            .take(12)
            .map(|c| format!("`{}` ({})", c.value, thousands(c.count)))
            .collect();
        Some(format!(
            "no outcome has the target stage `{target}`, so no lead can count as converted; the stages are {}. Name the stage that means a sale with --target",
            seen.join(", ")
        ))
    }
}

/// A loaded dataset. Leads and outcomes are checked frames; events are a lazy scan.
pub struct Dataset {
    pub spec: DatasetSpec,
    /// `lead_id`, `created_at`, optional `account_id`, then the attributes.
    pub leads: DataFrame,
    /// `lead_id`, `stage`, `reached_at` (null only for an outcome column without dates),
    /// optional `amount`; only rows of known leads with valid timestamps.
    pub outcomes: Option<DataFrame>,
    events: Option<LazyFrame>,
    /// Events matched in a warehouse, in place of `events` (`--features`).
    pub warehouse: Option<super::warehouse::WarehouseTable>,
    pub attributes: Vec<Attribute>,
    /// Latest valid timestamp in any table.
    pub data_end: Option<NaiveDateTime>,
    pub report: LoadReport,
}

impl Dataset {
    /// Read the behaviour from a warehouse table (`leadcal sql --with-events`) instead of the
    /// events table: the raw events, if the dataset has them, are not used.
    pub fn with_warehouse(mut self, path: &Path, fingerprint: &str) -> Result<Self> {
        let int_ids = self
            .leads
            .column("lead_id")
            .is_ok_and(|c| c.dtype().is_integer());
        let w = super::warehouse::load(path, fingerprint, int_ids)?;
        self.events = None;
        let end = w.last_event.and_then(timeparse::from_micros);
        self.data_end = match (self.data_end, end) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.report.tables.retain(|t| t.table != Table::Events);
        self.report.tables.push(TableReport {
            table: Table::Events,
            file: w.path.display().to_string(),
            format: "warehouse",
            rows: w.events,
            rows_used: w.events,
            first: None,
            last: w.last_event.map(timeparse::display_micros),
        });
        self.warehouse = Some(w);
        Ok(self)
    }

    /// Events with canonical names (`lead_id`, `occurred_at`, `event_type`, and whichever of
    /// `topic`, `asset_id`, `channel`, `value` exist), rows with invalid timestamps or types
    /// removed (they are counted in the report). Events of unknown leads are still in the scan;
    /// every stage joins on leads, which leaves them out, and the report counts them.
    pub fn events(&self) -> Option<LazyFrame> {
        self.events.clone()
    }

    /// Usable rows of the events table (valid and of known leads): an upper bound on how many
    /// events any stage can match.
    pub fn events_rows(&self) -> u64 {
        self.report
            .tables
            .iter()
            .filter(|t| t.table == Table::Events)
            .map(|t| t.rows_used)
            .sum()
    }

    /// Fail with every error found, or return the dataset.
    pub fn require_valid(self) -> Result<Self> {
        if self.report.has_errors() {
            Err(Error::Invalid(self.report.problems))
        } else {
            Ok(self)
        }
    }
}

const ROW: &str = "__row";

fn row_label(format: &Format, idx: u64) -> String {
    match format {
        Format::Csv { .. } => format!("line {}", idx + 2),
        Format::Parquet => format!("row {}", idx + 1),
    }
}

fn read_err(spec: &TableSpec) -> impl FnOnce(PolarsError) -> Error + '_ {
    move |e| Error::Input {
        path: spec.path.clone(),
        message: explain_read_error(spec, &e.to_string())
            .unwrap_or_else(|| format!("cannot read the {} table: {e}", spec.table.name())),
    }
}

/// A message a person can act on for the CSV reader's failures that polars words for a
/// programmer: bytes that are not UTF-8, and a field that cannot be read (an unclosed quote).
fn explain_read_error(spec: &TableSpec, polars: &str) -> Option<String> {
    let Format::Csv { delimiter } = spec.format else {
        return polars.contains("out of specification").then(|| {
            format!(
                "not a readable Parquet file ({}): a file of another type renamed to .parquet, or a copy cut short; export it again",
                polars.trim_start_matches("parquet: ")
            )
        });
    };
    let header = |field: usize| {
        sniff::sniff(&spec.path, delimiter)
            .ok()
            .and_then(|s| s.header.get(field).cloned())
    };
    if polars.contains("invalid utf-8") {
        let delim = sniff::sniff(&spec.path, delimiter)
            .map(|s| s.delimiter)
            .unwrap_or(b',');
        let (line, field, byte) = sniff::first_invalid_utf8(&spec.path, delim).ok()??;
        let column = header(field).map_or(String::new(), |h| format!(", column `{h}`"));
        return Some(format!(
            "line {line}{column}: byte 0x{byte:02X} is not UTF-8. The file looks like Latin-1 or \
             Windows-1252 text: save it as UTF-8 (Excel: \"CSV UTF-8\"; iconv -f latin1 -t utf-8)"
        ));
    }
    if polars.contains("could not parse")
        && let Ok(Some(line)) = sniff::unclosed_quote(&spec.path)
    {
        return Some(format!(
            "line {line}: a field opens a quote (\") that is never closed, so the rest of the \
             file reads as one field; close the quote or remove it"
        ));
    }
    if polars.contains("could not parse") {
        let offset: u64 = polars
            .split("offset in the file is ")
            .nth(1)?
            .split(' ')
            .next()?
            .parse()
            .ok()?;
        let line = sniff::line_of_offset(&spec.path, offset).ok()?;
        let column = polars
            .split("at column '")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .map_or(String::new(), |c| format!(", column `{c}`"));
        return Some(format!(
            "near line {line}{column}: a row cannot be read as text (check its quotes and \
             delimiters)"
        ));
    }
    None
}

struct Ctx<'a> {
    spec: &'a TableSpec,
    problems: &'a mut Vec<Problem>,
}

impl Ctx<'_> {
    /// How the file's rows `idx` (0-based data rows) are named: CSV lines as a text editor
    /// counts them (a quoted field with a newline inside makes a row span lines), Parquet rows.
    fn labels(&self, idx: &[u64]) -> Vec<String> {
        let lines = match self.spec.format {
            Format::Csv { .. } => sniff::record_lines(&self.spec.path, idx).unwrap_or_default(),
            Format::Parquet => vec![],
        };
        idx.iter()
            .map(|&i| match lines.iter().find(|(r, _)| *r == i) {
                Some((_, line)) => format!("line {line}"),
                None => row_label(&self.spec.format, i),
            })
            .collect()
    }

    /// "`id` (line 4, line 8)" for the first few of `ids`, each with its list of row indices.
    fn id_examples(&self, ids: &StringChunked, rows: &ListChunked) -> Vec<String> {
        (0..ids.len().min(MAX_EXAMPLES))
            .map(|i| {
                let idx: Vec<u64> = rows
                    .get_as_series(i)
                    .and_then(|s| {
                        s.idx()
                            .ok()
                            .map(|c| c.iter().flatten().map(|x| x as u64).collect())
                    })
                    .unwrap_or_default();
                let r = self.labels(&idx);
                format!("`{}` ({})", ids.get(i).unwrap_or(""), r.join(", "))
            })
            .collect()
    }

    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        column: Option<&str>,
        count: u64,
        examples: Vec<String>,
        message: String,
    ) {
        self.problems.push(Problem {
            severity,
            code,
            file: self.spec.display(),
            column: column.map(str::to_string),
            rows_affected: count,
            examples,
            message: format!("{}: {message}", self.spec.display()),
        });
    }

    /// Report rows of `df` where `mask` holds, naming the first few with their values.
    #[allow(clippy::too_many_arguments)] // each argument is one part of the message
    fn rows_problem(
        &mut self,
        df: &DataFrame,
        mask: Expr,
        severity: Severity,
        code: &'static str,
        column: &str,
        show_value: Option<&str>,
        what: &str,
    ) -> Result<u64> {
        let mut sel = vec![col(ROW)];
        if let Some(v) = show_value {
            sel.push(col(v).cast(DataType::String).alias("__v"));
        }
        let bad = df
            .clone()
            .lazy()
            .filter(mask)
            .select(sel)
            .collect()
            .map_err(Error::polars("checking rows"))?;
        let n = bad.height() as u64;
        self.report_rows(n, &bad, severity, code, column, what)?;
        Ok(n)
    }

    /// Record `n` affected rows, naming the first few of `bad` (a frame with the row index and,
    /// optionally, the offending value as `__v`).
    fn report_rows(
        &mut self,
        n: u64,
        bad: &DataFrame,
        severity: Severity,
        code: &'static str,
        column: &str,
        what: &str,
    ) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let rows = bad
            .column(ROW)
            .and_then(|c| c.idx().cloned())
            .map_err(Error::polars("reading row numbers"))?;
        let vals = bad.column("__v").ok().and_then(|c| c.str().ok().cloned());
        let shown = bad.height().min(MAX_EXAMPLES);
        let labels = self.labels(
            &(0..shown)
                .map(|i| rows.get(i).unwrap_or(0) as u64)
                .collect::<Vec<_>>(),
        );
        let examples: Vec<String> = (0..shown)
            .map(|i| {
                let label = labels[i].clone();
                match vals.as_ref().and_then(|v| v.get(i)) {
                    Some(v) => format!("{label} (`{}`)", v.chars().take(40).collect::<String>()),
                    None => label,
                }
            })
            .collect();
        let msg = format!(
            "column `{column}`: {what} in {} row(s): {}",
            thousands(n),
            list_examples(&examples, n)
        );
        self.push(severity, code, Some(column), n, examples, msg);
        Ok(())
    }
}

/// Open a table lazily with its columns as read (CSV: all text). Returns `None` (after
/// recording a problem) when the table cannot be used at all.
fn scan(spec: &TableSpec, problems: &mut Vec<Problem>) -> Result<Option<(LazyFrame, Schema)>> {
    let mut ctx = Ctx { spec, problems };
    let path_str = spec.path.to_str().ok_or_else(|| Error::Input {
        path: spec.path.clone(),
        message: "the path is not valid UTF-8".into(),
    })?;
    if !spec.path.is_file() {
        return Err(Error::Input {
            path: spec.path.clone(),
            message: format!("the {} file does not exist", spec.table.name()),
        });
    }
    let lf = match &spec.format {
        Format::Csv { delimiter } => {
            let s = sniff::sniff(&spec.path, *delimiter).map_err(|e| Error::Input {
                path: spec.path.clone(),
                message: format!("cannot read: {e}"),
            })?;
            if s.empty {
                ctx.push(
                    Severity::Error,
                    "empty-table",
                    None,
                    0,
                    vec![],
                    format!(
                        "the {} table is empty: no header and no rows",
                        spec.table.name()
                    ),
                );
                return Ok(None);
            }
            if let Some(other) = s.declared_mismatch {
                ctx.push(Severity::Error, "wrong-delimiter", None, 0, vec![],
                    format!("wrong delimiter: dataset.toml says {}, but the header line has none; it is separated by {}",
                        sniff::show(s.delimiter), sniff::show(other)));
                return Ok(None);
            }
            if let Some((line, n)) = s.ragged {
                ctx.push(Severity::Error, "wrong-delimiter", None, 0, vec![format!("line {line}")],
                    format!("line {line} has {n} field(s) when split on {}, but the header has {}: is a different delimiter used in the rows?",
                        sniff::show(s.delimiter), s.header.len()));
                return Ok(None);
            }
            let mut seen: Vec<&str> = Vec::new();
            for (k, name) in s.header.iter().enumerate() {
                if let Some(first) = seen.iter().position(|n| *n == name.as_str()) {
                    ctx.push(
                        Severity::Error,
                        "duplicate-column",
                        Some(name),
                        0,
                        vec![],
                        format!(
                            "the header names column `{name}` twice (columns {} and {}); rename one",
                            first + 1,
                            k + 1
                        ),
                    );
                    return Ok(None);
                }
                seen.push(name);
            }
            let nulls = (!spec.null_values.is_empty()).then(|| {
                NullValues::AllColumns(spec.null_values.iter().map(|v| v.as_str().into()).collect())
            });
            LazyCsvReader::new(PlRefPath::from(path_str))
                .with_separator(s.delimiter)
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .with_null_values(nulls)
                .with_missing_is_null(true)
                .with_raise_if_empty(false)
                .finish()
                .map_err(read_err(spec))?
        }
        Format::Parquet => {
            LazyFrame::scan_parquet(PlRefPath::from(path_str), ScanArgsParquet::default())
                .map_err(read_err(spec))?
        }
    };
    let mut lf = lf;
    let schema = lf
        .collect_schema()
        .map_err(read_err(spec))?
        .as_ref()
        .clone();
    let missing: Vec<String> = spec
        .table
        .required()
        .iter()
        .chain(
            spec.columns
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .iter(),
        )
        .filter(|c| schema.get(spec.user_name(c)).is_none())
        .map(|c| {
            let u = spec.user_name(c);
            if u == *c {
                format!("`{c}`")
            } else {
                format!("`{c}` (mapped to `{u}`)")
            }
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        let have: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
        ctx.push(
            Severity::Error,
            "missing-column",
            None,
            0,
            vec![],
            format!(
                "missing required column(s) {}; the file has: {}",
                missing.join(", "),
                have.iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        return Ok(None);
    }
    Ok(Some((lf, schema)))
}

/// Expression turning a user id column into the dataset's id type.
fn id_expr(user: &str, dtype_in: &DataType, int_ids: bool) -> Expr {
    let base = if dtype_in == &DataType::String {
        col(user).str().strip_chars(lit(NULL))
    } else {
        col(user)
    };
    if int_ids {
        base.cast(DataType::Int64)
    } else {
        base.cast(DataType::String)
    }
}

fn time_expr(
    spec: &TableSpec,
    schema: &Schema,
    canonical: &str,
    problems: &mut Vec<Problem>,
) -> Option<Expr> {
    let user = spec.user_name(canonical);
    let dt = schema.get(user)?;
    match timeparse::cast_typed(user, dt) {
        Some(e) => Some(e),
        None => {
            Ctx { spec, problems }.push(
                Severity::Error,
                "bad-type",
                Some(user),
                0,
                vec![],
                format!("column `{user}` has type {dt}; expected a date or date-time"),
            );
            None
        }
    }
}

/// Load and check a dataset. Problems are collected in the report; use
/// [`Dataset::require_valid`] before analysis. Only failures that leave nothing to check
/// (an unreadable path or spec, an unusable leads table) are returned as `Err`.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let _t = crate::timing::Stage::start("load (all tables)");
    let spec = spec::resolve(path)?;
    let mut problems = Vec::new();
    let mut report = LoadReport::default();
    let lo = timeparse::to_micros(opts.earliest);
    let hi = timeparse::to_micros(opts.now);
    let range_text = format!(
        "{} to {}",
        timeparse::display(opts.earliest),
        opts.now.format("%Y-%m-%d")
    );

    // ---- leads -------------------------------------------------------------------------
    let ls = &spec.leads;
    let Some((lf, schema)) = scan(ls, &mut problems)? else {
        return Err(Error::Invalid(problems));
    };
    let df = lf
        .with_row_index(ROW, None)
        .collect()
        .map_err(read_err(ls))?;
    let n_leads = df.height() as u64;
    if n_leads == 0 {
        Ctx {
            spec: ls,
            problems: &mut problems,
        }
        .push(
            Severity::Error,
            "empty-table",
            None,
            0,
            vec![],
            "the leads table has a header but no rows".into(),
        );
        return Err(Error::Invalid(problems));
    }
    let id_user = ls.user_name("lead_id").to_string();
    let id_dtype = schema.get(&id_user).cloned().unwrap_or(DataType::String);
    // Integer ids when every non-null id is an integer.
    let int_ids = match &id_dtype {
        DataType::String => {
            let t = df
                .clone()
                .lazy()
                .select([
                    col(&id_user)
                        .str()
                        .strip_chars(lit(NULL))
                        .is_not_null()
                        .sum()
                        .alias("nn"),
                    col(&id_user)
                        .str()
                        .strip_chars(lit(NULL))
                        .cast(DataType::Int64)
                        .is_not_null()
                        .sum()
                        .alias("ni"),
                ])
                .collect()
                .map_err(Error::polars("inspecting lead ids"))?;
            let get = |c: &str| {
                t.column(c)
                    .ok()
                    .and_then(|s| s.get(0).ok())
                    .and_then(|v| v.extract::<u64>())
                    .unwrap_or(0)
            };
            get("nn") == get("ni")
        }
        d => d.is_integer(),
    };
    let Some(created) = time_expr(ls, &schema, "created_at", &mut problems) else {
        return Err(Error::Invalid(problems));
    };
    let created_user = ls.user_name("created_at").to_string();
    let mut sel = vec![
        col(ROW),
        id_expr(&id_user, &id_dtype, int_ids).alias("lead_id"),
        created.alias("created_at"),
        col(&created_user).alias("__created_raw"),
    ];
    if ls.columns.contains_key("account_id") || schema.get("account_id").is_some() {
        sel.push(
            col(ls.user_name("account_id"))
                .cast(DataType::String)
                .alias("account_id"),
        );
    }
    let has_outcome_col = ls.columns.contains_key("converted");
    if has_outcome_col {
        let u = ls.user_name("converted");
        sel.push(
            col(u)
                .cast(DataType::String)
                .str()
                .strip_chars(lit(NULL))
                .str()
                .to_lowercase()
                .alias("__conv_raw"),
        );
        if ls.columns.contains_key("converted_at")
            && let Some(e) = time_expr(ls, &schema, "converted_at", &mut problems)
        {
            sel.push(e.alias("__conv_at"));
            sel.push(col(ls.user_name("converted_at")).alias("__conv_at_raw"));
        }
    }
    let reserved: Vec<String> = Table::Leads
        .required()
        .iter()
        .chain(Table::Leads.optional())
        .map(|c| ls.user_name(c).to_string())
        .collect();
    let attr_names: Vec<String> = schema
        .iter_names()
        .map(|n| n.to_string())
        .filter(|n| !reserved.contains(n) && !ls.ignore_columns.contains(n) && !n.starts_with("__"))
        .collect();
    let (personal, attr_names): (Vec<String>, Vec<String>) =
        attr_names.into_iter().partition(|n| is_personal(n));
    for name in &personal {
        Ctx {
            spec: ls,
            problems: &mut problems,
        }
        .push(
            Severity::Warning,
            "personal-column",
            Some(name),
            0,
            vec![],
            format!("column `{name}` holds personal data (by its name); it is not read, and no output shows it. List it under ignore_columns in a dataset.toml to silence this"),
        );
    }
    for a in &attr_names {
        sel.push(col(a.as_str()));
    }
    let mut df = df
        .lazy()
        .select(sel)
        .collect()
        .map_err(Error::polars("selecting lead columns"))?;
    {
        let mut ctx = Ctx {
            spec: ls,
            problems: &mut problems,
        };
        ctx.rows_problem(
            &df,
            col("lead_id").is_null(),
            Severity::Error,
            "null-lead-id",
            &id_user,
            None,
            "empty lead id",
        )?;
        // Duplicates.
        let dups = df
            .clone()
            .lazy()
            .filter(col("lead_id").is_not_null())
            .group_by([col("lead_id")])
            .agg([
                len().alias("n"),
                col(ROW).min().alias("first"),
                col(ROW)
                    .sort(Default::default())
                    .head(Some(3))
                    .alias("rows"),
            ])
            .filter(col("n").gt(lit(1)))
            .sort(["first"], Default::default())
            .collect()
            .map_err(Error::polars("finding duplicate ids"))?;
        if dups.height() > 0 {
            let ids = dups
                .column("lead_id")
                .map_err(Error::polars("dups"))?
                .cast(&DataType::String)
                .map_err(Error::polars("dups"))?;
            let ids = ids.str().map_err(Error::polars("dups"))?.clone();
            let rows = dups
                .column("rows")
                .map_err(Error::polars("dups"))?
                .list()
                .map_err(Error::polars("dups"))?
                .clone();
            let examples = ctx.id_examples(&ids, &rows);
            let n = dups.height() as u64;
            ctx.push(
                Severity::Error,
                "duplicate-lead-id",
                Some(&id_user),
                n,
                examples.clone(),
                format!(
                    "column `{id_user}`: {} lead id(s) occur more than once: {}",
                    thousands(n),
                    list_examples(&examples, n)
                ),
            );
        }
        ctx.rows_problem(
            &df,
            col("__created_raw").is_null(),
            Severity::Error,
            "null-timestamp",
            &created_user,
            None,
            "empty timestamp",
        )?;
        ctx.rows_problem(
            &df,
            col("__created_raw")
                .is_not_null()
                .and(col("created_at").is_null()),
            Severity::Error,
            "bad-timestamp",
            &created_user,
            Some("__created_raw"),
            "not a date or date-time (expected ISO 8601 such as 2024-03-01 or 2024-03-01T09:15:00)",
        )?;
        let ts = col("created_at").cast(DataType::Int64);
        ctx.rows_problem(
            &df,
            ts.clone().lt(lit(lo)).or(ts.gt(lit(hi))),
            Severity::Error,
            "timestamp-out-of-range",
            &created_user,
            Some("__created_raw"),
            &format!("timestamp outside {range_text}"),
        )?;
        if schema.get(&created_user) == Some(&DataType::String) {
            ctx.rows_problem(
                &df,
                timeparse::with_offset_expr("__created_raw").is_not_null(),
                Severity::Warning,
                "time-zone-offset",
                &created_user,
                Some("__created_raw"),
                OFFSET_NOTE,
            )?;
        }
    }
    // Outcome column inside leads.
    let mut outcomes_from_leads: Option<DataFrame> = None;
    if has_outcome_col {
        let truthy = lit(Series::new("t".into(), ["true", "1", "yes", "y", "t"]));
        let falsy = lit(Series::new("f".into(), ["false", "0", "no", "n", "f"]));
        let conv_user = ls.user_name("converted").to_string();
        df = df
            .lazy()
            .with_column(
                when(col("__conv_raw").is_in(truthy.implode(false), false))
                    .then(lit(true))
                    .when(col("__conv_raw").is_in(falsy.implode(false), false))
                    .then(lit(false))
                    .otherwise(lit(NULL).cast(DataType::Boolean))
                    .alias("__conv"),
            )
            .collect()
            .map_err(Error::polars("reading the outcome column"))?;
        let mut ctx = Ctx {
            spec: ls,
            problems: &mut problems,
        };
        ctx.rows_problem(
            &df,
            col("__conv_raw").is_not_null().and(col("__conv").is_null()),
            Severity::Error,
            "bad-boolean",
            &conv_user,
            Some("__conv_raw"),
            "not a yes/no value (expected true/false, 1/0 or yes/no)",
        )?;
        if df.column("__conv_at").is_ok() {
            let cu = ls.user_name("converted_at").to_string();
            ctx.rows_problem(
                &df,
                col("__conv_at_raw")
                    .is_not_null()
                    .and(col("__conv_at").is_null()),
                Severity::Error,
                "bad-timestamp",
                &cu,
                Some("__conv_at_raw"),
                "not a date or date-time (expected ISO 8601)",
            )?;
        }
        let at = if df.column("__conv_at").is_ok() {
            col("__conv_at")
        } else {
            lit(NULL).cast(timeparse::dtype())
        };
        outcomes_from_leads = Some(
            df.clone()
                .lazy()
                .filter(col("__conv").eq(lit(true)))
                .select([
                    col("lead_id"),
                    lit("converted").alias("stage"),
                    at.alias("reached_at"),
                ])
                .collect()
                .map_err(Error::polars("building outcomes"))?,
        );
    }
    // Keep valid leads only; the errors above block analysis anyway.
    let ts = col("created_at").cast(DataType::Int64);
    let leads = df
        .clone()
        .lazy()
        .filter(
            col("lead_id")
                .is_not_null()
                .and(col("created_at").is_not_null())
                .and(ts.clone().gt_eq(lit(lo)))
                .and(ts.lt_eq(lit(hi))),
        )
        .collect()
        .map_err(Error::polars("filtering leads"))?;
    // Infer attribute types for text columns.
    let mut attributes = Vec::new();
    let mut cast_exprs = Vec::new();
    for a in &attr_names {
        let c = leads.column(a).map_err(Error::polars("attribute"))?;
        let (kind, expr) = infer_attribute(a, c.dtype(), &leads)?;
        cast_exprs.push(expr.alias(a.as_str()));
        attributes.push((a.clone(), kind));
    }
    let mut keep = vec![col(ROW), col("lead_id"), col("created_at")];
    if leads.column("account_id").is_ok() {
        keep.push(col("account_id"));
    }
    keep.extend(cast_exprs);
    let leads = leads
        .lazy()
        .select(keep)
        .collect()
        .map_err(Error::polars("typing attributes"))?;
    let leads = check_attributes(
        &mut Ctx {
            spec: ls,
            problems: &mut problems,
        },
        leads,
        &attributes,
    )?
    .drop(ROW)
    .map_err(Error::polars("typing attributes"))?;
    let attributes = attributes
        .into_iter()
        .map(|(name, kind)| {
            let c = leads.column(&name).expect("selected");
            Attribute {
                non_null: (c.len() - c.null_count()) as u64,
                distinct: c
                    .as_materialized_series()
                    .drop_nulls()
                    .n_unique()
                    .unwrap_or(0) as u64,
                name,
                kind,
            }
        })
        .collect();
    let (cmin, cmax) = minmax(&leads, "created_at")?;
    report.tables.push(TableReport {
        table: Table::Leads,
        file: ls.display(),
        format: fmt_name(&ls.format),
        rows: n_leads,
        rows_used: leads.height() as u64,
        first: cmin.map(timeparse::display_micros),
        last: cmax.map(timeparse::display_micros),
    });
    let mut data_end = cmax;
    let known = leads
        .clone()
        .lazy()
        .select([col("lead_id"), col("created_at").alias("__created")])
        .unique(Some(cols(["lead_id"])), UniqueKeepStrategy::Any);
    let shared = Shared {
        int_ids,
        known,
        lo,
        hi,
        range_text,
    };

    // ---- events ------------------------------------------------------------------------
    let mut events = None;
    if let Some(es) = &spec.events
        && let Some((lf, schema)) = scan(es, &mut problems)?
        && let Some(ts) = time_expr(es, &schema, "occurred_at", &mut problems)
    {
        let _t = crate::timing::Stage::start("load events (checks)");
        let (lf, end) = load_events(es, lf, &schema, ts, &shared, &mut problems, &mut report)?;
        data_end = data_end.max(end);
        events = Some(lf);
    }

    // ---- outcomes ----------------------------------------------------------------------
    let mut outcomes = outcomes_from_leads;
    if let Some(os) = &spec.outcomes
        && let Some((lf, schema)) = scan(os, &mut problems)?
        && let Some(ts) = time_expr(os, &schema, "reached_at", &mut problems)
    {
        let (valid, end) = load_outcomes(os, lf, &schema, ts, &shared, &mut problems, &mut report)?;
        data_end = data_end.max(end);
        outcomes = Some(valid);
    }
    if let Some(o) = &outcomes {
        let agg = o
            .clone()
            .lazy()
            .group_by([col("stage")])
            .agg([len().alias("n")])
            .collect()
            .map_err(Error::polars("counting stages"))?;
        report.stages = counts(&agg, "stage", "n")?;
    }
    report.problems = problems;
    Ok(Dataset {
        spec,
        leads,
        outcomes,
        events,
        warehouse: None,
        attributes,
        data_end: data_end.and_then(timeparse::from_micros),
        report,
    })
}

/// What the events and outcomes checks need from the leads.
struct Shared {
    int_ids: bool,
    /// Distinct lead ids with their `__created` time (never null), for joins that find unknown
    /// leads (null `__created` after a left join) and rows dated before their lead.
    known: LazyFrame,
    lo: i64,
    hi: i64,
    range_text: String,
}

/// Check the events table in one streaming pass and return its canonical lazy scan (valid
/// rows only) with the latest valid timestamp.
fn load_events(
    es: &TableSpec,
    lf: LazyFrame,
    schema: &Schema,
    ts: Expr,
    shared: &Shared,
    problems: &mut Vec<Problem>,
    report: &mut LoadReport,
) -> Result<(LazyFrame, Option<i64>)> {
    let Shared {
        int_ids,
        known,
        lo,
        hi,
        range_text,
    } = shared;
    let (int_ids, lo, hi) = (*int_ids, *lo, *hi);

    let idu = es.user_name("lead_id");
    let tsu = es.user_name("occurred_at").to_string();
    let etu = es.user_name("event_type").to_string();
    let mut sel = vec![
        id_expr(idu, schema.get(idu).unwrap_or(&DataType::String), int_ids).alias("lead_id"),
        ts.alias("occurred_at"),
        col(&etu).cast(DataType::String).alias("event_type"),
    ];
    for c in ["topic", "asset_id", "channel"] {
        if schema.get(es.user_name(c)).is_some() {
            sel.push(col(es.user_name(c)).cast(DataType::String).alias(c));
        }
    }
    let has_value = schema.get(es.user_name("value")).is_some();
    if has_value {
        let v = col(es.user_name("value")).cast(DataType::Float64);
        sel.push(
            when(v.clone().is_finite())
                .then(v)
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("value"),
        );
    }
    let canon = lf.clone().select(sel.clone());
    let mut check_sel = sel.clone();
    check_sel.push(col(&tsu).is_null().alias("__ts_null"));
    if has_value {
        check_sel.push(
            col(es.user_name("value"))
                .is_not_null()
                .and(col(es.user_name("value")).cast(DataType::Float64).is_null())
                .alias("__bad_value"),
        );
    } else {
        check_sel.push(lit(false).alias("__bad_value"));
    }
    if has_value {
        let v = col(es.user_name("value")).cast(DataType::Float64);
        check_sel.push(
            v.clone()
                .is_not_null()
                .and(v.is_finite().not())
                .alias("__nonfinite_value"),
        );
    } else {
        check_sel.push(lit(false).alias("__nonfinite_value"));
    }
    let ts_text = schema.get(&tsu) == Some(&DataType::String);
    check_sel.push(if ts_text {
        timeparse::with_offset_expr(&tsu)
            .is_not_null()
            .alias("__ts_offset")
    } else {
        lit(false).alias("__ts_offset")
    });
    let tsi = col("occurred_at").cast(DataType::Int64);
    // Every aggregate below is a plain sum, min or max of a column: aggregates with their own
    // filters made the streaming engine split the scan in two and buffer one branch.
    let valid = col("occurred_at")
        .is_not_null()
        .and(col("__oor").not())
        .and(col("event_type").is_not_null())
        .and(col("__bad_value").not());
    let checked = lf
        .clone()
        .select(check_sel)
        .join(
            known.clone(),
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Left).with_build_side(Some(JoinBuildSide::ForceRight)),
        )
        .with_columns([
            col("__ts_null")
                .not()
                .and(col("occurred_at").is_null())
                .alias("__ts_bad"),
            tsi.clone()
                .lt(lit(lo))
                .or(tsi.clone().gt(lit(hi)))
                .fill_null(false)
                .alias("__oor"),
            col("__created").is_null().alias("__unknown"),
        ])
        .with_columns([valid.alias("__valid")])
        .with_columns([
            col("__unknown")
                .and(col("__valid"))
                .alias("__unknown_valid"),
            col("lead_id").is_null().alias("__id_null"),
            col("lead_id")
                .is_null()
                .and(col("__valid"))
                .alias("__id_null_valid"),
            col("__valid")
                .and(tsi.clone().lt(col("__created").cast(DataType::Int64)))
                .fill_null(false)
                .alias("__early"),
            when(col("__valid"))
                .then(col("occurred_at"))
                .otherwise(lit(NULL))
                .alias("__valid_at"),
        ]);
    let agg = checked
        .group_by([col("event_type")])
        .agg([
            len().alias("n"),
            col("__ts_null").sum().alias("ts_null"),
            col("__ts_bad").sum().alias("ts_bad"),
            col("__oor").sum().alias("oor"),
            col("__bad_value").sum().alias("bad_value"),
            col("__unknown_valid").sum().alias("unknown"),
            col("__id_null").sum().alias("id_null"),
            col("__id_null_valid").sum().alias("id_null_valid"),
            col("__early").sum().alias("early"),
            col("__ts_offset").sum().alias("ts_offset"),
            col("__nonfinite_value").sum().alias("nonfinite_value"),
            col("__valid").sum().alias("valid"),
            col("__valid_at").min().alias("min"),
            col("__valid_at").max().alias("max"),
        ])
        .collect_with_engine(Engine::Streaming)
        .map_err(read_err(es))?
        .unwrap_single();
    let sum = |c: &str| -> u64 {
        agg.column(c)
            .ok()
            .and_then(|s| s.as_materialized_series().sum::<u64>().ok())
            .unwrap_or(0)
    };
    let total = sum("n");
    let mut ctx = Ctx { spec: es, problems };
    if total == 0 {
        ctx.push(
            Severity::Error,
            "empty-table",
            None,
            0,
            vec![],
            "the events table has a header but no rows".into(),
        );
    }
    let examples = |mask: Expr, show: Option<&str>| -> Result<DataFrame> {
        let mut s = vec![col(ROW)];
        if let Some(v) = show {
            s.push(col(v).cast(DataType::String).alias("__v"));
        }
        lf.clone()
            .with_row_index(ROW, None)
            .filter(mask)
            .select(s)
            .limit(MAX_EXAMPLES as IdxSize)
            .collect()
            .map_err(read_err(es))
    };
    let lazy_problem = |ctx: &mut Ctx,
                        n: u64,
                        mask: Expr,
                        show: Option<&str>,
                        sev,
                        code,
                        column: &str,
                        what: &str|
     -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let ex = examples(mask, show)?;
        ctx.report_rows(n, &ex, sev, code, column, what)
    };
    let ts_raw_null = col(&tsu).is_null();
    let ts_parsed = sel[1].clone();
    lazy_problem(
        &mut ctx,
        sum("ts_null"),
        ts_raw_null.clone(),
        None,
        Severity::Error,
        "null-timestamp",
        &tsu,
        "empty timestamp",
    )?;
    lazy_problem(
        &mut ctx,
        sum("ts_bad"),
        ts_raw_null.clone().not().and(ts_parsed.clone().is_null()),
        Some(&tsu),
        Severity::Error,
        "bad-timestamp",
        &tsu,
        "not a date or date-time (expected ISO 8601 such as 2024-03-01 or 2024-03-01T09:15:00)",
    )?;
    let tpi = ts_parsed.clone().cast(DataType::Int64);
    lazy_problem(
        &mut ctx,
        sum("oor"),
        tpi.clone().lt(lit(lo)).or(tpi.gt(lit(hi))),
        Some(&tsu),
        Severity::Warning,
        "timestamp-out-of-range",
        &tsu,
        &format!("timestamp outside {range_text} (these rows are left out)"),
    )?;
    let null_types = agg
        .clone()
        .lazy()
        .filter(col("event_type").is_null())
        .select([col("n")])
        .collect()
        .ok()
        .and_then(|d| {
            d.column("n")
                .ok()
                .and_then(|c| c.get(0).ok())
                .and_then(|v| v.extract::<u64>())
        })
        .unwrap_or(0);
    lazy_problem(
        &mut ctx,
        null_types,
        col(&etu).is_null(),
        None,
        Severity::Error,
        "null-event-type",
        &etu,
        "empty event type",
    )?;
    if has_value {
        let vu = es.user_name("value");
        lazy_problem(
            &mut ctx,
            sum("bad_value"),
            col(vu)
                .is_not_null()
                .and(col(vu).cast(DataType::Float64).is_null()),
            Some(vu),
            Severity::Error,
            "bad-number",
            vu,
            "not a number",
        )?;
        let v = col(vu).cast(DataType::Float64);
        lazy_problem(
            &mut ctx,
            sum("nonfinite_value"),
            v.clone().is_not_null().and(v.is_finite().not()),
            Some(vu),
            Severity::Warning,
            "non-finite-number",
            vu,
            "NaN or infinite value, treated as missing (no scoring rule reads values)",
        )?;
    }
    let id_expr_e = id_expr(idu, schema.get(idu).unwrap_or(&DataType::String), int_ids);
    lazy_problem(
        &mut ctx,
        sum("id_null"),
        id_expr_e.clone().is_null(),
        None,
        Severity::Warning,
        "null-lead-id",
        idu,
        "empty lead id (these rows are left out)",
    )?;
    if ts_text {
        lazy_problem(
            &mut ctx,
            sum("ts_offset"),
            timeparse::with_offset_expr(&tsu).is_not_null(),
            Some(&tsu),
            Severity::Warning,
            "time-zone-offset",
            &tsu,
            OFFSET_NOTE,
        )?;
    }
    let early = sum("early");
    if early > 0 {
        let ex = lf
            .clone()
            .with_row_index(ROW, None)
            .select([
                col(ROW),
                id_expr_e.clone().alias("lead_id"),
                sel[1].clone().alias("__t"),
                col(&tsu).cast(DataType::String).alias("__v"),
            ])
            .join(
                known.clone(),
                [col("lead_id")],
                [col("lead_id")],
                JoinArgs::new(JoinType::Inner).with_build_side(Some(JoinBuildSide::ForceRight)),
            )
            .filter(
                col("__t")
                    .cast(DataType::Int64)
                    .lt(col("__created").cast(DataType::Int64)),
            )
            .sort([ROW], Default::default())
            .limit(MAX_EXAMPLES as IdxSize)
            .collect()
            .map_err(read_err(es))?;
        ctx.report_rows(
            early,
            &ex,
            Severity::Warning,
            "event-before-lead",
            &tsu,
            "event before its lead was created (kept: activity recorded before the lead, such as an anonymous visit, counts like any other event)",
        )?;
    }
    let unknown = sum("unknown") - sum("id_null_valid");
    if unknown > 0 {
        let ids = lf
            .clone()
            .select([
                id_expr(idu, schema.get(idu).unwrap_or(&DataType::String), int_ids)
                    .alias("lead_id"),
            ])
            .join(
                known.clone(),
                [col("lead_id")],
                [col("lead_id")],
                JoinArgs::new(JoinType::Left).with_build_side(Some(JoinBuildSide::ForceRight)),
            )
            .filter(col("__created").is_null().and(col("lead_id").is_not_null()))
            .select([col("lead_id").n_unique().alias("n")])
            .collect_with_engine(Engine::Streaming)
            .map_err(read_err(es))?
            .unwrap_single();
        let distinct = ids
            .column("n")
            .ok()
            .and_then(|c| c.get(0).ok())
            .and_then(|v| v.extract::<u64>())
            .unwrap_or(0);
        ctx.push(Severity::Warning, "unknown-lead", Some(idu), unknown, vec![],
                        format!("column `{idu}`: {} event(s) of {} lead id(s) not in the leads table; they are counted here and left out of the analysis", thousands(unknown), thousands(distinct)));
    }
    let valid_total = sum("valid");
    let mins: Vec<i64> = agg
        .column("min")
        .ok()
        .and_then(|c| c.cast(&DataType::Int64).ok())
        .map(|c| {
            c.i64()
                .map(|a| a.iter().flatten().collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let maxs: Vec<i64> = agg
        .column("max")
        .ok()
        .and_then(|c| c.cast(&DataType::Int64).ok())
        .map(|c| {
            c.i64()
                .map(|a| a.iter().flatten().collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let (emin, emax) = (mins.iter().min().copied(), maxs.iter().max().copied());

    report.tables.push(TableReport {
        table: Table::Events,
        file: es.display(),
        format: fmt_name(&es.format),
        rows: total,
        rows_used: valid_total - sum("unknown"),
        first: emin.map(timeparse::display_micros),
        last: emax.map(timeparse::display_micros),
    });
    report.event_types = counts(&agg, "event_type", "valid")?;
    let tsc = col("occurred_at").cast(DataType::Int64);
    let events = canon.filter(
        col("occurred_at")
            .is_not_null()
            .and(tsc.clone().gt_eq(lit(lo)))
            .and(tsc.lt_eq(lit(hi)))
            .and(col("event_type").is_not_null()),
    );
    Ok((events, emax))
}

/// Check the outcomes table and return its valid rows with the latest valid timestamp.
fn load_outcomes(
    os: &TableSpec,
    lf: LazyFrame,
    schema: &Schema,
    ts: Expr,
    shared: &Shared,
    problems: &mut Vec<Problem>,
    report: &mut LoadReport,
) -> Result<(DataFrame, Option<i64>)> {
    let Shared {
        int_ids,
        known,
        lo,
        hi,
        range_text,
    } = shared;
    let (int_ids, lo, hi) = (*int_ids, *lo, *hi);

    let idu = os.user_name("lead_id");
    let tsu = os.user_name("reached_at").to_string();
    let stu = os.user_name("stage").to_string();
    let mut sel = vec![
        col(ROW),
        id_expr(idu, schema.get(idu).unwrap_or(&DataType::String), int_ids).alias("lead_id"),
        col(&stu)
            .cast(DataType::String)
            .str()
            .strip_chars(lit(NULL))
            .alias("stage"),
        ts.alias("reached_at"),
        col(&tsu).alias("__ts_raw"),
    ];
    let has_amount = schema.get(os.user_name("amount")).is_some();
    if has_amount {
        let au = os.user_name("amount");
        sel.push(col(au).cast(DataType::Float64).alias("amount"));
        sel.push(
            col(au)
                .is_not_null()
                .and(col(au).cast(DataType::Float64).is_null())
                .alias("__bad_amount"),
        );
    }
    let df = lf
        .with_row_index(ROW, None)
        .select(sel)
        .join(
            known.clone(),
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Left),
        )
        .sort([ROW], Default::default())
        .collect()
        .map_err(read_err(os))?;
    let mut ctx = Ctx { spec: os, problems };
    if df.height() == 0 {
        ctx.push(
            Severity::Error,
            "empty-table",
            None,
            0,
            vec![],
            "the outcomes table has a header but no rows".into(),
        );
    }
    ctx.rows_problem(
        &df,
        col("stage").is_null(),
        Severity::Error,
        "null-stage",
        &stu,
        None,
        "empty stage",
    )?;
    ctx.rows_problem(
        &df,
        col("__ts_raw").is_null(),
        Severity::Error,
        "null-timestamp",
        &tsu,
        None,
        "empty timestamp",
    )?;
    ctx.rows_problem(
        &df,
        col("__ts_raw")
            .is_not_null()
            .and(col("reached_at").is_null()),
        Severity::Error,
        "bad-timestamp",
        &tsu,
        Some("__ts_raw"),
        "not a date or date-time (expected ISO 8601 such as 2024-03-01 or 2024-03-01T09:15:00)",
    )?;
    let tsi = col("reached_at").cast(DataType::Int64);
    let oor = tsi.clone().lt(lit(lo)).or(tsi.gt(lit(hi)));
    ctx.rows_problem(
        &df,
        oor.clone(),
        Severity::Warning,
        "timestamp-out-of-range",
        &tsu,
        Some("__ts_raw"),
        &format!("timestamp outside {range_text} (these rows are left out)"),
    )?;
    if has_amount {
        ctx.rows_problem(
            &df,
            col("__bad_amount"),
            Severity::Error,
            "bad-number",
            os.user_name("amount"),
            None,
            "amount is not a number",
        )?;
    }
    ctx.rows_problem(
        &df,
        col("__created").is_null().and(col("lead_id").is_not_null()),
        Severity::Warning,
        "unknown-lead",
        idu,
        Some("lead_id"),
        "lead id not in the leads table (counted and left out)",
    )?;
    if schema.get(&tsu) == Some(&DataType::String) {
        ctx.rows_problem(
            &df,
            timeparse::with_offset_expr("__ts_raw").is_not_null(),
            Severity::Warning,
            "time-zone-offset",
            &tsu,
            Some("__ts_raw"),
            OFFSET_NOTE,
        )?;
    }
    ctx.rows_problem(
        &df,
        col("reached_at")
            .cast(DataType::Int64)
            .lt(col("__created").cast(DataType::Int64))
            .fill_null(false),
        Severity::Warning,
        "outcome-before-lead",
        &tsu,
        Some("__ts_raw"),
        "stage reached before its lead was created (kept: a lead that reaches the target stage before its snapshot counts as having come in hot)",
    )?;
    contradictory_stages(&mut ctx, &df, &stu)?;
    let mut keep = vec![col("lead_id"), col("stage"), col("reached_at")];
    if has_amount {
        keep.push(col("amount"));
    }
    let valid = df
        .clone()
        .lazy()
        .filter(
            col("__created")
                .is_not_null()
                .and(col("stage").is_not_null())
                .and(col("reached_at").is_not_null())
                .and(oor.not()),
        )
        .select(keep)
        .collect()
        .map_err(Error::polars("filtering outcomes"))?;
    let (omin, omax) = minmax(&valid, "reached_at")?;

    report.tables.push(TableReport {
        table: Table::Outcomes,
        file: os.display(),
        format: fmt_name(&os.format),
        rows: df.height() as u64,
        rows_used: valid.height() as u64,
        first: omin.map(timeparse::display_micros),
        last: omax.map(timeparse::display_micros),
    });
    Ok((valid, omax))
}

/// Warn about leads that reached both `won` and `lost` (any letter case): the label only asks
/// whether the target stage was reached, so the lead is kept, but the CRM disagrees with itself.
fn contradictory_stages(ctx: &mut Ctx, df: &DataFrame, stage_user: &str) -> Result<()> {
    let lower = col("stage").str().to_lowercase();
    let both = df
        .clone()
        .lazy()
        .filter(
            col("lead_id")
                .is_not_null()
                .and(col("__created").is_not_null()),
        )
        .group_by([col("lead_id")])
        .agg([
            lower.clone().eq(lit("won")).any(true).alias("won"),
            lower.eq(lit("lost")).any(true).alias("lost"),
            col(ROW).min().alias("first"),
            col(ROW)
                .sort(Default::default())
                .head(Some(3))
                .alias("rows"),
        ])
        .filter(col("won").and(col("lost")))
        .sort(["first"], Default::default())
        .collect()
        .map_err(Error::polars("finding contradictory stages"))?;
    let n = both.height() as u64;
    if n == 0 {
        return Ok(());
    }
    let ids = both
        .column("lead_id")
        .and_then(|c| c.cast(&DataType::String))
        .map_err(Error::polars("contradictory stages"))?;
    let ids = ids.str().map_err(Error::polars("contradictory stages"))?;
    let rows = both
        .column("rows")
        .and_then(|c| c.list().cloned())
        .map_err(Error::polars("contradictory stages"))?;
    let examples = ctx.id_examples(ids, &rows);
    let message = format!(
        "column `{stage_user}`: {} lead(s) reached both `won` and `lost`: {} (kept: a lead counts as converted when it reached the target stage)",
        thousands(n),
        list_examples(&examples, n)
    );
    ctx.push(
        Severity::Warning,
        "won-and-lost",
        Some(stage_user),
        n,
        examples,
        message,
    );
    Ok(())
}

fn fmt_name(f: &Format) -> &'static str {
    match f {
        Format::Csv { .. } => "csv",
        Format::Parquet => "parquet",
    }
}

fn minmax(df: &DataFrame, c: &str) -> Result<(Option<i64>, Option<i64>)> {
    let s = df
        .column(c)
        .map_err(Error::polars("min/max"))?
        .cast(&DataType::Int64)
        .map_err(Error::polars("min/max"))?;
    let a = s.i64().map_err(Error::polars("min/max"))?;
    Ok((a.min(), a.max()))
}

/// `value`/`count` pairs sorted by count, descending, then value.
fn counts(df: &DataFrame, key: &str, n: &str) -> Result<Vec<Count>> {
    let keys = df
        .column(key)
        .map_err(Error::polars("counts"))?
        .cast(&DataType::String)
        .map_err(Error::polars("counts"))?;
    let keys = keys.str().map_err(Error::polars("counts"))?.clone();
    let ns = df
        .column(n)
        .map_err(Error::polars("counts"))?
        .cast(&DataType::UInt64)
        .map_err(Error::polars("counts"))?;
    let ns = ns.u64().map_err(Error::polars("counts"))?.clone();
    let mut out: Vec<Count> = keys
        .iter()
        .zip(ns.iter())
        .filter_map(|(k, n)| {
            Some(Count {
                value: k?.to_string(),
                count: n.unwrap_or(0),
            })
        })
        .filter(|c| c.count > 0)
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    Ok(out)
}

/// The warning for date-times with an offset (see [`timeparse::with_offset_expr`]).
const OFFSET_NOTE: &str = "date-time with a time-zone offset, converted to UTC (values without an offset are read as they are)";

/// Whether a leads column is personal data by its name (an email address, a person's name,
/// a phone number, an address, free-text notes): such columns are never attributes, so no
/// segment, account view or report can show them.
pub fn is_personal(column: &str) -> bool {
    let n: String = column
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    const EXACT: &[&str] = &[
        "email",
        "mail",
        "emailaddress",
        "name",
        "firstname",
        "lastname",
        "fullname",
        "surname",
        "givenname",
        "familyname",
        "phone",
        "mobile",
        "telephone",
        "tel",
        "fax",
        "address",
        "street",
        "streetaddress",
        "postcode",
        "postalcode",
        "zip",
        "zipcode",
        "notes",
        "note",
        "comment",
        "comments",
        "description",
        "linkedin",
        "linkedinurl",
        "twitter",
        "ip",
        "ipaddress",
        "birthday",
        "birthdate",
        "dateofbirth",
        "dob",
        "ssn",
        "salutation",
    ];
    const SUFFIX: &[&str] = &[
        "email",
        "emailaddress",
        "name",
        "phone",
        "phonenumber",
        "mobile",
    ];
    EXACT.contains(&n.as_str()) || SUFFIX.iter().any(|s| n.len() > s.len() && n.ends_with(s))
}

/// Values longer than this (characters) in a text attribute are reported.
const LONG_VALUE: u32 = 1_000;

/// Whether a numeric attribute counts something that cannot be negative (a company's size).
fn is_size(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with("size") || n.contains("employees") || n.contains("headcount")
}

/// Warn about attribute values that are present but unusable, and make them missing: NaN and
/// infinities in numeric columns, negative sizes. Also warn about columns with no value at all
/// and about very long texts (kept). `leads` still carries the row index.
fn check_attributes(
    ctx: &mut Ctx,
    leads: DataFrame,
    attributes: &[(String, AttributeKind)],
) -> Result<DataFrame> {
    let mut fixes = Vec::new();
    for (name, kind) in attributes {
        let c = col(name.as_str());
        let column = leads.column(name).map_err(Error::polars("attribute"))?;
        if column.null_count() == column.len() {
            ctx.push(
                Severity::Warning,
                "empty-column",
                Some(name),
                leads.height() as u64,
                vec![],
                format!("column `{name}` is empty in every row; it carries no information"),
            );
            continue;
        }
        let mut bad: Option<Expr> = None;
        if *kind == AttributeKind::Float {
            let m = c.clone().is_not_null().and(c.clone().is_finite().not());
            ctx.rows_problem(
                &leads,
                m.clone(),
                Severity::Warning,
                "non-finite-number",
                name,
                Some(name),
                "NaN or infinite value, treated as missing",
            )?;
            bad = Some(m);
        }
        if matches!(kind, AttributeKind::Float | AttributeKind::Integer) && is_size(name) {
            let m = c.clone().lt(lit(0)).fill_null(false);
            ctx.rows_problem(
                &leads,
                m.clone(),
                Severity::Warning,
                "negative-size",
                name,
                Some(name),
                "negative size, treated as missing",
            )?;
            bad = Some(match bad {
                Some(b) => b.or(m),
                None => m,
            });
        }
        if *kind == AttributeKind::Text {
            ctx.rows_problem(
                &leads,
                c.clone()
                    .str()
                    .len_chars()
                    .gt(lit(LONG_VALUE))
                    .fill_null(false),
                Severity::Warning,
                "long-value",
                name,
                Some(name),
                &format!(
                    "value longer than {} characters (kept; tables and charts show its start)",
                    thousands(LONG_VALUE as u64)
                ),
            )?;
        }
        if let Some(b) = bad {
            fixes.push(
                when(b)
                    .then(lit(NULL).cast(column.dtype().clone()))
                    .otherwise(c)
                    .alias(name.as_str()),
            );
        }
    }
    if fixes.is_empty() {
        return Ok(leads);
    }
    leads
        .lazy()
        .with_columns(fixes)
        .collect()
        .map_err(Error::polars("clearing unusable attribute values"))
}

/// Decide an attribute's type: text columns whose values all parse as integers, floats or
/// booleans become that type. `NA` and other words keep a column textual.
fn infer_attribute(name: &str, dtype: &DataType, df: &DataFrame) -> Result<(AttributeKind, Expr)> {
    let c = col(name);
    match dtype {
        DataType::Boolean => return Ok((AttributeKind::Bool, c)),
        d if d.is_integer() => return Ok((AttributeKind::Integer, c.cast(DataType::Int64))),
        d if d.is_float() => return Ok((AttributeKind::Float, c.cast(DataType::Float64))),
        DataType::String => {}
        _ => return Ok((AttributeKind::Text, c.cast(DataType::String))),
    }
    let t = c.clone().str().strip_chars(lit(NULL));
    let lower = t.clone().str().to_lowercase();
    let is_bool = lower
        .clone()
        .eq(lit("true"))
        .or(lower.clone().eq(lit("false")));
    let stats = df
        .clone()
        .lazy()
        .select([
            t.clone().is_not_null().sum().alias("nn"),
            t.clone()
                .cast(DataType::Int64)
                .is_not_null()
                .sum()
                .alias("int"),
            t.clone()
                .cast(DataType::Float64)
                .is_not_null()
                .sum()
                .alias("float"),
            is_bool.clone().fill_null(false).sum().alias("bool"),
        ])
        .collect()
        .map_err(Error::polars("inferring attribute types"))?;
    let get = |k: &str| {
        stats
            .column(k)
            .ok()
            .and_then(|s| s.get(0).ok())
            .and_then(|v| v.extract::<u64>())
            .unwrap_or(0)
    };
    let nn = get("nn");
    Ok(if nn > 0 && get("int") == nn {
        (AttributeKind::Integer, t.cast(DataType::Int64))
    } else if nn > 0 && get("float") == nn {
        (AttributeKind::Float, t.cast(DataType::Float64))
    } else if nn > 0 && get("bool") == nn {
        (AttributeKind::Bool, lower.eq(lit("true")))
    } else {
        (AttributeKind::Text, t)
    })
}
