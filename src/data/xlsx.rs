//! Excel workbooks (`.xlsx`, `.xlsm`, `.xls`): one sheet read as a table of text cells.
//!
//! Input: a workbook and a sheet name (the first sheet when none is given). Output: a frame
//! with the header row's names and every cell as text, as a CSV would be read: numbers as
//! they are written (whole numbers without `.0`), Excel date cells as ISO 8601 text, so the
//! loader's checks treat both the same. Guarantees: rows are named as Excel numbers them
//! (`sheet `Contacts` row 3`); an error cell (`#N/A`) is read as empty and counted; the header
//! must stand in row 1 and name every column once.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};
use polars::prelude::*;

use crate::error::{Error, Result};

/// The sheet to read: `wanted`, or the workbook's first sheet.
pub fn sheet_name(path: &Path, wanted: Option<&str>) -> Result<String> {
    let wb = open_workbook_auto(path).map_err(|e| not_a_workbook(path, &e))?;
    let names = wb.sheet_names();
    match wanted {
        Some(w) if names.iter().any(|n| n == w) => Ok(w.to_string()),
        Some(w) => Err(Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "the workbook has no sheet `{w}`; its sheets are {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
        None => names.first().cloned().ok_or_else(|| Error::Input {
            path: path.to_path_buf(),
            message: "the workbook has no sheet".into(),
        }),
    }
}

fn not_a_workbook(path: &Path, e: &calamine::Error) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message: format!(
            "not a readable Excel workbook ({e}): a file of another type renamed, or a copy cut short; save it again from Excel"
        ),
    }
}

/// What a sheet held.
pub struct Sheet {
    pub frame: DataFrame,
    /// Cells that held an Excel error (`#N/A`, `#DIV/0!`), read as empty.
    pub error_cells: u64,
}

/// Read `sheet` of the workbook at `path`.
pub fn read(path: &Path, sheet: &str) -> Result<Sheet> {
    let bad = |message: String| Error::Input {
        path: path.to_path_buf(),
        message: format!("sheet `{sheet}`: {message}"),
    };
    let mut wb = open_workbook_auto(path).map_err(|e| not_a_workbook(path, &e))?;
    let range = wb
        .worksheet_range(sheet)
        .map_err(|e| bad(format!("cannot be read ({e})")))?;
    if range.is_empty() {
        return Ok(Sheet {
            frame: DataFrame::empty(),
            error_cells: 0,
        });
    }
    let (top, left) = range.start().unwrap_or((0, 0));
    if top != 0 {
        return Err(bad(format!(
            "row 1 is empty; the header is expected in row 1 (rows 1 to {top} hold nothing: is there a title above the table? export the report's details only)"
        )));
    }
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .unwrap_or(&[])
        .iter()
        .map(|c| text(c).unwrap_or_default().trim().to_string())
        .collect();
    for (k, h) in header.iter().enumerate() {
        let column = column_letters(left as usize + k);
        if h.is_empty() {
            return Err(bad(format!(
                "cell {column}1 of the header is empty; every column needs a name"
            )));
        }
        if let Some(first) = header[..k].iter().position(|x| x == h) {
            return Err(bad(format!(
                "the header names column `{h}` twice (cells {}1 and {column}1); rename one",
                column_letters(left as usize + first)
            )));
        }
    }
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); header.len()];
    let mut error_cells = 0u64;
    for row in rows {
        for (k, cells) in columns.iter_mut().enumerate() {
            let cell = row.get(k).unwrap_or(&Data::Empty);
            if matches!(cell, Data::Error(_)) {
                error_cells += 1;
            }
            cells.push(text(cell));
        }
    }
    let height = columns.first().map_or(0, Vec::len);
    let frame = DataFrame::new(
        height,
        header
            .iter()
            .zip(columns)
            .map(|(h, v)| Column::new(h.as_str().into(), v))
            .collect(),
    )
    .map_err(Error::polars("reading a sheet"))?;
    Ok(Sheet { frame, error_cells })
}

/// A cell as the text a CSV export would hold; `None` when empty or an error.
fn text(cell: &Data) -> Option<String> {
    match cell {
        Data::Empty | Data::Error(_) => None,
        Data::String(s) => (!s.is_empty()).then(|| s.clone()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", *f as i64)),
        Data::Float(f) => Some(f.to_string()),
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(d) => {
            let (y, mo, da, h, mi, s, ms) = d.to_ymd_hms_milli();
            Some(if (h, mi, s, ms) == (0, 0, 0, 0) {
                format!("{y:04}-{mo:02}-{da:02}")
            } else if ms == 0 {
                format!("{y:04}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}")
            } else {
                format!("{y:04}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}.{ms:03}")
            })
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
    }
}

/// Excel's name of the column at 0-based `k`: A, B, ..., Z, AA, AB, ...
pub fn column_letters(mut k: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (k % 26) as u8);
        if k < 26 {
            break;
        }
        k = k / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_as_excel_does() {
        for (k, name) in [
            (0, "A"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (701, "ZZ"),
            (702, "AAA"),
        ] {
            assert_eq!(column_letters(k), name);
        }
    }

    #[test]
    fn cells_read_as_a_csv_export_would_hold_them() {
        assert_eq!(text(&Data::Float(120.0)).as_deref(), Some("120"));
        assert_eq!(text(&Data::Float(2.5)).as_deref(), Some("2.5"));
        assert_eq!(text(&Data::Int(-3)).as_deref(), Some("-3"));
        assert_eq!(text(&Data::String(String::new())), None);
        assert_eq!(text(&Data::Empty), None);
        assert_eq!(text(&Data::Bool(true)).as_deref(), Some("true"));
    }
}
