//! A CSV file read in chunks of whole rows, each chunk parsed on its own core.
//!
//! Input: a UTF-8 CSV file with a header line, polars' parse options for it and the schema
//! polars' scan gives it (every column as text). Output: the rows after the header, as
//! data frames of a few MiB each, handed to a caller's function on the worker that parsed
//! them, in no fixed order. Guarantees: every row is handed over exactly once; a chunk ends
//! only at a line end outside quotes, the same rule polars' own line counter splits by; the
//! fields are read by polars' own field parser ([`read_chunk`]), so quotes, null values,
//! missing fields and errors are what `LazyCsvReader` gives for the same file (a property
//! test compares the two on random files).
//!
//! Why not polars' streaming CSV source: without the nightly `simd` feature it finds its
//! line ends one byte at a time on a single thread; on a 3 GB events file that scan is the
//! pass's longest serial step (28% of the samples of a profile of `validate`). Here one
//! reader finds chunk ends with `memchr` (vectorised on stable Rust), reading far less than a
//! chunk per split, and every core parses.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use polars::prelude::_csv_read_internal::{read_chunk, validate_utf8};
use polars::prelude::*;

/// Bytes read per chunk; a row longer than this grows its chunk until the row ends.
pub(super) const CHUNK_BYTES: usize = 8 << 20;

/// One chunk of whole rows and where it starts in the file.
struct Chunk {
    bytes: Vec<u8>,
    offset: usize,
    /// About how many rows it holds (for the column builders' first allocation).
    rows: usize,
    /// Whether it ends the file (its last row may have no line end).
    last: bool,
}

/// The end (one past the line end) of the last row that ends in `buf`, which starts at the
/// start of a row; `None` when no row ends in it.
///
/// A line end inside quotes belongs to its field. Quotes are counted as polars' line
/// counter counts them: each quote character flips in and out of a quoted field, so an
/// escaped quote (`""`) flips twice.
pub(super) fn last_row_end(buf: &[u8], quote: Option<u8>, eol: u8) -> Option<usize> {
    let Some(q) = quote.filter(|q| memchr::memchr(*q, buf).is_some()) else {
        return memchr::memrchr(eol, buf).map(|i| i + 1);
    };
    // Inside quotes at the end of `buf` when its quotes are odd; walking back, each quote
    // flips that, and the first line end met outside quotes ends the last row.
    let mut inside = memchr::memchr_iter(q, buf).count() % 2 == 1;
    for i in memchr::memrchr2_iter(q, eol, buf) {
        if buf[i] == q {
            inside = !inside;
        } else if !inside {
            return Some(i + 1);
        }
    }
    None
}

/// The line ends of `buf` (which starts at the start of a row) outside quotes, in order.
fn row_ends(buf: &[u8], quote: Option<u8>, eol: u8) -> impl Iterator<Item = usize> + '_ {
    // Without a quote character every line end ends a row; the quote then never matches.
    let q = quote.unwrap_or(eol);
    let mut inside = false;
    memchr::memchr2_iter(q, eol, buf).filter(move |&i| {
        if buf[i] == eol {
            return !inside;
        }
        inside = !inside;
        false
    })
}

/// The end (one past the line end) of the first row of `buf`, which starts at the start of
/// a row; `None` when no row ends in it.
pub(super) fn first_row_end(buf: &[u8], quote: Option<u8>, eol: u8) -> Option<usize> {
    row_ends(buf, quote, eol).next().map(|i| i + 1)
}

/// How many rows `buf` (whole rows) holds as polars' line counter counts them: line ends
/// outside quotes, and a last row without one when `last`.
fn rows_in(buf: &[u8], quote: Option<u8>, eol: u8, last: bool) -> usize {
    let ends = match quote.filter(|q| memchr::memchr(*q, buf).is_some()) {
        None => memchr::memchr_iter(eol, buf).count(),
        Some(_) => row_ends(buf, quote, eol).count(),
    };
    ends + usize::from(last && buf.last().is_some_and(|&b| b != eol))
}

