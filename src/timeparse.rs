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
    // A value laid out like a canonical one ends in a digit, with no sign before it: no
    // offset, whether or not its date is valid.
    fast_or(
        column,
        |v| shape(v).map(|_| None),
        slow_with_offset(column),
        dtype(),
    )
}

fn slow_with_offset(column: &str) -> Expr {
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
    let slow = slow_slashed(column).cast(DataType::Int64);
    // A value laid out like a canonical one has digits, or a point, where a slash would be.
    fast_or(
        column,
        |v| shape(v).map(|_| Some(0)),
        slow,
        DataType::Boolean,
    )
}

fn slow_slashed(column: &str) -> Expr {
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
    let slow = slow_dotted(column).cast(DataType::Int64);
    let fast = |v: &str| shape(v).map(|dotted| Some(i64::from(dotted)));
    fast_or(column, fast, slow, DataType::Boolean)
}

fn slow_dotted(column: &str) -> Expr {
    let t = col(column)
        .cast(DataType::String)
        .str()
        .strip_chars(lit(NULL));
    let at = |k: i64| t.clone().str().slice(lit(k), lit(1)).eq(lit("."));
    at(1).or(at(2)).fill_null(false)
}

/// Parse a text column in `form`; values in no accepted form become null.
pub fn parse_as(column: &str, form: &DateForm) -> Expr {
    let (iso, dotted) = match form {
        DateForm::Iso => (true, false),
        DateForm::IsoOrDotted => (true, true),
        DateForm::Dotted => (false, true),
        DateForm::Declared(_) => return slow_parse_as(column, form),
    };
    let fast = move |v: &str| match canonical(v) {
        Some((t, false)) if iso => Some(Some(t)),
        Some((t, true)) if dotted => Some(Some(t)),
        // A canonical value of the form the column is not read in: not a time here.
        Some(_) => Some(None),
        None => None,
    };
    fast_or(column, fast, slow_parse_as(column, form), dtype())
}

fn slow_parse_as(column: &str, form: &DateForm) -> Expr {
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
        slow_with_offset(column),
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

/// The forms nearly every export writes, read without polars' parsers: `YYYY-MM-DD`,
/// `YYYY-MM-DDTHH:MM:SS`, `YYYY-MM-DD HH:MM:SS` and `DD.MM.YYYY HH:MM:SS`, in ASCII with
/// nothing around them and a valid calendar date and time (no fraction, no offset). The time
/// (µs) and whether it is the dotted form; `None` for every other text, which polars reads.
/// Over 50M events, parsing with one format after another costs minutes.
fn canonical(v: &str) -> Option<(i64, bool)> {
    let (y, m, d, h, mi, s, dotted) = fields(v)?;
    if !(1000..=9999).contains(&y) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(y as i64, m, d)?;
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + s);
    Some((secs * 1_000_000, dotted))
}

/// Whether `v` is laid out like a [`canonical`] value (digits and separators in place, values
/// not checked), and whether in the dotted form: all the slash, dot and offset checks need.
fn shape(v: &str) -> Option<bool> {
    fields(v).map(|f| f.6)
}

