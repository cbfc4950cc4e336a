//! Attribute typing and checks: which type each profile column of the leads has, and which of
//! its values are unusable.
//!
//! Input: the leads frame (text columns as read). Output: each attribute's [`AttributeKind`]
//! and cast expression; NaN, infinities and negative sizes made missing with a warning.
//! Guarantees: a column is numeric only when every non-empty value parses; nothing is dropped.

use polars::prelude::*;

use super::problem::Severity;
use super::scan::Ctx;
use super::table::NumberFormat;
use super::types::AttributeKind;
use crate::error::{Error, Result};
use crate::format::thousands;

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
pub(super) fn check_attributes(
    ctx: &mut Ctx,
    leads: DataFrame,
    attributes: &[(String, AttributeKind)],
) -> Result<DataFrame> {
    let mut fixes = Vec::new();
    for (name, kind) in attributes {
        let c = col(name.as_str());
        // Each column's checks run on it alone (see `narrow`).
        let full = &leads;
        let leads = super::scan::narrow(full, &[super::scan::ROW, name])?;
        let column = full.column(name).map_err(Error::polars("attribute"))?;
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
        // The longest value in bytes bounds its length in characters.
        let longest = column
            .as_materialized_series()
            .str()
            .ok()
            .and_then(|s| s.str_len_bytes().max())
            .unwrap_or(0);
        if *kind == AttributeKind::Text && longest > LONG_VALUE {
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
        if *kind == AttributeKind::Text {
            // A NUL byte is no text a CRM writes: a damaged or binary export (or UTF-16 read
            // as UTF-8). Such a value would be a group of its own.
            let m = c
                .clone()
                .map(
                    |c: Column| {
                        let out: BooleanChunked = c
                            .str()?
                            .iter()
                            .map(|v| Some(v.is_some_and(|s| s.contains('\0'))))
                            .collect();
                        Ok(out.with_name(c.name().clone()).into_column())
                    },
                    |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
                )
                .fill_null(false);
            let n = ctx.rows_problem(
                &leads,
                m.clone(),
                Severity::Warning,
                "nul-byte",
                name,
                None,
                "value holds a NUL byte (0x00), treated as missing: is the file damaged, or UTF-16 text?",
            )?;
            if n > 0 {
                bad = Some(match bad {
                    Some(b) => b.or(m),
                    None => m,
                });
            }
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
pub(super) fn infer_attribute(
    name: &str,
    dtype: &DataType,
    df: &DataFrame,
) -> Result<(AttributeKind, Expr)> {
    let c = col(name);
    match dtype {
        DataType::Boolean => return Ok((AttributeKind::Bool, c)),
        d if d.is_integer() => return Ok((AttributeKind::Integer, c.cast(DataType::Int64))),
        d if d.is_float() => return Ok((AttributeKind::Float, c.cast(DataType::Float64))),
        DataType::String => {}
        _ => return Ok((AttributeKind::Text, c.cast(DataType::String))),
    }
    let (counts, _) = text_counts(df, &[name])?;
    Ok(decide(name, counts[0]))
}

/// How many columns one query reads: a query per column costs its planning, a query of all
/// columns of a wide table plans thousands of expressions at once.
const COLUMNS_PER_QUERY: usize = 128;

/// Each text column's counts of non-empty values and of those that read as an integer, a
/// number and a boolean, over `df` (the columns' text trimmed, as the casts read it).
fn type_counts(df: &DataFrame, names: &[&str]) -> Result<Vec<[u64; 4]>> {
    let mut out = Vec::with_capacity(names.len());
    for chunk in names.chunks(COLUMNS_PER_QUERY) {
        // Each column trimmed once, then counted.
        let frame = super::scan::narrow(df, chunk)?.lazy().with_columns(
            chunk
                .iter()
                .map(|c| col(*c).str().strip_chars(lit(NULL)).alias(*c))
                .collect::<Vec<_>>(),
        );
        let exprs: Vec<Expr> = chunk
            .iter()
            .enumerate()
            .flat_map(|(k, c)| {
                let t = col(*c);
                let lower = t.clone().str().to_lowercase();
                let is_bool = lower.clone().eq(lit("true")).or(lower.eq(lit("false")));
                [
                    t.clone().is_not_null().sum().alias(format!("{k}_nn")),
                    t.clone()
                        .cast(DataType::Int64)
                        .is_not_null()
                        .sum()
                        .alias(format!("{k}_int")),
                    t.cast(DataType::Float64)
                        .is_not_null()
                        .sum()
                        .alias(format!("{k}_float")),
                    is_bool.fill_null(false).sum().alias(format!("{k}_bool")),
                ]
            })
            .collect();
        let s = frame
            .select(exprs)
            .collect()
            .map_err(Error::polars("inferring attribute types"))?;
        let get = |k: &str| {
            s.column(k)
                .ok()
                .and_then(|s| s.get(0).ok())
                .and_then(|v| v.extract::<u64>())
                .unwrap_or(0)
        };
        for k in 0..chunk.len() {
            out.push(["nn", "int", "float", "bool"].map(|w| get(&format!("{k}_{w}"))));
        }
    }
    Ok(out)
}

/// A column's non-empty values, and of those the integers, numbers and yes/no values.
type Counts = [u64; 4];

/// Each text column's counts (see [`type_counts`]) that decide its type: on the first
/// [`TYPE_SAMPLE`] rows, and over every row only for the types all those first values are
/// (a region column is settled by its first values, not four passes over all rows). Also
/// returns the first rows' counts.
fn text_counts(df: &DataFrame, names: &[&str]) -> Result<(Vec<Counts>, Vec<Counts>)> {
    let none_fits = |s: &[u64; 4]| s[0] > 0 && s[1..].iter().all(|&x| x < s[0]);
    let sample = df.head(Some(TYPE_SAMPLE as usize));
    let first = type_counts(&sample, names)?;
    let open: Vec<usize> = (0..names.len())
        .filter(|&k| !none_fits(&first[k]) && df.height() > sample.height())
        .collect();
    let full = type_counts(df, &open.iter().map(|&k| names[k]).collect::<Vec<_>>())?;
    let mut counts: Vec<[u64; 4]> = first
        .iter()
        .map(|s| if none_fits(s) { [s[0], 0, 0, 0] } else { *s })
        .collect();
    for (k, c) in open.iter().zip(full) {
        counts[*k] = c;
    }
    Ok((counts, first))
}

/// A text column's type from its counts: integer, number or yes/no when every non-empty
/// value is one, else text; with the expression that reads it so.
fn decide(name: &str, [nn, int, float, boolean]: [u64; 4]) -> (AttributeKind, Expr) {
    let t = col(name).str().strip_chars(lit(NULL));
    if nn > 0 && int == nn {
        (AttributeKind::Integer, t.cast(DataType::Int64))
    } else if nn > 0 && float == nn {
        (AttributeKind::Float, t.cast(DataType::Float64))
    } else if nn > 0 && boolean == nn {
        (AttributeKind::Bool, t.str().to_lowercase().eq(lit("true")))
    } else {
        (AttributeKind::Text, t)
    }
}

/// The types of the text columns `names` of `df`, decided as [`infer_attribute`] decides one,
/// with a few queries for all of them; and the columns read as text although most of their
/// values are numbers (a `type-flip` warning each, naming the values that are not).
pub(super) fn infer_text_attributes(
    ctx: &mut Ctx,
    df: &DataFrame,
    names: &[&str],
) -> Result<Vec<(AttributeKind, Expr)>> {
    let (counts, first) = text_counts(df, names)?;
    let kinds: Vec<(AttributeKind, Expr)> = names
        .iter()
        .zip(&counts)
        .map(|(name, c)| decide(name, *c))
        .collect();
    // Text columns whose first values are mostly numbers: are they numbers but for a few?
    let suspects: Vec<usize> = (0..names.len())
        .filter(|&k| {
            kinds[k].0 == AttributeKind::Text && first[k][0] > 0 && 2 * first[k][2] >= first[k][0]
        })
        .collect();
    let whole = type_counts(df, &suspects.iter().map(|&k| names[k]).collect::<Vec<_>>())?;
    for (&k, c) in suspects.iter().zip(whole) {
        let (nn, num) = (c[0], c[2]);
        if num < 5 || (num as f64) < FLIP_SHARE * nn as f64 || num == nn {
            continue;
        }
        let name = names[k];
        let t = col(name).str().strip_chars(lit(NULL));
        ctx.rows_problem(
            &super::scan::narrow(df, &[super::scan::ROW, name])?,
            t.clone().is_not_null().and(t.cast(DataType::Float64).is_null()),
            Severity::Warning,
            "type-flip",
            name,
            Some(name),
            &format!(
                "not a number in a column whose other {} values are numbers, so the whole column is read as text (fix these values, or list them under null_values)",
                thousands(num)
            ),
        )?;
    }
    Ok(kinds)
}

/// A column this share of whose values are numbers, but not all, gets a `type-flip` warning.
const FLIP_SHARE: f64 = 0.8;

/// How many first rows decide that a text column is text.
const TYPE_SAMPLE: IdxSize = 1_000;

/// The text of `column` with numbers written in `nf` rewritten as Rust reads them (`1.234,50`
/// -> `1234.50`). A value not written in that form is marked so that it never parses as a
/// number (`1.5` is no German number, though Rust would read it as one): it is reported, or
/// its column read as text.
pub(super) fn normalised_number(column: &str, nf: NumberFormat) -> Expr {
    col(column).cast(DataType::String).map(
        move |c: Column| {
            let out: StringChunked = c
                .str()?
                .iter()
                .map(|v| v.map(|s| nf.normalise(s).unwrap_or_else(|| format!("\u{1}{s}"))))
                .collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// The numeric column `column` of `spec`'s table as Float64, read in its declared number
/// format if it has one.
pub(super) fn number(spec: &super::table::TableSpec, column: &str) -> Expr {
    match spec.number_format_of(column) {
        Some(nf) => normalised_number(column, nf).cast(DataType::Float64),
        None => col(column).cast(DataType::Float64),
    }
}

/// How a message names a number format.
pub(super) fn describe(nf: NumberFormat) -> String {
    match nf.thousands {
        Some(t) => format!("decimal mark `{}`, thousands mark `{t}`", nf.decimal),
        None => format!("decimal mark `{}`", nf.decimal),
    }
}
