//! Timestamps: the one place that knows which text forms leadcal accepts.
//!
//! Data files: ISO 8601 dates (`2024-03-01`, meaning 00:00) and date-times with `T` or a space
//! between date and time, with or without seconds and fractional seconds
//! (`2024-03-01T09:15`, `2024-03-01 09:15:30.250`); where a column's first values use it, the
//! German form `01.03.2024` with an optional time (`01.03.2024 10:15[:00]`), which is never
//! ambiguous; or one format the dataset declares ([`DateForm`]). Everything is naive time at
//! microsecond resolution. A date-time may end in a time-zone offset (`Z`, `+02:00`, `-0500`); it is then
//! converted to UTC, and the loader counts and reports such values, because naive values beside
//! them are read as they are. Command-line bounds additionally accept a month (`2023-01`,
//! meaning its first day).

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use polars::prelude::*;

/// Polars' timestamp type used for every canonical time column.
pub fn dtype() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

fn strptime(e: Expr, format: &str) -> Expr {
    e.str().to_datetime(
        Some(TimeUnit::Microseconds),
        None,
        StrptimeOptions {
            format: Some(format.into()),
            strict: false,
            exact: true,
            cache: false,
        },
        lit("raise"),
    )
}

const DATE_TIMES: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

fn naive_date_time(text: Expr) -> Expr {
    coalesce(&DATE_TIMES.map(|f| strptime(text.clone(), f)))
}

/// A date-time text with a time-zone offset (`Z`, `+HH:MM` or `+HHMM`) as UTC; null for every
/// other value. Built from string slices: polars' `%z` parsing needs its `timezones` feature.
pub fn with_offset_expr(column: &str) -> Expr {
    let text = col(column).str().strip_chars(lit(NULL));
    let is = |e: Expr, s: &str| e.eq(lit(s)).fill_null(false);
    let zulu = text.clone().str().ends_with(lit("Z")).fill_null(false);
    let t6 = text.clone().str().tail(lit(6));
    let s6 = t6.clone().str().head(lit(1));
    let colon = is(s6.clone(), "+")
        .or(is(s6.clone(), "-"))
        .and(is(t6.clone().str().slice(lit(3), lit(1)), ":"));
    let t5 = text.clone().str().tail(lit(5));
    let s5 = t5.clone().str().head(lit(1));
    let compact = is(s5.clone(), "+").or(is(s5.clone(), "-")).and(
        t5.clone()
            .str()
            .slice(lit(1), lit(4))
            .cast(DataType::Int64)
            .is_not_null(),
    );
    let body = when(zulu.clone())
        .then(text.clone().str().head(lit(-1)))
        .when(colon.clone())
        .then(text.clone().str().head(lit(-6)))
        .when(compact.clone())
        .then(text.clone().str().head(lit(-5)))
        .otherwise(lit(NULL).cast(DataType::String));
    let part = |from6: i64, from5: i64| {
        when(colon.clone())
            .then(t6.clone().str().slice(lit(from6), lit(2)))
            .when(compact.clone())
            .then(t5.clone().str().slice(lit(from5), lit(2)))
            .otherwise(lit("0"))
            .cast(DataType::Int64)
    };
    let minutes = part(1, 1) * lit(60i64) + part(4, 3);
    let negative = colon.and(is(s6, "-")).or(compact.and(is(s5, "-")));
    let sign = when(negative).then(lit(-1i64)).otherwise(lit(1i64));
    (naive_date_time(body).cast(DataType::Int64) - sign * minutes * lit(60_000_000i64))
        .cast(dtype())
}

/// Which text forms a time column is read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateForm {
    /// ISO 8601 (with an optional offset).
    Iso,
    /// ISO 8601, or day.month.year with an optional time.
    IsoOrDotted,
    /// Day.month.year with an optional time only: a column whose first values all use it (the
    /// ISO forms are not tried, which keeps a German export as fast to read as an ISO one).
    Dotted,
    /// One strftime format the dataset declares.
    Declared(String),
}

const DOTTED: [&str; 3] = ["%d.%m.%Y %H:%M:%S%.f", "%d.%m.%Y %H:%M", "%d.%m.%Y"];

