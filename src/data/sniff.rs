//! CSV header sniffing: delimiter detection and a first look at the lines, before polars reads
//! the file, so that a wrong delimiter gets a message a person can act on.

use std::io::Read;
use std::path::Path;

/// Delimiters tried when the dataset does not declare one.
pub const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// What the first lines of a CSV file say.
#[derive(Debug)]
pub struct Sniffed {
    pub delimiter: u8,
    /// The header's field names (quotes removed).
    pub header: Vec<String>,
    /// True when the file holds no bytes, or only white space.
    pub empty: bool,
    /// A first data line (1-based file line) whose field count differs from the header's, with
    /// its count; only lines in the sniffed prefix are looked at.
    pub ragged: Option<(usize, usize)>,
    /// Set when a declared delimiter does not occur in the header but another candidate does.
    pub declared_mismatch: Option<u8>,
    /// Set when the header line is not UTF-8 text (a byte that is not UTF-8, or NUL bytes).
    pub not_utf8: Option<NotUtf8>,
}

/// A header that is not UTF-8: where, what, and the encoding it most likely is.
#[derive(Debug)]
pub struct NotUtf8 {
    pub line: usize,
    /// `byte 0xF6 after \"Unternehmensgr\"`, or `NUL bytes between the letters`.
    pub what: String,
    pub guess: &'static str,
}

/// Whether the first line of `buf` is not UTF-8 text, and why.
fn header_not_utf8(buf: &[u8]) -> Option<NotUtf8> {
    let body = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
    let end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let line = &body[..end];
    if line.contains(&0) {
        return Some(NotUtf8 {
            line: 1,
            what: "NUL bytes between the letters".into(),
            guess: super::encoding::guess(buf),
        });
    }
    match std::str::from_utf8(line) {
        Ok(_) => None,
        Err(e) => {
            // The column name up to the bad byte: the text after the last delimiter.
            let before = String::from_utf8_lossy(&line[..e.valid_up_to()]);
            let before = before
                .rsplit([',', ';', '\t', '|'])
                .next()
                .unwrap_or("")
                .trim_start_matches('"')
                .to_string();
            Some(NotUtf8 {
                line: 1,
                what: format!("byte 0x{:02X} after \"{before}\"", line[e.valid_up_to()]),
                guess: super::encoding::guess(buf),
            })
        }
    }
}

/// Split one line on `delim`, honouring double quotes.
fn split(line: &str, delim: u8) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if quoted && chars.peek() == Some(&'"') {
                cur.push('"');
                chars.next();
            } else {
                quoted = !quoted;
            }
        } else if !quoted && c as u32 == delim as u32 {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

/// Walk a CSV file's bytes in blocks, calling `f(line, record, byte)` for every byte, where
/// `line` is the 1-based physical line, `record` the 0-based data record (the header is record
/// -1; a newline inside double quotes does not end a record) and `byte` the offset. `f` returns
/// false to stop.
fn walk(path: &Path, mut f: impl FnMut(u64, i64, u64, u8) -> bool) -> std::io::Result<()> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut line, mut record, mut offset, mut quoted) = (1u64, -1i64, 0u64, false);
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        for &b in &buf[..n] {
            if !f(line, record, offset, b) {
                return Ok(());
            }
            match b {
                b'"' => quoted = !quoted,
                b'\n' => {
                    line += 1;
                    if !quoted {
                        record += 1;
                    }
                }
                _ => {}
            }
            offset += 1;
        }
    }
}

/// The physical (1-based) line on which each data record of `records` (0-based, as polars
/// numbers rows) starts. Differs from `record + 2` only when a quoted field holds a newline.
pub fn record_lines(path: &Path, records: &[u64]) -> std::io::Result<Vec<(u64, u64)>> {
    let mut want: Vec<u64> = records.to_vec();
    want.sort_unstable();
    want.dedup();
    let mut out = Vec::with_capacity(want.len());
    let mut next = 0usize;
    let mut last_record = -2i64;
    walk(path, |line, record, _, _| {
        if record != last_record {
            last_record = record;
            while next < want.len() && (want[next] as i64) < record {
                next += 1;
            }
            if next < want.len() && want[next] as i64 == record {
                out.push((want[next], line));
                next += 1;
            }
        }
        next < want.len()
    })?;
    Ok(out)
}