/// The digits of a value laid out like a [`canonical`] one: year, month, day, hour, minute,
/// second, and whether it is the dotted form.
fn fields(v: &str) -> Option<(u32, u32, u32, u32, u32, u32, bool)> {
    let b = v.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let (y, m, d, time_at, dotted) = match b.len() {
        10 if at(4, b'-') && at(7, b'-') => (num(0..4)?, num(5..7)?, num(8..10)?, None, false),
        19 if at(4, b'-') && at(7, b'-') && (at(10, b'T') || at(10, b' ')) => {
            (num(0..4)?, num(5..7)?, num(8..10)?, Some(11), false)
        }
        19 if at(2, b'.') && at(5, b'.') && at(10, b' ') => {
            (num(6..10)?, num(3..5)?, num(0..2)?, Some(11), true)
        }
        _ => return None,
    };
    let (h, mi, s) = match time_at {
        None => (0, 0, 0),
        Some(t) if at(t + 2, b':') && at(t + 5, b':') => {
            (num(t..t + 2)?, num(t + 3..t + 5)?, num(t + 6..t + 8)?)
        }
        Some(_) => return None,
    };
    Some((y, m, d, h, mi, s, dotted))
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar, `None` for an invalid
/// date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let last = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > last {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// `column` (text) through `fast` value by value; where `fast` cannot tell (`None`), through
/// the polars expression `slow` instead, evaluated on those values only. `fast` gives the
/// value as an integer (a time in µs, or 0/1 for a flag) or null; `slow` must give what
/// `fast` would for the values `fast` answers, so the result is `slow`'s on every row.
fn fast_or(
    column: &str,
    fast: impl Fn(&str) -> Option<Option<i64>> + Send + Sync + 'static,
    slow: Expr,
    out: DataType,
) -> Expr {
    let name = column.to_string();
    let out_type = out.clone();
    col(column).cast(DataType::String).map(
        move |c: Column| {
            let text = c.str()?;
            let mut values: Vec<Option<i64>> = Vec::with_capacity(text.len());
            let mut rest: Vec<IdxSize> = Vec::new();
            for (i, v) in text.iter().enumerate() {
                // Empty values too go to `slow`, which decides what they give.
                values.push(match v.and_then(&fast) {
                    Some(x) => x,
                    None => {
                        rest.push(i as IdxSize);
                        None
                    }
                });
            }
            if !rest.is_empty() {
                let idx = IdxCa::from_vec("i".into(), rest.clone());
                let sub = text.take(&idx)?.with_name(name.as_str().into());
                let read = DataFrame::new(sub.len(), vec![sub.into_column()])?
                    .lazy()
                    .select([slow.clone().cast(DataType::Int64).alias("v")])
                    .collect()?;
                let read = read.column("v")?.i64()?.clone();
                for (&i, v) in rest.iter().zip(read.iter()) {
                    values[i as usize] = v;
                }
            }
            let values = Int64Chunked::from_iter_options(c.name().clone(), values.into_iter());
            values.into_series().cast(&out_type).map(Column::from)
        },
        move |_, f| Ok(Field::new(f.name().clone(), out.clone())),
    )
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

    #[test]
    fn days_from_civil_equals_chrono_on_every_day_of_four_centuries() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for y in 1800..=2200 {
            for m in 1..=12u32 {
                for d in 1..=32u32 {
                    let want = NaiveDate::from_ymd_opt(y, m, d).map(|x| (x - epoch).num_days());
                    assert_eq!(days_from_civil(y as i64, m, d), want, "{y}-{m}-{d}");
                }
            }
        }
        assert_eq!(days_from_civil(2024, 13, 1), None);
    }

    /// The fast path gives, on every value, what the polars expressions alone give: canonical
    /// values read fast, the rest through polars, and the flags alike.
    #[test]
    fn the_fast_path_reads_every_value_as_the_polars_expressions_do() {
        let values = [
            "2024-03-01",
            "2024-03-01T09:15:30",
            "2024-03-01 09:15:30",
            "2024-02-29 23:59:59",
            "2023-02-29 10:00:00",
            "2024-13-45",
            "2024-00-10T10:00:00",
            "99.99.2024 99:99:99",
            "2024-03-01T24:00:00",
            "2024-03-01T09:60:00",
            "2024-03-01T09:15:60",
            "01.03.2024 10:15:00",
            "31.04.2024 10:15:00",
            "01.03.2024",
            "1.3.2024 10:15",
            "2024-03-01T09:15",
            "2024-03-01T09:15:30.250",
            " 2024-03-01 ",
            "2024-03-01T09:15:00Z",
            "2024-03-01T09:15:00+02:00",
            "03/04/2024",
            "0999-03-01",
            "2024-3-01",
            "2024-03-01x09:15:30",
            "24-03-01",
            "",
            "abc",
            "2024-03-01T09:15:30 ",
            "1969-12-31T23:59:59",
            "9999-12-31 23:59:59",
        ];
        let df =
            df!("t" => values.iter().map(|v| Some(*v)).chain([None]).collect::<Vec<_>>()).unwrap();
        let forms = [DateForm::Iso, DateForm::IsoOrDotted, DateForm::Dotted];
        let mut fast = vec![
            slashed_expr("t").alias("slashed"),
            dotted_expr("t").alias("dotted"),
        ];
        let mut slow = vec![
            slow_slashed("t").alias("slashed"),
            slow_dotted("t").alias("dotted"),
        ];
        fast.push(with_offset_expr("t").alias("offset"));
        slow.push(slow_with_offset("t").alias("offset"));
        for (k, f) in forms.iter().enumerate() {
            fast.push(parse_as("t", f).alias(format!("form{k}")));
            slow.push(slow_parse_as("t", f).alias(format!("form{k}")));
        }
        let a = df.clone().lazy().select(fast).collect().unwrap();
        let b = df.lazy().select(slow).collect().unwrap();
        for (ca, cb) in a.columns().iter().zip(b.columns()) {
            for i in 0..ca.len() {
                let v = values.get(i).copied().unwrap_or("null");
                let (x, y) = (ca.get(i).unwrap(), cb.get(i).unwrap());
                assert_eq!(x, y, "`{v}`, {}", ca.name());
            }
        }
        assert_eq!(a, b);
        // Not vacuous: the fast path read some values, and some of them as times.
        assert!(values.iter().filter(|v| canonical(v).is_some()).count() >= 6);
        assert!(a.column("form0").unwrap().null_count() < values.len());
    }
}
