//! The events cache: what the one pass over the events table found, kept on disk so that a
//! second run on the same data reads it instead of the table.
//!
//! Input: a [`Key`] made of everything the pass reads (the events file's content, its mapping,
//! the leads' ids and creation times it checks against, the rule tags it keeps events by, the
//! earliest valid time, this build of leadcal) and, to store, the pass's result ([`Found`]).
//! Output: the [`Found`] of an earlier run with the same key, or nothing.
//! Guarantees:
//! - A stored result is used only when its key, its build and its checksum all match and
//!   every event it read lies inside this run's time bounds too; anything else is read afresh.
//!   A file that is damaged or was written by another build is ignored with a note.
//! - The cache never fails a run: a folder that cannot be made or written is a note.
//! - Only files this module wrote are replaced or removed (their name and their first bytes
//!   say so): the cache keeps its folder under its size limit by removing its own
//!   least-recently-used files.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::{DataFrame, DataType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::placed::PlacedEvents;
use super::problem::{Problem, Severity};
use super::types::Count;
use crate::error::{Error, Result};
use crate::progress::note;

/// The first bytes of every cache file.
const MAGIC: &[u8; 16] = b"leadcal events\0\x01";
/// Bumped when the file's layout changes (the build id changes with every build anyway).
const LAYOUT: u32 = 1;
/// Written in the machine's byte order: read back as another value on another order.
const ORDER: u32 = 0x0102_0304;
/// Bytes before the metadata: magic, layout, order, build, metadata length.
const HEADER: u64 = 16 + 4 + 4 + 16 + 8;
/// Default size limit of the cache folder.
const DEFAULT_LIMIT_GIB: f64 = 8.0;

/// Where the cache lives and how large it may grow.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheOptions {
    pub dir: PathBuf,
    /// Bytes the folder's cache files may take together.
    pub limit: u64,
}

impl CacheOptions {
    /// The folder `LEADCAL_CACHE_DIR` names, else `$XDG_CACHE_HOME/leadcal/events`, else
    /// `~/.cache/leadcal/events` (an empty variable counts as unset); the limit
    /// `LEADCAL_CACHE_LIMIT_GB` (GiB, default 8; a value that is not a size is a note and the
    /// default). `None` when no folder can be named (no home) or the limit is 0.
    pub fn from_env() -> Option<Self> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let dir = var("LEADCAL_CACHE_DIR").map(PathBuf::from).or_else(|| {
            var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .map(|c| c.join("leadcal").join("events"))
        })?;
        let gib = match var("LEADCAL_CACHE_LIMIT_GB") {
            None => DEFAULT_LIMIT_GIB,
            Some(v) => match v.to_str().and_then(|t| t.trim().parse::<f64>().ok()) {
                Some(g) if g.is_finite() && g >= 0.0 => g,
                _ => {
                    note(&format!(
                        "LEADCAL_CACHE_LIMIT_GB={} is not a size in GiB (such as 8 or 0.5; 0 turns the cache off); the default {DEFAULT_LIMIT_GIB} is used",
                        v.to_string_lossy()
                    ));
                    DEFAULT_LIMIT_GIB
                }
            },
        };
        let limit = (gib * (1u64 << 30) as f64) as u64;
        (limit > 0).then_some(CacheOptions { dir, limit })
    }
}

/// What identifies one pass: the file the result is stored under, and the build that may read it.
#[derive(Debug, Clone)]
pub struct Key {
    data: [u8; 32],
    build: [u8; 16],
}

impl Key {
    /// `parts`: each input of the pass, already reduced to bytes (hashes, mapping text, tags).
    pub fn new(parts: &[&[u8]], build: [u8; 16]) -> Self {
        let mut h = Sha256::new();
        h.update(LAYOUT.to_le_bytes());
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        Key {
            data: h.finalize().into(),
            build,
        }
    }

