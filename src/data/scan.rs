//! Opening a table and reporting its problems: the lazy scan (CSV: every column as text),
//! polars' read errors in words a person can act on, and the context that records a problem
//! with the file, column, affected rows and examples.
//!
//! Input: one [`TableSpec`]. Output: a lazy frame with its schema, or a recorded problem when
//! the table cannot be used at all. Guarantees: rows are named as a text editor counts lines
//! (a quoted newline makes a row span lines) or as Parquet rows.

use polars::prelude::*;

use super::problem::{MAX_EXAMPLES, Problem, Severity, list_examples};
use super::sniff;
use super::table::{Format, Table, TableSpec};
use super::types::Count;
use crate::error::{Error, Result};
use crate::format::thousands;
use crate::timeparse::{self, DateForm};

/// The row-index column every check carries to name rows.
pub(super) const ROW: &str = "__row";

pub(super) fn row_label(format: &Format, idx: u64) -> String {
    match format {
        Format::Csv { .. } => format!("line {}", idx + 2),
        Format::Parquet => format!("row {}", idx + 1),
        // The header is row 1.
        Format::Xlsx { sheet } => format!("sheet `{sheet}` row {}", idx + 2),
    }
}

/// How a CSV table's fields are read, by polars' scan and by the events' chunked reader
/// alike: the file's `delimiter`, and the declared null markers besides the empty field.
pub(super) fn csv_parse_options(spec: &TableSpec, delimiter: u8) -> CsvParseOptions {
    // A quoted empty field (`""`, as Salesforce writes every empty value) is as empty as an
    // unquoted one: without "" among the null values, polars reads it as the empty text,
    // which would count as a value (a conversion date, a stage).
    let nulls = NullValues::AllColumns(
        std::iter::once("")
            .chain(spec.null_values.iter().map(String::as_str))
            .map(Into::into)
            .collect(),
    );
    CsvParseOptions::default()
        .with_separator(delimiter)
        .with_null_values(Some(nulls))
        .with_missing_is_null(true)
}

pub(super) fn read_err(spec: &TableSpec) -> impl FnOnce(PolarsError) -> Error + '_ {
    move |e| Error::Input {
        path: spec.shown.clone(),
        message: explain_read_error(spec, &e.to_string())
            .unwrap_or_else(|| format!("cannot read the {} table: {e}", spec.table.name())),
    }
}

