//! Text encodings of CSV files: a declared `encoding` (`windows-1252`, `latin-1`, `utf-16`)
//! or a UTF-16 byte-order mark is decoded to UTF-8 before any reader sees the file; a file
//! that is neither is read as UTF-8, and one that is not valid UTF-8 is refused with its first
//! bad line and the encoding it most likely is ([`guess`]).
//!
//! Input: a CSV [`TableSpec`]. Output: the same spec reading a decoded UTF-8 copy (a
//! temporary file that lives as long as the spec), with messages still naming the user's file
//! ([`TableSpec::display`]). Guarantees: decoding is encoding_rs's (the WHATWG decoders Excel's
//! and browsers' files are read with); lines keep their numbers, so every message's line is
//! the line in the user's file; the user's file is only read.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::table::{Decoded, Format, TableSpec};
use crate::error::{Error, Result};

/// The first 64 KiB of `path`.
pub fn head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(1 << 16);
    std::fs::File::open(path)?
        .take(1 << 16)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// The encoding a `dataset.toml` names, by one of its usual labels; `None` for one leadcal
/// does not read.
pub fn by_label(label: &str) -> Option<&'static Encoding> {
    match label.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" => Some(UTF_8),
        "windows-1252" | "cp1252" | "latin-1" | "latin1" | "iso-8859-1" | "iso-8859-15"
        | "ansi" => Some(WINDOWS_1252),
        "utf-16" | "utf16" | "utf-16le" | "unicode" => Some(UTF_16LE),
        "utf-16be" => Some(UTF_16BE),
        _ => None,
    }
}

/// The labels `dataset.toml` accepts, for messages.
pub const LABELS: &str =
    "utf-8, windows-1252 (also cp1252, latin-1, iso-8859-1), utf-16 (utf-16le), utf-16be";

/// The encoding of a UTF-16 byte-order mark at the start of `head`.
fn utf16_bom(head: &[u8]) -> Option<&'static Encoding> {
    match head {
        [0xFF, 0xFE, ..] => Some(UTF_16LE),
        [0xFE, 0xFF, ..] => Some(UTF_16BE),
        _ => None,
    }
}

/// The encoding bytes that are not UTF-8 most likely are: UTF-16 when NUL bytes stand
/// between the letters (little-endian when they follow them), else Windows-1252, which is
/// what Excel writes for "CSV (Trennzeichen-getrennt)" on a German Windows.
pub fn guess(head: &[u8]) -> &'static str {
    if let Some(e) = utf16_bom(head) {
        return if e == UTF_16LE { "utf-16" } else { "utf-16be" };
    }
    let sample = &head[..head.len().min(4096)];
    let (even, odd) =
        sample
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == 0)
            .fold(
                (0, 0),
                |(e, o), (i, _)| if i % 2 == 0 { (e + 1, o) } else { (e, o + 1) },
            );
    if even + odd > sample.len() / 8 {
        if odd >= even { "utf-16" } else { "utf-16be" }
    } else {
        "windows-1252"
    }
}

/// The encoding a CSV file at `path` is in when it is not UTF-8 (by a UTF-16 mark, or by the
/// first 64 KiB), for `init` to write; `None` for UTF-8.
pub fn detect(path: &Path) -> Option<&'static str> {
    let head = head(path).ok()?;
    if utf16_bom(&head).is_some() {
        return Some(guess(&head));
    }
    match std::str::from_utf8(&head) {
        Ok(_) => None,
        // A character cut by the 64 KiB limit is no error.
        Err(e) if e.error_len().is_none() => None,
        Err(_) => Some(guess(&head)),
    }
}