    fn hex(&self) -> String {
        self.data.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn file_name(&self) -> String {
        format!("events-{}.lcc", self.hex())
    }
}

/// A file's content as a 128-bit XXH3 digest (reads at memory speed; the cache's key needs to
/// tell changed content from unchanged, not to resist forgery); `None` when it cannot be read
/// (the pass then reports it).
pub fn file_digest(path: &Path) -> Option<[u8; 16]> {
    let mut f = File::open(path).ok()?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(h.digest128().to_le_bytes())
}

/// SHA-256 of a file's content in lower-case hex, as provenance writes it (and computes it
/// for the files the cache did not hash).
pub fn file_sha256(path: &Path) -> io::Result<String> {
    file_sha256_counted(path, &crate::progress::Counter::none())
}

/// [`file_sha256`], counting the bytes read in `done` (per MiB).
pub fn file_sha256_counted(path: &Path, done: &crate::progress::Counter) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        done.add(n as u64);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// SHA-256 of the named columns of each frame, value by value with their types' bytes, in row
/// order: the leads' ids and creation times the events pass checks events against.
pub fn frame_hash<'a, const N: usize>(
    frames: impl Iterator<Item = (&'a DataFrame, [&'a str; N])>,
) -> Result<[u8; 32]> {
    let _t = crate::timing::Stage::start("load events: cache key");
    let mut h = Sha256::new();
    let err = || Error::polars("the events cache's key");
    for (df, names) in frames {
        for name in names {
            let c = df.column(name).map_err(err())?;
            h.update(name.as_bytes());
            h.update(format!("{:?}", c.dtype()).as_bytes());
            if c.dtype().is_integer() || c.dtype().is_temporal() {
                let v = c.cast(&DataType::Int64).map_err(err())?;
                for x in v.i64().map_err(err())?.iter() {
                    match x {
                        Some(x) => h.update([&[1u8][..], &x.to_le_bytes()].concat()),
                        None => h.update([0u8]),
                    }
                }
            } else {
                let v = c.cast(&DataType::String).map_err(err())?;
                for x in v.str().map_err(err())?.iter() {
                    match x {
                        Some(x) => {
                            h.update([1u8]);
                            h.update((x.len() as u64).to_le_bytes());
                            h.update(x.as_bytes());
                        }
                        None => h.update([0u8]),
                    }
                }
            }
        }
    }
    Ok(h.finalize().into())
}

/// This build of leadcal: the digest of the running program, so that a changed program never
/// reads a result an earlier one stored.
pub fn build_id() -> Option<[u8; 16]> {
    file_digest(&std::env::current_exe().ok()?)
}

/// A problem as stored (its code as text).
#[derive(Serialize, Deserialize)]
struct StoredProblem {
    error: bool,
    code: String,
    file: String,
    column: Option<String>,
    rows_affected: u64,
    examples: Vec<String>,
    message: String,
}

/// The pass's result apart from the placement.
#[derive(Serialize, Deserialize)]
struct Meta {
    key: String,
    /// The latest valid time of this pass (µs): the run's "now".
    hi: i64,
    /// Events outside the time bounds: with any, the result holds only for the same bounds.
    out_of_range: u64,
    rows: u64,
    rows_used: u64,
    first: Option<i64>,
    last: Option<i64>,
    event_types: Vec<(String, u64)>,
    problems: Vec<StoredProblem>,
    /// Bytes of the placement after the metadata; `None` without one.
    placed_bytes: Option<u64>,
    sha256: Option<String>,
}

/// What the pass found, as the events table's reader reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub placed: Option<Arc<PlacedEvents>>,
    /// The pass's problems, in the order found.
    pub problems: Vec<Problem>,
    pub rows: u64,
    pub rows_used: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub event_types: Vec<Count>,
    /// Events outside the time bounds.
    pub out_of_range: u64,
    /// The SHA-256 of the events file as the user named it (for provenance), when known.
    pub sha256: Option<String>,
}

/// A problem code read back, kept for the rest of the run: `Problem` names its code as static
/// text, and a pass finds a handful of problems at most.
fn code(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// Reads and writes count their bytes into the checksum.
struct Summed<T> {
    inner: T,
    sum: xxhash_rust::xxh3::Xxh3,
    /// The bytes read, for the progress shown (a placement is read in a few large arrays).
    done: crate::progress::Counter,
}

impl<R: Read> Read for Summed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sum.update(&buf[..n]);
        self.done.add(n as u64);
        Ok(n)
    }
}