/// The first bytes of `path` that are not UTF-8: (physical line, 0-based field index within
/// the line, the offending byte).
pub fn first_invalid_utf8(path: &Path, delimiter: u8) -> std::io::Result<Option<(u64, usize, u8)>> {
    let mut found = None;
    let (mut field, mut quoted) = (0usize, false);
    // Bytes of a multi-byte sequence still expected after a lead byte.
    let mut pending = 0u8;
    let mut lead_line = (0u64, 0usize, 0u8);
    walk(path, |line, _, _, b| {
        if pending > 0 {
            if b & 0xC0 == 0x80 {
                pending -= 1;
                return true;
            }
            found = Some(lead_line);
            return false;
        }
        let need = match b {
            0x00..=0x7F => 0,
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => {
                found = Some((line, field, b));
                return false;
            }
        };
        if need > 0 {
            pending = need;
            lead_line = (line, field, b);
        }
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => field = 0,
            _ if b == delimiter && !quoted => field += 1,
            _ => {}
        }
        true
    })?;
    Ok(found.or((pending > 0).then_some(lead_line)))
}

/// The line of a double quote that opens a field and is never closed, if the file ends inside
/// quotes.
pub fn unclosed_quote(path: &Path) -> std::io::Result<Option<u64>> {
    let (mut open, mut quoted) = (0u64, false);
    walk(path, |line, _, _, b| {
        if b == b'"' {
            quoted = !quoted;
            if quoted {
                open = line;
            }
        }
        true
    })?;
    Ok(quoted.then_some(open))
}

/// The lines (1-based, at most `max`) of double quotes inside a field, neither at its start
/// nor at its end (`27" monitors`, `"automation"x`), in bytes `from..to` of `path`: what
/// leaves a CSV file's rows ambiguous. An escaped quote (`""`) is not one.
pub fn stray_quote_lines(
    path: &Path,
    delimiter: u8,
    (from, to): (u64, u64),
    max: usize,
) -> std::io::Result<Vec<u64>> {
    let edge = |b: u8| b == delimiter || b == b'\n' || b == b'\r' || b == b'"';
    let (mut prev, mut pending, mut found) = (b'\n', None::<u64>, Vec::new());
    walk(path, |line, _, offset, b| {
        if let Some(l) = pending.take()
            && !edge(b)
            && found.last() != Some(&l)
        {
            found.push(l);
        }
        if b == b'"' && offset >= from && !edge(prev) {
            pending = Some(line);
        }
        prev = b;
        found.len() < max && offset < to
    })?;
    Ok(found)
}

/// The 1-based line holding byte `offset` of `path`.
pub fn line_of_offset(path: &Path, offset: u64) -> std::io::Result<u64> {
    let mut at = 1;
    walk(path, |line, _, o, _| {
        at = line;
        o < offset
    })?;
    Ok(at)
}