/// Whether `text` starts like a day.month.year date (`1.3.2024`, `01.03.2024 10:15`).
pub fn looks_dotted(text: &str) -> bool {
    let mut parts = text.trim().splitn(3, '.');
    let (Some(d), Some(m), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let digits = |s: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    digits(d, 1..=2) && digits(m, 1..=2) && rest.len() >= 4 && digits(&rest[..4], 4..=4)
}

/// Whether a declared format holds a time of day.
fn has_time(format: &str) -> bool {
    ["%H", "%I", "%M", "%S", "%T", "%R", "%k", "%l"]
        .iter()
        .any(|s| format.contains(s))
}

/// True for a value written with slashes (`03/04/2024`): month/day or day/month cannot be told
/// apart, so the loader asks for the format instead of guessing.
pub fn slashed_expr(column: &str) -> Expr {
    let t = col(column)
        .cast(DataType::String)
        .str()
        .strip_chars(lit(NULL));
    let at = |k: i64| t.clone().str().slice(lit(k), lit(1)).eq(lit("/"));
    at(1).or(at(2)).fill_null(false)
}

/// True for a text written like day.month.year (`1.3.2024`, `01.03.2024 ...`): a point as its
/// second or third character. What the loader counts among the values it could read.
pub fn dotted_expr(column: &str) -> Expr {
    let t = col(column)
        .cast(DataType::String)
        .str()
        .strip_chars(lit(NULL));
    let at = |k: i64| t.clone().str().slice(lit(k), lit(1)).eq(lit("."));
    at(1).or(at(2)).fill_null(false)
}

/// Parse a text column in `form`; values in no accepted form become null.
pub fn parse_as(column: &str, form: &DateForm) -> Expr {
    let text = col(column).str().strip_chars(lit(NULL));
    match form {
        DateForm::Iso => parse_expr(column),
        DateForm::IsoOrDotted => coalesce(&[
            parse_expr(column),
            coalesce(&DOTTED.map(|f| strptime(text.clone(), f))),
        ]),
        DateForm::Dotted => coalesce(&DOTTED.map(|f| strptime(text.clone(), f))),
        DateForm::Declared(f) if has_time(f) => strptime(text, f),
        DateForm::Declared(f) => text
            .str()
            .to_date(StrptimeOptions {
                format: Some(f.as_str().into()),
                strict: false,
                exact: true,
                cache: false,
            })
            .cast(dtype()),
    }
}

/// Parse a text column into a timestamp. Values that do not match an accepted form become
/// null; the loader compares nulls before and after to find unparseable rows.
pub fn parse_expr(column: &str) -> Expr {
    let text = col(column).str().strip_chars(lit(NULL));
    coalesce(&[
        naive_date_time(text.clone()),
        with_offset_expr(column),
        text.str()
            .to_date(StrptimeOptions {
                format: Some("%Y-%m-%d".into()),
                strict: false,
                exact: true,
                cache: false,
            })
            .cast(dtype()),
    ])
}

/// Turn an already typed time column into the canonical timestamp type, or `None` when the
/// column's type cannot hold a time (the caller reports it). Text is read in `form`.
pub fn cast_typed(column: &str, dtype_in: &DataType, form: &DateForm) -> Option<Expr> {
    match dtype_in {
        DataType::String => Some(parse_as(column, form)),
        DataType::Date => Some(col(column).cast(dtype())),
        DataType::Datetime(_, None) => Some(col(column).cast(dtype())),
        DataType::Datetime(_, Some(tz)) => Some(
            // Time-zone aware: polars stores the UTC instant; keep it and drop the zone.
            col(column)
                .cast(DataType::Datetime(TimeUnit::Microseconds, Some(tz.clone())))
                .cast(DataType::Int64)
                .cast(dtype()),
        ),
        _ => None,
    }
}

/// Parse a command-line bound: `2023`, `2023-01`, `2023-01-15`, `2023-01-15T10:00[:00]`.
pub fn parse_bound(text: &str) -> Result<NaiveDateTime, String> {
    let t = text.trim();
    let expected = "expected a year (2023), a month (2023-01), a date (2023-01-15) or a date-time (2023-01-15T10:00)";
    let date = |y: i32, m: u32, d: u32| {
        NaiveDate::from_ymd_opt(y, m, d)
            .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .ok_or_else(|| format!("`{text}` is not a valid date; {expected}"))
    };
    if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
        return date(t.parse().map_err(|_| expected.to_string())?, 1, 1);
    }
    if t.len() == 7 && t.as_bytes()[4] == b'-' {
        let (y, m) = (t[..4].parse::<i32>(), t[5..].parse::<u32>());
        if let (Ok(y), Ok(m)) = (y, m) {
            return date(y, m, 1);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists"));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(dt);
        }
    }
    Err(format!("`{text}`: {expected}"))
}

