//! The segments result as files: `segments.json` and `segments.csv`.
//!
//! Input: a computed [`Report`]. Output: the two files, written atomically into a run folder.
//! Guarantees: the CSV only formats numbers the analysis computed; text from the data that a
//! spreadsheet would evaluate as a formula is quoted (see [`spreadsheet_text`]).

use std::path::Path;

use polars::prelude::*;

use super::Report;
use crate::error::{Error, Result};

/// Write `segments.json` and `segments.csv` into `dir`.
pub fn write(report: &Report, dir: &Path) -> Result<()> {
    crate::output::write_json_shown(&dir.join("segments.json"), report)?;
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); 19];
    let head = [
        "question",
        "rank",
        "group",
        "attribute_1",
        "value_1",
        "attribute_2",
        "value_2",
        "leads",
        "converted",
        "rate",
        "rate_low",
        "rate_high",
        "lift",
        "lift_low",
        "lift_high",
        "p_value",
        "test",
        "q_value",
        "redundant",
    ];
    for (q, groups) in [
        (
            "non_converting_handovers",
            &report.segments.non_converting.groups,
        ),
        ("converter_marks", &report.segments.converter_marks.groups),
    ] {
        for g in groups {
            let v = |k: usize| g.values.get(k).cloned().unwrap_or_default();
            let row = [
                q.to_string(),
                g.rank.to_string(),
                spreadsheet_text(g.label()),
                spreadsheet_text(v(0).0),
                spreadsheet_text(v(0).1),
                spreadsheet_text(v(1).0),
                spreadsheet_text(v(1).1),
                g.leads.to_string(),
                g.converted.to_string(),
                format!("{:.6}", g.rate),
                format!("{:.6}", g.rate_low),
                format!("{:.6}", g.rate_high),
                format!("{:.6}", g.lift),
                format!("{:.6}", g.lift_low),
                format!("{:.6}", g.lift_high),
                format!("{:.6e}", g.p_value),
                g.test.to_string(),
                format!("{:.6e}", g.q_value),
                g.redundant.to_string(),
            ];
            for (c, v) in cols.iter_mut().zip(row) {
                c.push(v);
            }
        }
    }
    let columns: Vec<Column> = head
        .iter()
        .zip(cols)
        .map(|(h, c)| Column::new((*h).into(), c))
        .collect();
    let mut df = DataFrame::new(columns.first().map_or(0, |c| c.len()), columns)
        .map_err(Error::polars("segments table"))?;
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(Error::polars("segments.csv"))?;
    crate::output::write_new(&dir.join("segments.csv"), &buf)
}

/// A text cell from the data, safe to open in a spreadsheet: a value that starts like a
/// formula (`=`, `+`, `-`, `@`, tab, carriage return) gets a leading `'`, so Excel and
/// LibreOffice show it instead of evaluating it (CSV injection).
fn spreadsheet_text(s: String) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_text;

    #[test]
    fn values_that_look_like_formulas_are_not_evaluated_by_a_spreadsheet() {
        for (raw, cell) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("Student", "Student"),
            ("(missing)", "(missing)"),
        ] {
            assert_eq!(spreadsheet_text(raw.to_string()), cell);
        }
    }
}