/// Read the first 64 KiB of `path` and work out its delimiter and header.
pub fn sniff(path: &Path, declared: Option<u8>) -> std::io::Result<Sniffed> {
    let buf = super::encoding::head(path)?;
    let not_utf8 = header_not_utf8(&buf);
    let text = String::from_utf8_lossy(buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&buf));
    let mut lines: Vec<&str> = text.lines().collect();
    if buf.len() == 1 << 16 && lines.len() > 1 {
        lines.pop(); // the last line may be cut
    }
    let header_line = lines.first().copied().unwrap_or("");
    if header_line.trim().is_empty() {
        return Ok(Sniffed {
            delimiter: declared.unwrap_or(b','),
            header: Vec::new(),
            empty: true,
            ragged: None,
            declared_mismatch: None,
            not_utf8,
        });
    }
    let count = |d: u8| split(header_line, d).len() - 1;
    let best = CANDIDATES
        .iter()
        .copied()
        .max_by_key(|&d| (count(d), std::cmp::Reverse(d == b'|')))
        .unwrap_or(b',');
    let (delimiter, declared_mismatch) = match declared {
        Some(d) if count(d) == 0 && count(best) > 0 => (d, Some(best)),
        Some(d) => (d, None),
        None => (if count(best) > 0 { best } else { b',' }, None),
    };
    let header: Vec<String> = split(header_line, delimiter)
        .into_iter()
        .map(|s| s.trim().to_string())
        .collect();
    // Lines that continue a quoted value of the line before (a multi-line note) are no rows.
    let mut inside = false;
    let starts: Vec<bool> = lines
        .iter()
        .map(|l| {
            let starts_row = !inside;
            if l.bytes().filter(|b| *b == b'"').count() % 2 == 1 {
                inside = !inside;
            }
            starts_row
        })
        .collect();
    let ragged = lines
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(i, l)| starts[*i] && !l.trim().is_empty())
        .take(50)
        .find_map(|(i, l)| {
            let n = split(l, delimiter).len();
            (n != header.len() && header.len() > 1 && !l.contains('"')).then_some((i + 1, n))
        });
    Ok(Sniffed {
        delimiter,
        header,
        empty: false,
        ragged,
        declared_mismatch,
        not_utf8,
    })
}

/// How a delimiter is written in messages.
pub fn show(d: u8) -> String {
    match d {
        b'\t' => "tab".to_string(),
        other => format!("`{}`", other as char),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn stray_quotes_are_those_inside_a_field() {
        let text = "a,b\n1,27\" monitors\n2,\"say \"\"hi\"\"\"\n3,\"x,y\"\n4,\"a\"b\n5,\"\"\n6,5\" and 7\"\n";
        let (_d, p) = write(text);
        let all = (0, u64::MAX);
        assert_eq!(stray_quote_lines(&p, b',', all, 9).unwrap(), vec![2, 5, 7]);
        assert_eq!(stray_quote_lines(&p, b',', all, 1).unwrap(), vec![2]);
        // From the byte where line 3 starts on.
        let from = text.find("2,").unwrap() as u64;
        assert_eq!(
            stray_quote_lines(&p, b',', (from, u64::MAX), 9).unwrap(),
            vec![5, 7]
        );
    }

    #[test]
    fn detects_semicolon_and_ignores_quoted_commas() {
        let (_d, p) = write("lead_id;created_at;\"Company, Inc\"\n1;2024-01-01;x\n");
        let s = sniff(&p, None).unwrap();
        assert_eq!(s.delimiter, b';');
        assert_eq!(s.header, vec!["lead_id", "created_at", "Company, Inc"]);
        assert!(s.ragged.is_none());
    }

    #[test]
    fn flags_declared_delimiter_absent_from_header() {
        let (_d, p) = write("a,b,c\n1,2,3\n");
        let s = sniff(&p, Some(b';')).unwrap();
        assert_eq!(s.declared_mismatch, Some(b','));
    }

    #[test]
    fn finds_rows_split_differently_from_the_header() {
        let (_d, p) = write("a,b,c\n1,2,3\n1;2;3\n");
        let s = sniff(&p, None).unwrap();
        assert_eq!(s.ragged, Some((3, 1)));
    }

    #[test]
    fn a_multi_line_quoted_value_is_no_ragged_row() {
        let (_d, p) = write("a,b,c\n1,\"two\nlines\nof text\",3\n4,5,6\n");
        let s = sniff(&p, None).unwrap();
        assert_eq!(s.ragged, None);
    }

    #[test]
    fn strips_bom_and_flags_empty() {
        let (_d, p) = write("\u{feff}lead_id,created_at\n");
        assert_eq!(sniff(&p, None).unwrap().header[0], "lead_id");
        let (_d2, p2) = write("  \n");
        assert!(sniff(&p2, None).unwrap().empty);
    }
}