/// Read `path` into chunks of whole rows on this thread and send them to `to`; the header
/// line is skipped. Returns when the file is read, a chunk failed (`failed_at` holds its
/// offset) or the receivers are gone.
fn cut(
    path: &Path,
    parse: &CsvParseOptions,
    chunk_bytes: usize,
    failed_at: &AtomicUsize,
    to: SyncSender<Chunk>,
) -> std::io::Result<()> {
    let (quote, eol) = (parse.quote_char, parse.eol_char);
    let mut file = File::open(path)?;
    let mut buf: Vec<u8> = Vec::with_capacity(chunk_bytes);
    let mut offset = 0usize; // of `buf[0]` in the file
    let mut header = true;
    let mut at_eof = false;
    // The first chunk's mean line length sizes every chunk's column builders (an allocation
    // only: a wrong guess costs growing them).
    let mut bytes_per_row: Option<f64> = None;
    while failed_at.load(Ordering::Relaxed) == usize::MAX {
        // Fill `buf` up to the chunk size, or to the end of the file; a buffer that holds
        // no whole row grows by half a chunk.
        let want = chunk_bytes.max(buf.len() + (chunk_bytes >> 1).max(1));
        let had = buf.len();
        buf.resize(want, 0);
        let mut filled = had;
        while filled < want {
            match file.read(&mut buf[filled..]) {
                Ok(0) => {
                    at_eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        if header {
            match first_row_end(&buf, quote, eol) {
                Some(end) => {
                    buf.drain(..end);
                    offset += end;
                    header = false;
                }
                None if at_eof => return Ok(()),
                None => continue,
            }
        }
        let end = if at_eof {
            Some(buf.len())
        } else {
            last_row_end(&buf, quote, eol)
        };
        if let Some(end) = end.filter(|&e| e > 0) {
            let rest = buf[end..].to_vec();
            buf.truncate(end);
            let per_row = *bytes_per_row.get_or_insert_with(|| {
                let lines = memchr::memchr_iter(eol, &buf).count().max(1);
                buf.len() as f64 / lines as f64
            });
            let rows = (buf.len() as f64 / per_row).ceil() as usize + 1;
            let bytes = std::mem::replace(&mut buf, rest);
            let n = bytes.len();
            if to
                .send(Chunk {
                    bytes,
                    offset,
                    rows,
                    last: at_eof,
                })
                .is_err()
            {
                return Ok(());
            }
            offset += n;
        }
        if at_eof {
            return Ok(());
        }
    }
    Ok(())
}

/// Parse one chunk with polars' field parser: the columns at `projection` as polars' scan of
/// the same file reads them, the other columns of `schema` empty.
fn parse(
    chunk: &Chunk,
    parse: &CsvParseOptions,
    schema: &Schema,
    projection: &[usize],
    nulls: Option<&polars::prelude::_csv_read_internal::NullValuesCompiled>,
) -> PolarsResult<DataFrame> {
    if !validate_utf8(&chunk.bytes) {
        polars_bail!(ComputeError: "invalid utf-8 sequence");
    }
    let lines = rows_in(&chunk.bytes, parse.quote_char, parse.eol_char, chunk.last);
    let read = match projection {
        // Nothing to read: the rows as the line counter counts them, as polars' scan does.
        [] => DataFrame::empty_with_height(lines),
        _ => read_chunk(
            &chunk.bytes,
            parse,
            schema,
            false,
            projection,
            0,
            chunk.rows,
            nulls,
            usize::MAX,
            chunk.bytes.len(),
            Some(chunk.offset),
        )?,
    };
    // Where the rows the field parser found are not the rows the line counter found (a
    // stray quote in an unquoted field), polars' scan refuses the file; so does this.
    if read.height() != lines {
        polars_bail!(ComputeError:
            "CSV malformed: expected {} rows, actual {} rows, in chunk starting at byte offset {}, length {}",
            lines, read.height(), chunk.offset, chunk.bytes.len());
    }
    // Every column of the schema, in its order; those not read are empty.
    let mut read = read.into_columns().into_iter();
    let mut columns = Vec::with_capacity(schema.len());
    for (i, (name, dtype)) in schema.iter().enumerate() {
        columns.push(match projection.binary_search(&i) {
            Ok(_) => read.next().ok_or_else(
                || polars_err!(ComputeError: "the parser gave fewer columns than were asked for"),
            )?,
            Err(_) => Column::full_null(name.clone(), lines, dtype),
        });
    }
    DataFrame::new(lines, columns)
}

/// Read the rows of the CSV file at `path` (after its header) in chunks, parse each chunk on
/// one of `workers` threads and hand its frame to `each` there. The first error in the file
/// (of parsing a chunk or of `each` on it), or else an error reading the file, stops the read
/// and is returned. `each` gets the chunk's offset in the file too. Only the columns at
/// `projection` (indices into `schema`, ascending) are read; the others are all null.
#[allow(clippy::too_many_arguments)] // the file, how to read it, and what to do per chunk
pub(super) fn for_each_chunk<F>(
    path: &Path,
    options: &CsvParseOptions,
    schema: &Schema,
    projection: &[usize],
    workers: usize,
    chunk_bytes: usize,
    each: F,
) -> PolarsResult<()>
where
    F: Fn(usize, DataFrame) -> PolarsResult<()> + Sync,
{
    if !projection.is_sorted() || projection.last().is_some_and(|&i| i >= schema.len()) {
        polars_bail!(ComputeError: "the columns to read are not ascending indices of the file's columns");
    }
    let nulls = options
        .null_values
        .clone()
        .map(|n| n.compile(schema))
        .transpose()?;
    let workers = workers.max(1);
    // Two chunks wait per worker at most: reading stays ahead without holding the file.
    let (tx, rx) = sync_channel::<Chunk>(workers * 2);
    let rx: Mutex<Receiver<Chunk>> = Mutex::new(rx);
    // The error reported is that of the failed chunk that starts first in the file: after a
    // failure, chunks after it are skipped and chunks before it are still parsed.
    let failed_at = AtomicUsize::new(usize::MAX);
    let failed: Mutex<Option<(usize, PolarsError)>> = Mutex::new(None);
    let read = std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(chunk) = next else { return };
                    if chunk.offset > failed_at.load(Ordering::Relaxed) {
                        continue; // drained, so the reader never waits on a full channel
                    }
                    let done = parse(&chunk, options, schema, projection, nulls.as_ref())
                        .and_then(|df| each(chunk.offset, df));
                    if let Err(e) = done {
                        failed_at.fetch_min(chunk.offset, Ordering::Relaxed);
                        let mut f = failed.lock().unwrap_or_else(|e| e.into_inner());
                        if f.as_ref().is_none_or(|(at, _)| chunk.offset < *at) {
                            *f = Some((chunk.offset, e));
                        }
                    }
                }
            });
        }
        cut(path, options, chunk_bytes, &failed_at, tx)
    });
    if let Some((_, e)) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    read.map_err(PolarsError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every row end (one past a line end outside quotes), byte by byte.
    fn naive_ends(buf: &[u8]) -> Vec<usize> {
        let mut inside = false;
        let mut ends = Vec::new();
        for (i, &b) in buf.iter().enumerate() {
            if b == b'"' {
                inside = !inside;
            } else if b == b'\n' && !inside {
                ends.push(i + 1);
            }
        }
        ends
    }

    fn naive_last(buf: &[u8]) -> Option<usize> {
        naive_ends(buf).last().copied()
    }

    #[test]
    fn row_ends_skip_line_ends_inside_quotes() {
        let buf = b"1,\"a\nb\",x\n2,\"c\"\"\n\",y\n3,\"open\n";
        assert_eq!(first_row_end(buf, Some(b'"'), b'\n'), Some(10));
        assert_eq!(last_row_end(buf, Some(b'"'), b'\n'), naive_last(buf));
        assert_eq!(last_row_end(buf, Some(b'"'), b'\n'), Some(21));
        assert_eq!(last_row_end(b"no end", Some(b'"'), b'\n'), None);
        assert_eq!(last_row_end(b"a\n\"b\nc", Some(b'"'), b'\n'), Some(2));
    }

    /// What polars' own scan reads from `text` (the columns `keep`), or its error.
    fn scanned(text: &[u8], opts: &CsvParseOptions, keep: &[&str]) -> PolarsResult<DataFrame> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        LazyCsvReader::new(PlRefPath::from(path.to_str().unwrap()))
            .with_separator(opts.separator)
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_null_values(opts.null_values.clone())
            .with_missing_is_null(opts.missing_is_null)
            .with_raise_if_empty(false)
            .finish()?
            .select(keep.iter().map(|c| col(*c)).collect::<Vec<_>>())
            .collect()
    }

    /// What the chunked reader reads from `text` in chunks of `chunk` bytes, in file order:
    /// the columns `projection`, checking the others are empty.
    fn chunked(
        text: &[u8],
        opts: &CsvParseOptions,
        chunk: usize,
        projection: &[usize],
    ) -> PolarsResult<DataFrame> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let schema = LazyCsvReader::new(PlRefPath::from(path.to_str().unwrap()))
            .with_separator(opts.separator)
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_raise_if_empty(false)
            .finish()?
            .collect_schema()?;
        let got = Mutex::new(Vec::new());
        for_each_chunk(&path, opts, &schema, projection, 3, chunk, |at, df| {
            got.lock().unwrap().push((at, df));
            Ok(())
        })?;
        let mut got = got.into_inner().unwrap();
        got.sort_by_key(|(at, _)| *at);
        let mut all = DataFrame::empty_with_schema(&schema);
        for (_, df) in got {
            all.vstack_mut(&df)?;
        }
        let (read, unread): (Vec<_>, Vec<_>) = (0..schema.len())
            .map(|i| all.columns()[i].clone())
            .partition(|c| projection.contains(&schema.index_of(c.name()).unwrap()));
        assert!(unread.iter().all(|c| c.null_count() == c.len()));
        DataFrame::new(all.height(), read)
    }

    fn options() -> CsvParseOptions {
        CsvParseOptions::default()
            .with_null_values(Some(NullValues::AllColumns(vec!["".into(), "NA".into()])))
            .with_missing_is_null(true)
    }

    const MALFORMED: [&str; 3] = ["5\" screen", "\"open", "x\r"];

    /// A field as exports write them: plain, empty, a null marker, or quoted with the
    /// delimiter, a line end or an escaped quote inside; one in ten is malformed (a stray
    /// quote, a quote never closed, a carriage return).
    fn field() -> impl Strategy<Value = String> {
        let good = proptest::sample::select(vec![
            "a",
            "",
            "NA",
            "Zürich",
            "\"\"",
            "\"x,y\"",
            "\"two\nlines\"",
            "\"say \"\"hi\"\"\"",
            "1.5",
            " b ",
            "\"NA\"",
        ]);
        let bad = proptest::sample::select(MALFORMED.to_vec());
        prop_oneof![9 => good, 1 => bad].prop_map(str::to_string)
    }

    #[test]
    fn chunked_read_equals_polars_scan_on_an_export() {
        let text =
            b"id,when,what\r\n1,2024-01-01,\"a, b\"\r\n2,,\"\"\r\n3,NA,\"x\ny\"\r\n4,2024-01-02";
        for (projection, keep) in [
            (vec![0, 1, 2], vec!["id", "when", "what"]),
            (vec![2], vec!["what"]),
        ] {
            let want = scanned(text, &options(), &keep).unwrap();
            for chunk in [1, 5, 16, 1 << 20] {
                let got = chunked(text, &options(), chunk, &projection).unwrap();
                assert!(got.equals_missing(&want), "{got}\n{want}");
            }
        }
        // No column read: the rows are still counted.
        for chunk in [1, 5, 16, 1 << 20] {
            assert_eq!(chunked(text, &options(), chunk, &[]).unwrap().height(), 4);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 300,
            rng_seed: proptest::test_runner::RngSeed::Fixed(31),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        /// On random files, read as one chunk, the chunked reader reads what polars' scan
        /// reads, or fails where it fails; in smaller chunks too, when the file is well
        /// formed. A stray quote in an unquoted field (`5" screen`) confuses the line counter
        /// that both split by: what either reader makes of such a file (refused, or rows
        /// read around the quote) depends on where its chunks fall, so chunks of another size
        /// are not compared there.
        #[test]
        fn chunked_read_equals_polars_scan(
            rows in proptest::collection::vec(proptest::collection::vec(field(), 1..5), 0..12),
            crlf in any::<bool>(),
            last_eol in any::<bool>(),
            chunk in 1usize..40,
            read in 1usize..8,
        ) {
            // The columns read: a non-empty subset of the three, as bits of `read`.
            let projection: Vec<usize> = (0..3).filter(|i| read & (1 << i) != 0).collect();
            let keep: Vec<&str> = projection.iter().map(|&i| ["a", "b", "c"][i]).collect();
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("a,b,c{eol}");
            let lines: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
            text.push_str(&lines.join(eol));
            if last_eol && !lines.is_empty() {
                text.push_str(eol);
            }
            let want = scanned(text.as_bytes(), &options(), &keep);
            let whole = chunked(text.as_bytes(), &options(), 1 << 20, &projection);
            match (&want, &whole) {
                (Ok(w), Ok(g)) => prop_assert!(g.equals_missing(w), "{text:?}\npolars {w}\nchunked {g}"),
                (Err(_), Err(_)) => {}
                (w, g) => prop_assert!(false, "{text:?}\npolars {w:?}\nchunked {g:?}"),
            }
            // Malformed: where the line counter and the field parser disagree, and so what
            // either reader makes of the rows there, depends on where chunks fall.
            let well_formed = rows.iter().flatten().all(|f| !MALFORMED.contains(&f.as_str()));
            if well_formed {
                match (want, chunked(text.as_bytes(), &options(), chunk, &projection)) {
                    (Ok(w), Ok(g)) => prop_assert!(g.equals_missing(&w), "{text:?}\npolars {w}\nchunked {g}"),
                    (Err(_), Err(_)) => {}
                    (w, g) => prop_assert!(false, "{text:?}\npolars {w:?}\nchunked {g:?}"),
                }
            }
        }

        #[test]
        fn row_ends_are_the_naive_scans(bytes in proptest::collection::vec(
            proptest::sample::select(vec![b'a', b',', b'"', b'\n', b'\r']), 0..200)) {
            prop_assert_eq!(last_row_end(&bytes, Some(b'"'), b'\n'), naive_last(&bytes));
            let ends: Vec<usize> = naive_ends(&bytes);
            prop_assert_eq!(first_row_end(&bytes, Some(b'"'), b'\n'), ends.first().copied());
            prop_assert_eq!(rows_in(&bytes, Some(b'"'), b'\n', false), ends.len());
        }
    }
}