/// A message a person can act on for the CSV reader's failures that polars words for a
/// programmer: bytes that are not UTF-8, and a field that cannot be read (an unclosed quote).
pub(super) fn explain_read_error(spec: &TableSpec, polars: &str) -> Option<String> {
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
    let delim = || {
        sniff::sniff(&spec.path, delimiter)
            .map(|s| s.delimiter)
            .unwrap_or(b',')
    };
    if polars.contains("invalid utf-8") {
        let (line, field, byte) = sniff::first_invalid_utf8(&spec.path, delim()).ok()??;
        let column = header(field).map_or(String::new(), |h| format!(", column `{h}`"));
        let guess = super::encoding::head(&spec.path)
            .map(|h| super::encoding::guess(&h))
            .unwrap_or("windows-1252");
        return Some(format!(
            "line {line}{column}: byte 0x{byte:02X} is not UTF-8. The file is most likely \
             {guess} text (what Excel writes for \"CSV (Trennzeichen-getrennt)\"): add \
             `encoding = \"{guess}\"` to its table in dataset.toml (leadcal init does), or save \
             it as UTF-8 (Excel: \"CSV UTF-8\")"
        ));
    }
    let malformed = polars.contains("CSV malformed");
    // `at`: the lines of the quotes, or the range of lines that holds them.
    let stray = |at: String| {
        format!(
            "{at}: a double quote inside a field that does not start with one (as in \
             `5\" screen`) makes the rows ambiguous; quote that field (`\"5\"\" screen\"`) or \
             remove the quote"
        )
    };
    let lines = |lines: &[u64]| {
        let shown: Vec<String> = lines.iter().map(u64::to_string).collect();
        let s = if lines.len() > 1 { "s" } else { "" };
        format!("line{s} {}", shown.join(", "))
    };
    if (polars.contains("could not parse") || malformed)
        && let Ok(Some(line)) = sniff::unclosed_quote(&spec.path)
    {
        // An odd number of quotes: a stray one inside a field, or one that opens a field.
        if let Ok(found) = sniff::stray_quote_lines(&spec.path, delim(), (0, u64::MAX), 3)
            && !found.is_empty()
        {
            return Some(stray(lines(&found)));
        }
        return Some(format!(
            "line {line}: a field opens a quote (\") that is never closed, so the rest of the \
             file reads as one field; close the quote or remove it"
        ));
    }
    // The rows the line counter finds are not those the field parser reads: quotes inside
    // fields, an even number of them (an odd one is the unclosed quote above). The failed
    // chunk's bytes hold the first of them.
    if malformed {
        let number = |after: &str, until: char| -> Option<u64> {
            polars
                .split(after)
                .nth(1)?
                .split(until)
                .next()?
                .trim()
                .parse()
                .ok()
        };
        let (offset, len) = (number("byte offset ", ',')?, number("length ", ' ')?);
        if let Ok(found) = sniff::stray_quote_lines(&spec.path, delim(), (offset, offset + len), 3)
            && !found.is_empty()
        {
            return Some(stray(lines(&found)));
        }
        let first = sniff::line_of_offset(&spec.path, offset).ok()?;
        let last = sniff::line_of_offset(&spec.path, offset + len.saturating_sub(1)).ok()?;
        return Some(stray(format!("lines {first}–{last}")));
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

pub(super) struct Ctx<'a> {
    pub spec: &'a TableSpec,
    pub problems: &'a mut Vec<Problem>,
}

impl Ctx<'_> {
    /// How the file's rows `idx` (0-based data rows) are named: CSV lines as a text editor
    /// counts them (a quoted field with a newline inside makes a row span lines), Parquet rows.
    pub(super) fn labels(&self, idx: &[u64]) -> Vec<String> {
        let lines = match self.spec.format {
            Format::Csv { .. } => sniff::record_lines(&self.spec.path, idx).unwrap_or_default(),
            Format::Parquet | Format::Xlsx { .. } => vec![],
        };
        idx.iter()
            .map(|&i| match lines.iter().find(|(r, _)| *r == i) {
                Some((_, line)) => format!("line {line}"),
                None => row_label(&self.spec.format, i),
            })
            .collect()
    }

    /// "`id` (line 4, line 8)" for the first few of `ids`, each with its list of row indices.
    pub(super) fn id_examples(&self, ids: &StringChunked, rows: &ListChunked) -> Vec<String> {
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

    pub(super) fn push(
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
    pub(super) fn rows_problem(
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

    /// The checks of a time column of an in-memory frame: values written with slashes (an
    /// error asking for the format, unless one is declared), values that cannot be read (an
    /// error naming the expected form), values read as day.month.year (counted). `parsed` is
    /// the parsed column, `raw` the text as read; `what` prefixes the messages.
    pub(super) fn time_problems(
        &mut self,
        df: &DataFrame,
        (parsed, raw): (&str, &str),
        user: &str,
        form: &DateForm,
        what: &str,
    ) -> Result<()> {
        let unread = col(raw).is_not_null().and(col(parsed).is_null());
        // Typed times (Parquet) are never written with slashes or dots.
        let text = df.column(raw).is_ok_and(|c| c.dtype() == &DataType::String);
        let unread = if !text || matches!(form, DateForm::Declared(_)) {
            unread
        } else {
            let slashed = timeparse::slashed_expr(raw);
            self.rows_problem(
                df,
                unread.clone().and(slashed.clone()),
                Severity::Error,
                "ambiguous-date",
                user,
                Some(raw),
                &format!("{what}{}", ambiguous_time(self.spec, user)),
            )?;
            unread.and(slashed.not())
        };
        self.rows_problem(
            df,
            unread,
            Severity::Error,
            "bad-timestamp",
            user,
            Some(raw),
            &format!("{what}{}", expected_time(form)),
        )?;
        if text && matches!(form, DateForm::IsoOrDotted | DateForm::Dotted) {
            self.rows_problem(
                df,
                timeparse::dotted_expr(raw).and(col(parsed).is_not_null()),
                Severity::Warning,
                "dotted-date",
                user,
                Some(raw),
                DOTTED_NOTE,
            )?;
        }
        Ok(())
    }

    /// Record `n` affected rows, naming the first few of `bad` (a frame with the row index and,
    /// optionally, the offending value as `__v`).
    pub(super) fn report_rows(
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
pub(super) fn scan(
    spec: &TableSpec,
    problems: &mut Vec<Problem>,
) -> Result<Option<(LazyFrame, Schema)>> {
    let mut ctx = Ctx { spec, problems };
    let path_str = spec.path.to_str().ok_or_else(|| Error::Input {
        path: spec.shown.clone(),
        message: "the path is not valid UTF-8".into(),
    })?;
    if !spec.path.is_file() {
        return Err(Error::Input {
            path: spec.shown.clone(),
            message: format!("the {} file does not exist", spec.table.name()),
        });
    }
    if spec.footer_lines > 0 {
        ctx.push(
            Severity::Warning,
            "report-footer",
            None,
            spec.footer_lines as u64,
            vec![],
            format!(
                "the last {} lines are the footer a Salesforce report export appends (a blank line, the report's name, copyright, \"Generated By\", the org): not rows, skipped",
                spec.footer_lines
            ),
        );
    }
    let lf = match &spec.format {
        Format::Csv { delimiter } => {
            let s = sniff::sniff(&spec.path, *delimiter)
                .map_err(Error::read(&spec.shown, "cannot read"))?;
            if let Some(bad) = &s.not_utf8 {
                ctx.push(
                    Severity::Error,
                    "not-utf8",
                    None,
                    0,
                    vec![format!("line {}", bad.line)],
                    not_utf8_message(bad),
                );
                return Ok(None);
            }
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
            let parse = csv_parse_options(spec, s.delimiter);
            LazyCsvReader::new(PlRefPath::from(path_str))
                .with_separator(parse.separator)
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .with_null_values(parse.null_values)
                .with_missing_is_null(parse.missing_is_null)
                .with_raise_if_empty(false)
                .finish()
                .map_err(read_err(spec))?
        }
        Format::Parquet => {
            LazyFrame::scan_parquet(PlRefPath::from(path_str), ScanArgsParquet::default())
                .map_err(read_err(spec))?
        }
        Format::Xlsx { sheet } => {
            let s = super::xlsx::read(&spec.path, sheet)?;
            if s.frame.width() == 0 {
                ctx.push(
                    Severity::Error,
                    "empty-table",
                    None,
                    0,
                    vec![],
                    format!(
                        "sheet `{sheet}`: the {} table is empty: no header and no rows",
                        spec.table.name()
                    ),
                );
                return Ok(None);
            }
            if s.error_cells > 0 {
                ctx.push(
                    Severity::Warning,
                    "excel-error-cell",
                    None,
                    s.error_cells,
                    vec![],
                    format!(
                        "sheet `{sheet}`: {} cell(s) hold an Excel error (#N/A, #DIV/0!, ...); they are read as empty",
                        thousands(s.error_cells)
                    ),
                );
            }
            // The declared null markers, as the CSV reader applies them.
            let markers = Series::new("m".into(), spec.null_values.clone());
            let unmarked: Vec<Expr> = s
                .frame
                .get_column_names()
                .iter()
                .map(|c| {
                    when(col(c.as_str()).is_in(lit(markers.clone()).implode(false), false))
                        .then(lit(NULL).cast(DataType::String))
                        .otherwise(col(c.as_str()))
                        .alias(c.as_str())
                })
                .collect();
            let lf = s.frame.lazy();
            if spec.null_values.is_empty() {
                lf
            } else {
                lf.with_columns(unmarked)
            }
        }
    };
    let mut lf = lf;
    let schema = lf
        .collect_schema()
        .map_err(read_err(spec))?
        .as_ref()
        .clone();
    let required = spec.required();
    let mut missing: Vec<String> = required
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
    missing.extend(
        spec.stage_dates
            .iter()
            .filter(|(_, c)| schema.get(c).is_none())
            .map(|(s, c)| format!("`{c}` (the date of stage `{s}`)")),
    );
    if let Some(p) = &spec.pipeline {
        for (c, what) in [
            (&p.stage_column, "stage_column"),
            (&p.stage_date, "stage_date"),
        ] {
            if schema.get(c).is_none() {
                missing.push(format!("`{c}` (the pipeline's {what})"));
            }
        }
    }
    if let Some(a) = &spec.activity {
        let mut cols = vec![(&a.type_column, "activity.type_column")];
        if a.stage_key.is_some() {
            cols.push((&a.attributes_column, "activity.attributes_column"));
        }
        if let Some((c, _)) = &a.fields {
            cols.push((c, "activity.field_column"));
        }
        for (c, what) in cols {
            if schema.get(c).is_none() {
                missing.push(format!("`{c}` ({what})"));
            }
        }
    }
    missing.extend(
        spec.date_formats
            .keys()
            .map(|c| (c, "date_formats"))
            .chain(spec.number_formats.keys().map(|c| (c, "number_formats")))
            .filter(|(c, _)| schema.get(c.as_str()).is_none())
            .map(|(c, list)| format!("`{c}` (named in {list})")),
    );
    if !missing.is_empty() {
        let have: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
        // A table of won deals has no stage column: say how to give its one stage.
        let stage_hint = if spec.table == Table::Outcomes
            && missing.iter().any(|m| m.starts_with("`stage`"))
        {
            ". A table whose rows all have one stage (won deals) takes `stage = \"won\"` in its [outcomes] section instead of a stage column; an activity log takes [outcomes.activity] (see docs/crm-exports.md)"
        } else {
            ""
        };
        ctx.push(
            Severity::Error,
            "missing-column",
            None,
            0,
            vec![],
            format!(
                "missing required column(s) {}; the file has: {}{stage_hint}",
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
pub(super) fn id_expr(user: &str, dtype_in: &DataType, int_ids: bool) -> Expr {
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

/// A time column's parsing expression and the text form it reads.
pub(super) struct TimeColumn {
    pub expr: Expr,
    pub form: DateForm,
}

/// How many of a column's first values decide whether it is written day.month.year.
const FORM_SAMPLE: IdxSize = 10_000;

/// The form a text time column is read in: the declared format, else ISO 8601, or ISO and
/// day.month.year when one of the column's first values is written that way.
fn date_form(spec: &TableSpec, lf: &LazyFrame, user: &str) -> DateForm {
    if let Some(f) = spec.date_format_of(user) {
        return DateForm::Declared(f.to_string());
    }
    // Streamed, the scan stops once it has the sample (the in-memory engine reads the file).
    let sample = lf
        .clone()
        .select([col(user).cast(DataType::String)])
        .filter(col(user).is_not_null())
        .limit(FORM_SAMPLE)
        .collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single());
    let (dotted, other) = sample
        .ok()
        .and_then(|d| {
            let c = d.column(user).ok()?;
            let s = c.str().ok()?;
            let dotted = s
                .iter()
                .flatten()
                .filter(|v| timeparse::looks_dotted(v))
                .count();
            Some((dotted, s.len() - s.null_count() - dotted))
        })
        .unwrap_or((0, 0));
    match (dotted, other) {
        (0, _) => DateForm::Iso,
        (_, 0) => DateForm::Dotted,
        _ => DateForm::IsoOrDotted,
    }
}

/// What a time value that cannot be read was expected to look like.
pub(super) fn expected_time(form: &DateForm) -> String {
    match form {
        DateForm::Declared(f) => format!("does not match the declared date format `{f}`"),
        DateForm::Iso => "not a date or date-time (expected ISO 8601 such as 2024-03-01 or 2024-03-01T09:15:00)".into(),
        DateForm::IsoOrDotted => "not a date or date-time (expected ISO 8601 such as 2024-03-01 or 2024-03-01T09:15:00, or 01.03.2024 with an optional 10:15[:00], as the column's other values)".into(),
        DateForm::Dotted => "not a date or date-time (expected 01.03.2024 with an optional 10:15[:00], as the column's first values; a column that mixes forms needs date_format)".into(),
    }
}

/// The problem text for dates written with slashes.
pub(super) fn ambiguous_time(spec: &TableSpec, user: &str) -> String {
    format!(
        "a date written with slashes (such as 03/04/2024) can be month/day or day/month, so it is not guessed; declare the format in dataset.toml: [{}.date_formats] \"{user}\" = \"%m/%d/%Y\" (or \"%d/%m/%Y\"; with \" %H:%M\" after it when the values carry a time such as 19:58, \" %H:%M:%S\" for 19:58:00)",
        spec.table.name()
    )
}

/// The note for values read as day.month.year.
pub(super) const DOTTED_NOTE: &str = "date written day.month.year (DD.MM.YYYY), read as such";

/// A coded column (`canonical` of `spec`, user name `user`) with its names: `lf` joined to the
/// code list, in its own row order, with the name as `__name` (null for an unlisted code).
/// Returns `lf` unchanged when the column has no code list.
pub(super) fn with_names(
    spec: &TableSpec,
    lf: LazyFrame,
    canonical: &str,
    user: &str,
) -> LazyFrame {
    let Some(map) = spec.codes.get(canonical) else {
        return lf;
    };
    let names = df!(
        "__code" => map.keys().cloned().collect::<Vec<_>>(),
        "__name" => map.values().cloned().collect::<Vec<_>>(),
    )
    .expect("two columns of one length");
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    lf.join(
        names.lazy(),
        [col(user)
            .cast(DataType::String)
            .str()
            .strip_chars(lit(NULL))],
        [col("__code")],
        args,
    )
}

/// The name of a coded value: its listed name, or the value itself (as text) when it is not
/// listed (it is reported) or the column has no code list.
pub(super) fn named(spec: &TableSpec, canonical: &str, user: &str) -> Expr {
    let text = col(user).cast(DataType::String);
    if spec.codes.contains_key(canonical) {
        coalesce(&[col("__name"), text])
    } else {
        text
    }
}

/// True for a value of a coded column that its code list does not hold.
pub(super) fn unlisted(spec: &TableSpec, canonical: &str, user: &str) -> Expr {
    if spec.codes.contains_key(canonical) {
        col("__name").is_null().and(col(user).is_not_null())
    } else {
        lit(false)
    }
}

/// The problem text for unlisted codes.
pub(super) fn unlisted_note(spec: &TableSpec, canonical: &str) -> String {
    format!(
        "code not in [{}.codes.{canonical}]; kept as it is, so only a rule or stage named by the code itself matches it",
        spec.table.name()
    )
}

/// The expression reading the time column `column` (canonical or a user name).
pub(super) fn time_expr(
    spec: &TableSpec,
    schema: &Schema,
    lf: &LazyFrame,
    column: &str,
    problems: &mut Vec<Problem>,
) -> Option<TimeColumn> {
    let user = spec.user_name(column);
    let dt = schema.get(user)?;
    let form = if dt == &DataType::String {
        date_form(spec, lf, user)
    } else {
        DateForm::Iso
    };
    match timeparse::cast_typed(user, dt, &form) {
        Some(expr) => Some(TimeColumn { expr, form }),
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

pub(super) fn fmt_name(f: &Format) -> &'static str {
    match f {
        Format::Csv { .. } => "csv",
        Format::Parquet => "parquet",
        Format::Xlsx { .. } => "xlsx",
    }
}

pub(super) fn minmax(df: &DataFrame, c: &str) -> Result<(Option<i64>, Option<i64>)> {
    let s = df
        .column(c)
        .map_err(Error::polars("min/max"))?
        .cast(&DataType::Int64)
        .map_err(Error::polars("min/max"))?;
    let a = s.i64().map_err(Error::polars("min/max"))?;
    Ok((a.min(), a.max()))
}

/// `value`/`count` pairs sorted by count, descending, then value.
pub(super) fn counts(df: &DataFrame, key: &str, n: &str) -> Result<Vec<Count>> {
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
pub(super) const OFFSET_NOTE: &str = "date-time with a time-zone offset, converted to UTC (values without an offset are read as they are)";

/// The names of a table's columns as its file has them; empty when the file cannot be read
/// (reading it later says why).
pub(super) fn header(spec: &TableSpec) -> Vec<String> {
    match &spec.format {
        Format::Csv { delimiter } => sniff::sniff(&spec.path, *delimiter)
            .map(|s| s.header)
            .unwrap_or_default(),
        Format::Parquet => spec
            .path
            .to_str()
            .and_then(|p| {
                LazyFrame::scan_parquet(PlRefPath::from(p), ScanArgsParquet::default())
                    .ok()?
                    .collect_schema()
                    .ok()
            })
            .map(|s| s.iter_names().map(|n| n.to_string()).collect())
            .unwrap_or_default(),
        Format::Xlsx { sheet } => super::xlsx::read(&spec.path, sheet)
            .map(|s| {
                s.frame
                    .get_column_names()
                    .iter()
                    .map(|n| n.to_string())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// What the events and outcomes checks need from the leads.
pub(super) struct Shared {
    pub int_ids: bool,
    /// Distinct lead ids with their `__created` time (never null), for joins that find unknown
    /// leads (null `__created` after a left join) and rows dated before their lead.
    pub known: LazyFrame,
    /// Each lead id's row in the checked leads frame, where its events are placed.
    pub index: std::sync::Arc<super::lead_index::LeadIndex>,
    /// For events keyed by another leads column: each key (trimmed, lower case) that belongs
    /// to exactly one lead, as `__key`, with its `__keyed_id`.
    pub keys: Option<LazyFrame>,
    pub bounds: Bounds,
}

/// A key value as it is matched: trimmed, in lower case (e-mail addresses differ in case
/// between systems).
pub(super) fn key_expr(column: &str) -> Expr {
    col(column)
        .cast(DataType::String)
        .str()
        .strip_chars(lit(NULL))
        .str()
        .to_lowercase()
}

/// The range of plausible timestamps (µs), and how a message words it.
pub(super) struct Bounds {
    pub lo: i64,
    pub hi: i64,
    pub range_text: String,
}

/// The message for a CSV header that is not UTF-8 text.
fn not_utf8_message(bad: &sniff::NotUtf8) -> String {
    let how = match bad.guess {
        "windows-1252" => "what Excel writes for \"CSV (Trennzeichen-getrennt)\"",
        _ => "what Excel writes for \"Unicode text\"",
    };
    format!(
        "line {}: the header is not UTF-8 text ({}). The file is most likely {} ({how}): add `encoding = \"{}\"` to its table in dataset.toml (leadcal init does), or save it as UTF-8 (Excel: \"CSV UTF-8\")",
        bad.line, bad.what, bad.guess, bad.guess
    )
}

/// The columns `names` of `df` as a frame of their own. Checks of one column run on such a
/// frame: a lazy query over a frame of thousands of columns plans every column, so a check
/// per column over the whole frame grows with the square of the column count.
pub(super) fn narrow(df: &DataFrame, names: &[&str]) -> Result<DataFrame> {
    let columns = names
        .iter()
        .map(|n| df.column(n).cloned())
        .collect::<PolarsResult<Vec<Column>>>()
        .map_err(Error::polars("selecting a column"))?;
    DataFrame::new(df.height(), columns).map_err(Error::polars("selecting a column"))
}
