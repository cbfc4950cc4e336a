//! Attribute typing and checks: which type each profile column of the leads has, and which of
//! its values are unusable.
//!
//! Input: the leads frame (text columns as read). Output: each attribute's [`AttributeKind`]
//! and cast expression; NaN, infinities and negative sizes made missing with a warning.
//! Guarantees: a column is numeric only when every non-empty value parses; nothing is dropped.

use polars::prelude::*;

use super::dataset::AttributeKind;
use super::problem::Severity;
use super::scan::Ctx;
use super::spec::NumberFormat;
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
    let t = c.clone().str().strip_chars(lit(NULL));
    let lower = t.clone().str().to_lowercase();
    let is_bool = lower
        .clone()
        .eq(lit("true"))
        .or(lower.clone().eq(lit("false")));
    // Which of integer, float and bool every non-empty value is: first on the first values,
    // then over the whole column only for the types the first values all are (a text column
    // such as a region is settled by its first values instead of four passes over all rows).
    let stats = |frame: LazyFrame| -> Result<[u64; 4]> {
        let s = frame
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
            s.column(k)
                .ok()
                .and_then(|s| s.get(0).ok())
                .and_then(|v| v.extract::<u64>())
                .unwrap_or(0)
        };
        Ok([get("nn"), get("int"), get("float"), get("bool")])
    };
    let sample = stats(df.clone().lazy().limit(TYPE_SAMPLE))?;
    let none_fits = sample[0] > 0 && sample[1..].iter().all(|&k| k < sample[0]);
    let [nn, int, float, boolean] = if df.height() as IdxSize <= TYPE_SAMPLE {
        sample
    } else if none_fits {
        // Some first value is not an integer, some not a number, some not a boolean: text,
        // whatever the other rows hold.
        [sample[0], 0, 0, 0]
    } else {
        stats(df.clone().lazy())?
    };
    Ok(if nn > 0 && int == nn {
        (AttributeKind::Integer, t.cast(DataType::Int64))
    } else if nn > 0 && float == nn {
        (AttributeKind::Float, t.cast(DataType::Float64))
    } else if nn > 0 && boolean == nn {
        (AttributeKind::Bool, lower.eq(lit("true")))
    } else {
        (AttributeKind::Text, t)
    })
}

/// A column read as text although most of its values are numbers: the few that are not
/// (`0x1A`, `1_000`, `n/a`) decide its type silently, so they are named with their rows.
pub(super) fn type_flip(ctx: &mut Ctx, df: &DataFrame, name: &str) -> Result<()> {
    let t = col(name).str().strip_chars(lit(NULL));
    let number = t.clone().cast(DataType::Float64);
    let count = |frame: LazyFrame| -> Result<(u64, u64)> {
        let s = frame
            .select([
                t.clone().is_not_null().sum().alias("nn"),
                number.clone().is_not_null().sum().alias("num"),
            ])
            .collect()
            .map_err(Error::polars("checking a column's type"))?;
        let get = |k: &str| {
            s.column(k)
                .ok()
                .and_then(|s| s.get(0).ok())
                .and_then(|v| v.extract::<u64>())
                .unwrap_or(0)
        };
        Ok((get("nn"), get("num")))
    };
    // Mostly text in the first rows: text, no pass over the whole column.
    let (snn, snum) = count(df.clone().lazy().limit(TYPE_SAMPLE))?;
    if snn == 0 || (snum as f64) < 0.5 * snn as f64 {
        return Ok(());
    }
    let (nn, num) = count(df.clone().lazy())?;
    if num < 5 || (num as f64) < FLIP_SHARE * nn as f64 || num == nn {
        return Ok(());
    }
    ctx.rows_problem(
        df,
        t.is_not_null().and(number.is_null()),
        Severity::Warning,
        "type-flip",
        name,
        Some(name),
        &format!(
            "not a number in a column whose other {} values are numbers, so the whole column is read as text (fix these values, or list them under null_values)",
            thousands(num)
        ),
    )?;
    Ok(())
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
pub(super) fn number(spec: &super::spec::TableSpec, column: &str) -> Expr {
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