impl<W: Write> Write for Summed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sum.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Why a stored file was not used.
enum Refused {
    /// Not there, or stored for other bounds: read afresh without a word.
    Quietly,
    /// Damaged or from another build: read afresh and say so.
    Because(String),
}

/// The stored result for `key`, if there is a usable one; `hi` is this run's latest valid time.
pub fn lookup(opts: &CacheOptions, key: &Key, hi: i64) -> Option<Found> {
    let path = opts.dir.join(key.file_name());
    match read(&path, key, hi) {
        Ok(found) => {
            // Used now: the last file the limit removes.
            if let Ok(f) = File::options().append(true).open(&path) {
                let _ = f.set_modified(std::time::SystemTime::now());
            }
            Some(found)
        }
        Err(Refused::Quietly) => None,
        Err(Refused::Because(why)) => {
            note(&format!(
                "the events cache {} {why}; it is ignored and the events are read again",
                path.display()
            ));
            None
        }
    }
}

fn read(path: &Path, key: &Key, hi: i64) -> Result<Found, Refused> {
    // Only a regular file is opened: a pipe or a device at the path would block or never end.
    match fs::symlink_metadata(path) {
        Err(_) => return Err(Refused::Quietly),
        Ok(m) if !m.is_file() => {
            return Err(Refused::Because(
                "is not a regular file, so it is left alone".into(),
            ));
        }
        Ok(_) => {}
    }
    let file = File::open(path).map_err(|_| Refused::Quietly)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let damaged = |what: &str| Refused::Because(format!("is damaged ({what})"));
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut head = [0u8; HEADER as usize];
    r.read_exact(&mut head)
        .map_err(|_| damaged("shorter than its header"))?;
    if &head[..16] != MAGIC {
        return Err(Refused::Because(
            "was not written by leadcal's events cache".into(),
        ));
    }
    let word = |at: usize| u32::from_ne_bytes(head[at..at + 4].try_into().expect("4 bytes"));
    if word(16) != LAYOUT || word(20) != ORDER {
        return Err(Refused::Because(
            "was written by another version of leadcal".into(),
        ));
    }
    if head[24..40] != key.build {
        return Err(Refused::Because(
            "was written by another build of leadcal".into(),
        ));
    }
    let meta_len = u64::from_ne_bytes(head[40..48].try_into().expect("8 bytes"));
    let body = size.saturating_sub(head.len() as u64 + 16);
    if meta_len > body {
        return Err(damaged("its parts are longer than the file"));
    }
    // 4.6 GB at 10M leads: its bytes are counted as they are read.
    let step = crate::progress::Step::bytes_of("reading the checked events from the cache", size);
    let mut s = Summed {
        inner: r,
        sum: xxhash_rust::xxh3::Xxh3::new(),
        done: step.counter(),
    };
    let mut meta = vec![0u8; meta_len as usize];
    s.read_exact(&mut meta)
        .map_err(|_| damaged("cut short in its metadata"))?;
    let meta: Meta = serde_json::from_slice(&meta).map_err(|_| damaged("unreadable metadata"))?;
    if meta.key != key.hex() {
        return Err(damaged("it holds another key than its name"));
    }
    // Every event lay inside the stored bounds, so inside any later ones too (a result with
    // events outside them is never stored).
    if !(meta.out_of_range == 0 && meta.hi <= hi) {
        return Err(Refused::Quietly);
    }
    let placed = match meta.placed_bytes {
        Some(n) if n == body - meta_len => Some(Arc::new(
            PlacedEvents::read_from(&mut s, n)
                .map_err(|e| damaged(&format!("its placement: {e}")))?,
        )),
        None if body == meta_len => None,
        _ => return Err(damaged("its length does not match its parts")),
    };
    let sum = s.sum.digest128();
    let mut stored = [0u8; 16];
    s.inner
        .read_exact(&mut stored)
        .map_err(|_| damaged("no checksum"))?;
    if u128::from_le_bytes(stored) != sum {
        return Err(damaged("its checksum does not match its content"));
    }
    Ok(Found {
        placed,
        problems: meta
            .problems
            .into_iter()
            .map(|p| Problem {
                severity: if p.error {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                code: code(p.code),
                file: p.file,
                column: p.column,
                rows_affected: p.rows_affected,
                examples: p.examples,
                message: p.message,
            })
            .collect(),
        rows: meta.rows,
        rows_used: meta.rows_used,
        first: meta.first,
        last: meta.last,
        event_types: meta
            .event_types
            .into_iter()
            .map(|(value, count)| Count { value, count })
            .collect(),
        out_of_range: meta.out_of_range,
        sha256: meta.sha256,
    })
}

/// [`store`] on a thread of its own, so that the run goes on while the file is written (at 10M
/// leads, 4.6 GB that the kernel may make the writer wait for); join it before the process ends.
///
/// The pass read the file after its key was taken: the result is kept only when the file is
/// still the one the key was taken of (the same file, size and modification time, and the same
/// content digest), so a file replaced during the run can never be stored under the old key.
pub fn store_beside(
    opts: &CacheOptions,
    key: &Key,
    hi: i64,
    found: &Found,
    file: Watched,
) -> std::thread::JoinHandle<()> {
    let (opts, key, found) = (opts.clone(), key.clone(), found.clone());
    let unchanged = file.unchanged_now();
    std::thread::spawn(move || {
        let t = crate::timing::Stage::start("load events: store in the cache");
        let _step =
            crate::progress::Step::spinner("keeping the events in the cache for the next run");
        let kept = unchanged
            && file_digest(&file.path) == Some(file.digest)
            && file.unchanged_now()
            && store(&opts, &key, hi, &found);
        if !kept {
            t.discard();
        }
    })
}

/// The events file as its key saw it: where it is, its identity and its content's digest.
#[derive(Debug, Clone)]
pub struct Watched {
    path: PathBuf,
    stamp: Option<Stamp>,
    pub digest: [u8; 16],
}

/// What changes when a file is replaced or rewritten: device, inode, size, modification time.
#[derive(Debug, Clone, PartialEq)]
struct Stamp(u64, u64, u64, Option<std::time::SystemTime>);

fn stamp(path: &Path) -> Option<Stamp> {
    let m = fs::metadata(path).ok()?;
    #[cfg(unix)]
    let (dev, ino) = {
        use std::os::unix::fs::MetadataExt;
        (m.dev(), m.ino())
    };
    #[cfg(not(unix))]
    let (dev, ino) = (0, 0);
    Some(Stamp(dev, ino, m.len(), m.modified().ok()))
}

impl Watched {
    /// The file's identity, then its digest (`None` when it cannot be read).
    pub fn take(path: &Path) -> Option<Self> {
        let stamp = stamp(path);
        let digest = file_digest(path)?;
        Some(Watched {
            path: path.to_path_buf(),
            stamp,
            digest,
        })
    }

    fn unchanged_now(&self) -> bool {
        self.stamp.is_some() && stamp(&self.path) == self.stamp
    }
}

/// Keep `found` under `key` for later runs, then keep the folder under its limit; `true` when
/// it was written. A failure is a note; the run goes on. A result with events outside the
/// time bounds is not kept: those bounds end at this run's "now", and no later run has them.
pub fn store(opts: &CacheOptions, key: &Key, hi: i64, found: &Found) -> bool {
    if found.out_of_range > 0 {
        return false;
    }
    let written = match write(opts, key, hi, found) {
        Ok(()) => true,
        Err(e) => {
            note(&format!(
                "the events cache could not be written in {} ({e}); the next run reads the events again",
                opts.dir.display()
            ));
            false
        }
    };
    trim(opts, &key.file_name());
    written
}

fn write(opts: &CacheOptions, key: &Key, hi: i64, found: &Found) -> io::Result<()> {
    let placed_bytes = found
        .placed
        .as_ref()
        .map(|p| {
            let mut n = Counting(0);
            p.write_to(&mut n).map(|_| n.0)
        })
        .transpose()?;
    let meta = Meta {
        key: key.hex(),
        hi,
        out_of_range: found.out_of_range,
        rows: found.rows,
        rows_used: found.rows_used,
        first: found.first,
        last: found.last,
        event_types: found
            .event_types
            .iter()
            .map(|c| (c.value.clone(), c.count))
            .collect(),
        problems: found
            .problems
            .iter()
            .map(|p| StoredProblem {
                error: p.is_error(),
                code: p.code.to_string(),
                file: p.file.clone(),
                column: p.column.clone(),
                rows_affected: p.rows_affected,
                examples: p.examples.clone(),
                message: p.message.clone(),
            })
            .collect(),
        placed_bytes,
        sha256: found.sha256.clone(),
    };
    let meta = serde_json::to_vec(&meta).map_err(io::Error::other)?;
    let total = HEADER + meta.len() as u64 + placed_bytes.unwrap_or(0) + 16;
    if total > opts.limit {
        return Err(io::Error::other(format!(
            "{} MiB is more than the cache's limit of {} MiB (LEADCAL_CACHE_LIMIT_GB)",
            total >> 20,
            opts.limit >> 20
        )));
    }
    let target = opts.dir.join(key.file_name());
    if fs::symlink_metadata(&target).is_ok() && !replaceable(&target) {
        return Err(io::Error::other(format!(
            "{} is not a cache file leadcal wrote (or cannot be read), so it is left alone",
            target.display()
        )));
    }
    private_dir(&opts.dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(".events-")
        .suffix(".part")
        .tempfile_in(&opts.dir)?;
    {
        let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file());
        w.write_all(MAGIC)?;
        w.write_all(&LAYOUT.to_ne_bytes())?;
        w.write_all(&ORDER.to_ne_bytes())?;
        w.write_all(&key.build)?;
        w.write_all(&(meta.len() as u64).to_ne_bytes())?;
        let mut s = Summed {
            inner: w,
            sum: xxhash_rust::xxh3::Xxh3::new(),
            done: crate::progress::Counter::none(),
        };
        s.write_all(&meta)?;
        if let Some(p) = &found.placed {
            p.write_to(&mut s)?;
        }
        let sum = s.sum.digest128();
        let mut w = s.inner;
        w.write_all(&sum.to_le_bytes())?;
        w.flush()?;
    }
    // A reader sees the old file or the whole new one, never a part.
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

/// Counts the bytes a placement takes, without keeping them.
struct Counting(u64);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The cache folder, made readable by its owner only (it holds event times per lead).
fn private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// The first bytes of a regular file (not a link, a pipe or a folder): at most 16.
fn head_of(path: &Path) -> Option<Vec<u8>> {
    if !fs::symlink_metadata(path).ok()?.is_file() {
        return None;
    }
    let mut head = Vec::with_capacity(16);
    File::open(path)
        .ok()?
        .take(16)
        .read_to_end(&mut head)
        .ok()?;
    Some(head)
}

/// Named as this cache names its files: `events-<64 lower-case hex digits>.lcc`.
fn named_ours(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("events-")?.strip_suffix(".lcc"))
        .is_some_and(|h| {
            h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// A file of this cache: a regular file named as it names them, starting with [`MAGIC`].
fn ours(path: &Path) -> bool {
    named_ours(path) && head_of(path).is_some_and(|h| h == MAGIC)
}

/// A file at one of this cache's names that may be written over: one of its files, or one cut
/// short before the end of [`MAGIC`] (an empty file included), which nothing else could be.
fn replaceable(path: &Path) -> bool {
    named_ours(path) && head_of(path).is_some_and(|h| MAGIC.starts_with(&h))
}

/// A part this cache began writing (`.events-….part`, starting with [`MAGIC`]) that is more
/// than an hour old: left by a run that was killed while storing.
fn abandoned(path: &Path) -> bool {
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(".events-") && n.ends_with(".part"));
    let old = path
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() > 3600);
    named && old && head_of(path).is_some_and(|h| h == MAGIC)
}

/// Remove this cache's least-recently-used files until the folder's cache files fit the limit;
/// `keep` (the file just used) stays. Parts abandoned by a killed run go too.
fn trim(opts: &CacheOptions, keep: &str) {
    let Ok(entries) = fs::read_dir(&opts.dir) else {
        return;
    };
    let paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    for p in paths.iter().filter(|p| abandoned(p)) {
        let _ = fs::remove_file(p);
    }
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = paths
        .into_iter()
        .filter(|p| ours(p))
        .filter_map(|p| {
            let m = p.metadata().ok()?;
            Some((m.modified().ok()?, m.len(), p))
        })
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= opts.limit {
            break;
        }
        if path.file_name().and_then(|n| n.to_str()) == Some(keep) {
            continue;
        }
        if fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found() -> Found {
        Found {
            placed: PlacedEvents::from_pairs(vec![vec![(5, 1), (3, 2)], vec![], vec![(1, 1)]])
                .map(Arc::new),
            problems: vec![Problem::file_warning(
                "unknown-lead",
                "events.csv".into(),
                "3 events".into(),
            )],
            rows: 9,
            rows_used: 3,
            first: Some(1),
            last: Some(5),
            event_types: vec![Count {
                value: "visit".into(),
                count: 3,
            }],
            out_of_range: 0,
            sha256: Some("ab".into()),
        }
    }

    fn opts(dir: &Path) -> CacheOptions {
        CacheOptions {
            dir: dir.join("cache"),
            limit: 1 << 30,
        }
    }

    #[test]
    fn a_stored_pass_reads_back_equal_and_only_for_its_key_build_and_bounds() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let key = Key::new(&[b"events", b"leads"], [7; 16]);
        assert!(store(&o, &key, 100, &found()));
        assert_eq!(lookup(&o, &key, 100), Some(found()));
        // Later bounds hold every event when none was outside; earlier ones are read afresh.
        assert_eq!(lookup(&o, &key, 200), Some(found()));
        assert_eq!(lookup(&o, &key, 99), None);
        let other = Key::new(&[b"events", b"leads2"], [7; 16]);
        assert_eq!(lookup(&o, &other, 100), None);
        // Another build with the same inputs finds the file and refuses it.
        let rebuilt = Key::new(&[b"events", b"leads"], [8; 16]);
        assert_eq!(lookup(&o, &rebuilt, 100), None);
        // Events outside the bounds: those bounds end at this run's now; nothing is kept.
        let mut f = found();
        f.out_of_range = 2;
        let other_key = Key::new(&[b"events", b"future"], [7; 16]);
        assert!(!store(&o, &other_key, 100, &f));
        assert_eq!(lookup(&o, &other_key, 100), None);
        assert!(!o.dir.join(other_key.file_name()).exists());
    }

    #[test]
    fn a_damaged_file_is_refused_at_any_byte() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let key = Key::new(&[b"x"], [1; 16]);
        store(&o, &key, 10, &found());
        let path = o.dir.join(key.file_name());
        let good = fs::read(&path).unwrap();
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x41;
            fs::write(&path, &bad).unwrap();
            assert_eq!(lookup(&o, &key, 10), None, "byte {at} changed");
        }
        for len in 0..good.len() {
            fs::write(&path, &good[..len]).unwrap();
            assert_eq!(lookup(&o, &key, 10), None, "cut at {len}");
        }
        fs::write(&path, &good).unwrap();
        assert_eq!(lookup(&o, &key, 10), Some(found()));
        // An empty file at its name is replaced; another file there is left alone.
        fs::write(&path, b"").unwrap();
        assert!(store(&o, &key, 10, &found()));
        assert_eq!(lookup(&o, &key, 10), Some(found()));
        fs::write(&path, b"the user's").unwrap();
        assert!(!store(&o, &key, 10, &found()));
        assert_eq!(fs::read(&path).unwrap(), b"the user's");
    }

    #[test]
    fn an_events_file_replaced_while_it_was_read_is_never_stored_under_the_old_key() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let events = tmp.path().join("events.csv");
        fs::write(
            &events,
            b"lead_id,occurred_at,event_type\n1,2024-01-01,visit\n",
        )
        .unwrap();
        let seen = Watched::take(&events).unwrap();
        let key = Key::new(&[&seen.digest], [1; 16]);
        // Replaced by another file (a new export moved in), or rewritten in place.
        let other = tmp.path().join("other.csv");
        fs::write(
            &other,
            b"lead_id,occurred_at,event_type\n1,2024-01-01,demo\n",
        )
        .unwrap();
        fs::rename(&other, &events).unwrap();
        store_beside(&o, &key, 10, &found(), seen.clone())
            .join()
            .unwrap();
        assert!(!o.dir.join(key.file_name()).exists());
        // The same file, untouched: stored.
        let seen = Watched::take(&events).unwrap();
        let key = Key::new(&[&seen.digest], [1; 16]);
        store_beside(&o, &key, 10, &found(), seen).join().unwrap();
        assert_eq!(lookup(&o, &key, 10), Some(found()));
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_or_a_link_at_a_cache_name_is_never_opened_or_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let mut o = opts(tmp.path());
        fs::create_dir_all(&o.dir).unwrap();
        let key = Key::new(&[b"p"], [1; 16]);
        let fifo = o.dir.join(key.file_name());
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening a pipe for reading would wait for a writer for ever.
        assert_eq!(lookup(&o, &key, 10), None);
        assert!(!store(&o, &key, 10, &found()));
        // A link named like a cache file, and a name in capitals, survive the limit.
        let target = tmp.path().join("mine.lcc");
        let b = Key::new(&[b"b"], [1; 16]);
        store(&o, &b, 10, &found());
        fs::copy(o.dir.join(b.file_name()), &target).unwrap();
        let link = o.dir.join(format!("events-{}.lcc", "c".repeat(64)));
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let upper = o.dir.join(format!("events-{}.lcc", "D".repeat(64)));
        fs::copy(&target, &upper).unwrap();
        o.limit = 1;
        trim(&o, "none");
        assert!(fs::symlink_metadata(&link).is_ok() && target.exists() && upper.exists());
        assert!(!o.dir.join(b.file_name()).exists());
    }

    #[test]
    fn the_limit_removes_the_least_recently_used_of_its_own_files_only() {
        let tmp = tempfile::tempdir().unwrap();
        let mut o = opts(tmp.path());
        let a = Key::new(&[b"a"], [1; 16]);
        let b = Key::new(&[b"b"], [1; 16]);
        store(&o, &a, 10, &found());
        let one = fs::metadata(o.dir.join(a.file_name())).unwrap().len();
        let mine = o.dir.join(format!("events-{}.lcc", "0".repeat(64)));
        fs::write(&mine, b"the user's own file").unwrap();
        fs::write(o.dir.join("notes.txt"), b"kept").unwrap();
        // A killed run's part (ours, an hour old) goes; a young one may still be written.
        let part = |name: &str, age: u64| {
            let p = o.dir.join(name);
            fs::write(&p, [&MAGIC[..], b"..."].concat()).unwrap();
            let t = std::time::SystemTime::now() - std::time::Duration::from_secs(age);
            File::options()
                .append(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
            p
        };
        let (killed, writing) = (part(".events-a.part", 7200), part(".events-b.part", 10));
        let foreign = o.dir.join(".events-c.part");
        fs::write(&foreign, b"not ours").unwrap();
        let t = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        File::options()
            .append(true)
            .open(&foreign)
            .unwrap()
            .set_modified(t)
            .unwrap();
        // Room for one file: storing b removes a, never the user's files.
        o.limit = one + one / 2;
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        File::options()
            .append(true)
            .open(o.dir.join(a.file_name()))
            .unwrap()
            .set_modified(old)
            .unwrap();
        store(&o, &b, 10, &found());
        assert!(!o.dir.join(a.file_name()).exists());
        assert!(o.dir.join(b.file_name()).exists());
        assert_eq!(fs::read(&mine).unwrap(), b"the user's own file");
        assert!(o.dir.join("notes.txt").exists());
        assert!(!killed.exists() && writing.exists() && foreign.exists());
        // A result larger than the limit is not stored.
        o.limit = 10;
        let c = Key::new(&[b"c"], [1; 16]);
        store(&o, &c, 10, &found());
        assert!(!o.dir.join(c.file_name()).exists());
    }
}