/// Decode `spec`'s CSV file when it declares an encoding other than UTF-8 or starts with a
/// UTF-16 byte-order mark: `spec.path` then names a UTF-8 copy and `spec.shown` the user's file.
pub fn prepare(spec: &mut TableSpec) -> Result<()> {
    if !matches!(spec.format, Format::Csv { .. }) || !spec.path.is_file() {
        return Ok(());
    }
    let mut head = [0u8; 2];
    let n = std::fs::File::open(&spec.path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(Error::read(&spec.path, "cannot read"))?;
    let encoding = match (utf16_bom(&head[..n]), spec.encoding) {
        (Some(bom), _) => bom,
        (None, Some(e)) if e != UTF_8 => {
            check_declared(&spec.path, e)?;
            e
        }
        _ => return Ok(()),
    };
    let (file, path) = decode(&spec.path, encoding)?;
    spec.shown = spec.path.clone();
    spec.path = path;
    spec.decoded = Some(Arc::new(file));
    Ok(())
}

/// Refuse a declared encoding the file's first bytes contradict: UTF-16 without NUL bytes
/// between the letters, or Windows-1252 for a file that is UTF-8 with letters beyond ASCII
/// (decoded, `Größe` would silently become `GrÃ¶ÃŸe`).
fn check_declared(path: &Path, declared: &'static Encoding) -> Result<()> {
    let head = head(path).map_err(Error::read(path, "cannot read"))?;
    let utf8 = match std::str::from_utf8(&head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    let label = match declared {
        e if e == UTF_16LE => "utf-16",
        e if e == UTF_16BE => "utf-16be",
        _ => "windows-1252",
    };
    let wrong = if declared == UTF_16LE || declared == UTF_16BE {
        !guess(&head).starts_with("utf-16")
    } else {
        utf8 && head.iter().any(|b| *b >= 0x80)
    };
    if !wrong {
        return Ok(());
    }
    let is = if utf8 { "utf-8" } else { guess(&head) };
    Err(Error::Input {
        path: path.to_path_buf(),
        message: format!(
            "dataset.toml declares encoding = \"{label}\", but the file's bytes are {is} text; set encoding = \"{is}\" (or remove the line for UTF-8)"
        ),
    })
}

/// Decode `path` from `encoding` (a byte-order mark wins) into a temporary UTF-8 file.
fn decode(path: &Path, encoding: &'static Encoding) -> Result<(Decoded, std::path::PathBuf)> {
    let err = |what: &'static str| Error::read(path, what);
    let mut input = std::fs::File::open(path).map_err(err("cannot read"))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("csv");
    let tmp = tempfile::Builder::new()
        .prefix(".leadcal-decoded-")
        .suffix(&format!(".{ext}"))
        .tempfile()
        .map_err(err("cannot make a decoded copy in the temporary folder"))?;
    let (out, tmp_path) = tmp.into_parts();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let mut decoder = encoding.new_decoder_with_bom_removal();
    let mut buf = vec![0u8; 1 << 20];
    let mut text = String::with_capacity(3 << 20);
    loop {
        let n = input.read(&mut buf).map_err(err("cannot read"))?;
        let last = n == 0;
        let mut src = &buf[..n];
        loop {
            text.clear();
            let (res, read, _) = decoder.decode_to_string(src, &mut text, last);
            out.write_all(text.as_bytes())
                .map_err(err("cannot write the decoded copy"))?;
            src = &src[read..];
            if res == encoding_rs::CoderResult::InputEmpty {
                break;
            }
        }
        if last {
            break;
        }
    }
    out.flush().map_err(err("cannot write the decoded copy"))?;
    let p = tmp_path.to_path_buf();
    Ok((Decoded { _file: tmp_path }, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_guessed_from_their_bytes() {
        assert_eq!(guess(b"a,b\n1,Gr\xf6\xdfe\n"), "windows-1252");
        let utf16: Vec<u8> = "lead_id,created_at\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(guess(&utf16), "utf-16");
        let be: Vec<u8> = "lead_id,created_at\n"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert_eq!(guess(&be), "utf-16be");
        assert_eq!(by_label("Latin-1"), Some(WINDOWS_1252));
        assert_eq!(by_label("UTF-16"), Some(UTF_16LE));
        assert_eq!(by_label("ebcdic"), None);
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.csv");
        std::fs::write(&p, b"a;Gr\xf6\xdfe\n").unwrap();
        assert_eq!(detect(&p), Some("windows-1252"));
        let mut bom = vec![0xFF, 0xFE];
        bom.extend(&utf16);
        std::fs::write(&p, &bom).unwrap();
        assert_eq!(detect(&p), Some("utf-16"));
        std::fs::write(&p, "a;Größe\n").unwrap();
        assert_eq!(detect(&p), None);
    }

    #[test]
    fn a_windows_1252_file_decodes_line_for_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.csv");
        // A buffer boundary inside the file does not matter: 3 MB of rows.
        let mut bytes = b"id,Unternehmensgr\xf6\xdfe\n".to_vec();
        for i in 0..200_000 {
            bytes.extend_from_slice(format!("{i},gro").as_bytes());
            bytes.extend_from_slice(b"\xdf\n");
        }
        std::fs::write(&p, &bytes).unwrap();
        let (_keep, out) = decode(&p, WINDOWS_1252).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.starts_with("id,Unternehmensgröße\n0,groß\n"));
        assert_eq!(text.lines().count(), 200_001);
    }
}
