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

impl Sheet {
    fn empty() -> Sheet {
        Sheet {
            frame: DataFrame::empty(),
            error_cells: 0,
        }
    }
}

/// An error about `sheet` of the workbook at `path`.
fn sheet_error<'a>(path: &'a Path, sheet: &'a str) -> impl Fn(String) -> Error + 'a {
    move |message| Error::Input {
        path: path.to_path_buf(),
        message: format!("sheet `{sheet}`: {message}"),
    }
}

/// A part of an `.xlsx` workbook (a sheet's XML, the shared strings) may decompress to at most
/// this many bytes: about 30 million cells, more than Excel's sheet holds as a lead export.
pub const MAX_PART_BYTES: u64 = 1 << 30;

/// Refuse a workbook one of whose parts declares more than [`MAX_PART_BYTES`] decompressed (a
/// zip bomb, or a sheet no lead export needs), before anything is decompressed.
fn check_parts(path: &Path) -> Result<()> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(()); // calamine says why it cannot be opened
    };
    let Ok(mut zip) = ::zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Ok(());
    };
    for i in 0..zip.len() {
        let Ok(part) = zip.by_index_raw(i) else {
            continue;
        };
        if part.size() > MAX_PART_BYTES {
            return Err(Error::Input {
                path: path.to_path_buf(),
                message: format!(
                    "the workbook's part `{}` decompresses to {} MB ({} MB compressed); leadcal reads parts of at most {} MB. Export the table as CSV instead",
                    part.name().map(|n| n.into_owned()).unwrap_or_default(),
                    part.size() >> 20,
                    part.compressed_size() >> 20,
                    MAX_PART_BYTES >> 20
                ),
            });
        }
    }
    Ok(())
}

/// Read `sheet` of the workbook at `path`.
pub fn read(path: &Path, sheet: &str) -> Result<Sheet> {
    let bad = sheet_error(path, sheet);
    let is_xlsx = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "xlsx" | "xlsm"));
    if is_xlsx {
        check_parts(path)?;
        // Cell by cell: memory follows the cells present, not the sheet's declared (or
        // stray-cell) dimensions; calamine's range would allocate every cell of the box.
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook(path).map_err(|e: calamine::XlsxError| Error::Input {
                path: path.to_path_buf(),
                message: format!(
                    "not a readable Excel workbook ({e}): a file of another type renamed, or a copy cut short; save it again from Excel"
                ),
            })?;
        let mut reader = wb
            .worksheet_cells_reader(sheet)
            .map_err(|e| bad(format!("cannot be read ({e})")))?;
        let mut cells = Vec::new();
        while let Some(c) = reader
            .next_cell()
            .map_err(|e| bad(format!("cannot be read ({e})")))?
        {
            if !matches!(c.get_value(), calamine::DataRef::Empty) {
                let (r, k) = c.get_position();
                cells.push(calamine::Cell::new(
                    (r, k),
                    Data::from(c.get_value().clone()),
                ));
            }
        }
        return from_cells(cells, sheet, path);
    }
    let mut wb = open_workbook_auto(path).map_err(|e| not_a_workbook(path, &e))?;
    let range = wb
        .worksheet_range(sheet)
        .map_err(|e| bad(format!("cannot be read ({e})")))?;
    from_range(range, sheet, path)
}

/// The frame of a sheet's non-empty cells: columns as far as the header reaches (cells right
/// of it have no name and are not read), rows to the last row with a cell in them.
fn from_cells(cells: Vec<calamine::Cell<Data>>, sheet: &str, path: &Path) -> Result<Sheet> {
    let bad = sheet_error(path, sheet);
    if cells.is_empty() {
        return Ok(Sheet::empty());
    }
    let top = cells.iter().map(|c| c.get_position().0).min().unwrap_or(0);
    if top != 0 {
        return Err(bad(format!(
            "row 1 is empty; the header is expected in row 1 (rows 1 to {top} hold nothing: is there a title above the table? export the report's details only)"
        )));
    }
    let left = cells.iter().map(|c| c.get_position().1).min().unwrap_or(0);
    // The header: row 1 from the leftmost column to its last cell, without gaps.
    let mut head: Vec<(u32, String)> = cells
        .iter()
        .filter(|c| c.get_position().0 == 0)
        .map(|c| {
            (
                c.get_position().1,
                text(c.get_value()).unwrap_or_default().trim().to_string(),
            )
        })
        .collect();
    head.sort_by_key(|(k, _)| *k);
    let width = head.last().map_or(0, |(k, _)| (k - left + 1) as usize);
    let mut header = vec![String::new(); width];
    for (k, h) in head {
        header[(k - left) as usize] = h;
    }
    check_header(&header, left as usize, sheet, path)?;
    let height = cells
        .iter()
        .filter(|c| {
            let (r, k) = c.get_position();
            r > 0 && k >= left && ((k - left) as usize) < width
        })
        .map(|c| c.get_position().0 as usize)
        .max()
        .unwrap_or(0);
    let mut columns: Vec<Vec<Option<String>>> = vec![vec![None; height]; width];
    let mut error_cells = 0u64;
    for c in &cells {
        let (r, k) = c.get_position();
        if r == 0 || k < left || (k - left) as usize >= width {
            continue;
        }
        if matches!(c.get_value(), Data::Error(_)) {
            error_cells += 1;
        }
        columns[(k - left) as usize][r as usize - 1] = text(c.get_value());
    }
    frame(&header, columns, error_cells)
}

fn check_header(header: &[String], left: usize, sheet: &str, path: &Path) -> Result<()> {
    let bad = sheet_error(path, sheet);
    for (k, h) in header.iter().enumerate() {
        let column = column_letters(left + k);
        if h.is_empty() {
            return Err(bad(format!(
                "cell {column}1 of the header is empty; every column needs a name"
            )));
        }
        if let Some(first) = header[..k].iter().position(|x| x == h) {
            return Err(bad(format!(
                "the header names column `{h}` twice (cells {}1 and {column}1); rename one",
                column_letters(left + first)
            )));
        }
    }
    Ok(())
}

fn frame(header: &[String], columns: Vec<Vec<Option<String>>>, error_cells: u64) -> Result<Sheet> {
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

/// A sheet read as calamine's range (`.xls`, `.xlsb`).
fn from_range(range: calamine::Range<Data>, sheet: &str, path: &Path) -> Result<Sheet> {
    let bad = sheet_error(path, sheet);
    if range.is_empty() {
        return Ok(Sheet::empty());
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
    check_header(&header, left as usize, sheet, path)?;
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
    frame(&header, columns, error_cells)
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