/// A date given on the command line (`--since`, `--until`, `--test-from`), checked when the
/// arguments are parsed: the text as typed (for messages), its first and its last instant.
#[derive(Debug, Clone, PartialEq)]
pub struct DateArg {
    pub text: String,
    /// Its first instant (µs): a year, month or date starts at midnight.
    pub start: i64,
    /// Its last instant (µs): a year, month or date covers its whole span.
    pub end: i64,
}

impl std::str::FromStr for DateArg {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Ok(DateArg {
            text: text.to_string(),
            start: to_micros(parse_bound(text)?),
            end: parse_until(text)?,
        })
    }
}

/// The last instant (µs) covered by an `--until` bound: a year, month or date covers its whole
/// span (`2024-06` ends at 2024-06-30 23:59:59.999999); a date-time is that instant.
pub fn parse_until(text: &str) -> Result<i64, String> {
    let start = parse_bound(text)?;
    let t = text.trim();
    let next = if t.len() == 4 {
        start.with_year(start.year() + 1)
    } else if t.len() == 7 {
        start.checked_add_months(chrono::Months::new(1))
    } else if t.len() == 10 {
        start.checked_add_days(chrono::Days::new(1))
    } else {
        return Ok(to_micros(start));
    };
    next.map(|n| to_micros(n) - 1)
        .ok_or_else(|| format!("`{text}` is out of range"))
}

/// Microseconds since the Unix epoch, the physical value of [`dtype`].
pub fn to_micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

/// Inverse of [`to_micros`].
pub fn from_micros(us: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp_micros(us).map(|d| d.naive_utc())
}

/// A timestamp as the reports show it: the date alone at midnight, else minutes.
pub fn display(t: NaiveDateTime) -> String {
    if t.time() == chrono::NaiveTime::MIN {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// [`display`] for a physical value.
pub fn display_micros(us: i64) -> String {
    from_micros(us)
        .map(display)
        .unwrap_or_else(|| format!("<{us} µs>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_month_year_is_told_from_other_forms() {
        for t in [
            "01.03.2024",
            "1.3.2024",
            "01.03.2024 10:15",
            " 31.12.2023 23:59:59",
        ] {
            assert!(looks_dotted(t), "{t}");
        }
        for t in ["2024-03-01", "03/04/2024", "1.2", "01.03.24", "v1.2.3000"] {
            assert!(!looks_dotted(t), "{t}");
        }
    }

    #[test]
    fn bounds_accept_month_date_and_datetime() {
        let m = parse_bound("2023-01").unwrap();
        assert_eq!(display(m), "2023-01-01");
        assert_eq!(display(parse_bound("2023-02-15").unwrap()), "2023-02-15");
        assert_eq!(
            display(parse_bound("2023-02-15T10:30").unwrap()),
            "2023-02-15 10:30"
        );
        assert_eq!(display(parse_bound("2024").unwrap()), "2024-01-01");
        assert!(
            parse_bound("2023-13")
                .unwrap_err()
                .contains("not a valid date")
        );
        assert!(
            parse_bound("Jan 2023")
                .unwrap_err()
                .contains("expected a year")
        );
    }

    #[test]
    fn parse_expr_accepts_iso_forms_and_nulls_the_rest() {
        let df = df!("t" => [
            Some("2024-03-01"), Some("2024-03-01T09:15"), Some("2024-03-01 09:15:30"),
            Some("2024-03-01T09:15:30.250"), Some(" 2024-03-01 "), Some("01.03.2024"),
            Some("2024-02-30"), None, Some("2024-03-01T09:15:00Z"), Some("2024-03-01T09:15:00+02:00"),
            Some("2024-03-01 09:15-0530"), Some("2024-03-01T09:15:00.5+01:00x"), Some("2024-03-01Z"),
        ])
        .unwrap();
        let out = df.lazy().select([parse_expr("t")]).collect().unwrap();
        let v: Vec<Option<String>> = out
            .column("t")
            .unwrap()
            .datetime()
            .unwrap()
            .physical()
            .iter()
            .map(|o| o.map(display_micros))
            .collect();
        assert_eq!(
            v,
            vec![
                Some("2024-03-01".into()),
                Some("2024-03-01 09:15".into()),
                Some("2024-03-01 09:15".into()),
                Some("2024-03-01 09:15".into()),
                Some("2024-03-01".into()),
                None,
                None,
                None,
                Some("2024-03-01 09:15".into()),
                Some("2024-03-01 07:15".into()),
                Some("2024-03-01 14:45".into()),
                None,
                None,
            ]
        );
    }
}
