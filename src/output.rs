//! Writing results: atomically, never over an earlier run, and never half-finished.
//!
//! Every file is written to a temporary file beside its final name, synced, and given that
//! name only if nothing has taken it meanwhile ([`NewFile`], [`write_new`]). A command that
//! writes a folder builds it under a hidden staging name beside the final one ([`Staged`]) and
//! renames it when every file is there, so a folder with the final name is always complete.
//! An interrupted run (Ctrl-C, SIGINT/SIGTERM) removes its staging folders and temporary files
//! before it exits ([`install_interrupt_handler`]); a failed one removes them on the way out.
//!
//! Every folder leadcal stages holds a marker file ([`RUN_MARKER`]). `--force` replaces only a
//! folder that holds it (one leadcal wrote as a run, whatever its name), never a folder that
//! holds an input of the run or the working folder, and never a regular file: anything else
//! at the target is refused before any work starts, naming it.
//!
//! [`checkpoint`] is the deterministic hook the interrupt tests use instead of sleeps.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Staging folders and temporary files of this process that are not committed yet.
static STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The environment variable that makes a run stop at a named [`checkpoint`].
pub const PAUSE_ENV: &str = "LEADCAL_PAUSE_AT";

/// On SIGINT or SIGTERM: remove this process's staging folders and temporary files, say so,
/// and exit with 130.
pub fn install_interrupt_handler() {
    // A second installation (tests calling `run` twice) is refused by ctrlc; the first stays.
    let _ = ctrlc::set_handler(|| {
        abandon_all();
        eprintln!("interrupted: nothing was written");
        std::process::exit(crate::error::ExitStatus::Interrupted.code());
    });
}

/// A named moment of a run. With `LEADCAL_PAUSE_AT=<name>` the process says
/// `leadcal: paused at <name>` on stderr and waits there for a signal, so a test interrupts
/// it at a known moment rather than after a guessed delay. Without it, nothing happens.
pub fn checkpoint(name: &str) {
    if std::env::var_os(PAUSE_ENV).is_some_and(|v| v == name) {
        eprintln!("leadcal: paused at {name}");
        loop {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

fn abandon_all() {
    let paths = match STAGING.lock() {
        Ok(mut v) => std::mem::take(&mut *v),
        Err(p) => std::mem::take(&mut *p.into_inner()),
    };
    for d in paths {
        // A file being written while we remove can make one pass fail; try again.
        for _ in 0..5 {
            let gone = if d.is_dir() {
                std::fs::remove_dir_all(&d).is_ok()
            } else {
                std::fs::remove_file(&d).is_ok()
            };
            if gone || !d.exists() {
                break;
            }
        }
    }
}

/// The file in every folder leadcal writes as a run; `--force` replaces only such a folder.
pub const RUN_MARKER: &str = ".leadcal-run";

/// The marker's first line; the files leadcal wrote into the folder follow, one a line.
const MARKER_TEXT: &str = "This folder was written by leadcal; --force may replace it while it holds only the files listed here.\n";

/// The files a folder's marker lists (relative paths), or `None` when the folder has no
/// marker leadcal wrote.
fn marker_files(dir: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(dir.join(RUN_MARKER)).ok()?;
    let rest = text.strip_prefix(MARKER_TEXT)?;
    Some(
        rest.lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Every file under `dir` (relative paths with `/`), sorted.
fn files_under(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let name = format!("{prefix}{}", e.file_name().to_string_lossy());
            if e.file_type()?.is_dir() {
                stack.push((e.path(), format!("{name}/")));
            } else {
                out.push(name);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The first entry of `dir` that leadcal did not write: not listed in its marker, and not in a
/// subfolder with a marker of its own that lists it (a report or comparison written into a
/// run). `None` when everything is leadcal's.
fn foreign_entry(dir: &Path) -> Option<String> {
    let Some(listed) = marker_files(dir) else {
        return Some(RUN_MARKER.to_string());
    };
    let entries = std::fs::read_dir(dir).ok()?;
    let mut names: Vec<(String, bool)> = entries
        .flatten()
        .map(|e| {
            let dir = e.file_type().is_ok_and(|t| t.is_dir());
            (e.file_name().to_string_lossy().into_owned(), dir)
        })
        .collect();
    names.sort();
    for (name, is_dir) in names {
        if name == RUN_MARKER {
            continue;
        }
        if is_dir {
            let prefix = format!("{name}/");
            let sub = dir.join(&name);
            if marker_files(&sub).is_some() && !listed.iter().any(|l| l.starts_with(&prefix)) {
                if let Some(f) = foreign_entry(&sub) {
                    return Some(format!("{name}/{f}"));
                }
                continue;
            }
            match files_under(&sub) {
                Ok(fs) => {
                    if let Some(f) = fs
                        .iter()
                        .find(|f| !listed.contains(&format!("{prefix}{f}")))
                    {
                        return Some(format!("{prefix}{f}"));
                    }
                }
                Err(_) => return Some(prefix),
            }
        } else if !listed.contains(&name) {
            return Some(name);
        }
    }
    None
}

/// Whether the folder at `path` may be replaced: refused with the reason (naming `path`) when
/// it is a regular file, exists without `force`, is not a folder leadcal wrote as a run (no
/// marker), holds a file leadcal did not write, or holds one of `inputs` or the working
/// folder. A path that does not exist is always fine.
pub fn replaceable(path: &Path, force: bool, inputs: &[&Path]) -> Result<()> {
    let refuse = |message: String| {
        Err(Error::Output {
            path: path.to_path_buf(),
            message,
        })
    };
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.is_dir() {
        return refuse(
            "is a file, not a run folder; leadcal never replaces a file it did not write (choose another --out)"
                .into(),
        );
    }
    let ours = marker_files(path).is_some();
    if !ours {
        return refuse(format!(
            "the folder exists and was not written by leadcal as a run (it has no {RUN_MARKER} file from leadcal), so leadcal does not replace it, with or without --force; choose another --out"
        ));
    }
    if !force {
        return refuse("the folder exists; leadcal never overwrites an earlier run (use --out for another folder, or --force to replace it)".into());
    }

    let Ok(target) = path.canonicalize() else {
        return refuse("cannot resolve the folder's path, so it is not replaced".into());
    };
    let cwd = std::env::current_dir().ok();
    for input in inputs.iter().copied().chain(cwd.as_deref()) {
        // An input that does not exist cannot be lost; a relative one resolves from here.
        if let Ok(i) = input.canonicalize()
            && i.starts_with(&target)
        {
            return refuse(format!(
                "holds {}, which this run reads (or works in); --force never replaces a folder with an input inside",
                input.display()
            ));
        }
    }
    if let Some(f) = foreign_entry(path) {
        return refuse(format!(
            "holds `{f}`, which leadcal did not write; --force replaces only a folder of leadcal's own files (move it out first, or choose another --out)"
        ));
    }
    Ok(())
}

fn remember(path: &Path) {
    if let Ok(mut v) = STAGING.lock() {
        v.push(path.to_path_buf());
    }
}

fn forget(path: &Path) {
    if let Ok(mut v) = STAGING.lock() {
        v.retain(|d| d != path);
    }
}

/// How a staged folder gets its final name.
enum Target {
    /// Exactly this path; an existing folder is an error, or replaced with `force` when
    /// [`replaceable`] allows it (`inputs`: what the run reads).
    Exact {
        path: PathBuf,
        force: bool,
        inputs: Vec<PathBuf>,
    },
    /// The first of `base`, `base-2`, `base-3`, ... that is free when the folder is committed.
    Fresh { base: PathBuf },
}

/// A folder under construction. Write into [`Staged::path`], then [`Staged::commit`]; dropped
/// without a commit, the staging folder is removed.
pub struct Staged {
    staging: PathBuf,
    target: Target,
    committed: bool,
}

impl Staged {
    /// Stage the folder `path`. Fails at once when it exists and `force` is not given, so a
    /// long run does not end in a refusal; with `force`, the old folder is replaced only when
    /// the new one is complete, and only when [`replaceable`] allows it. `inputs` are the
    /// files and folders this run reads.
    pub fn exact(path: &Path, force: bool, inputs: &[&Path]) -> Result<Staged> {
        replaceable(path, force, inputs)?;
        Self::start(
            path,
            Target::Exact {
                path: path.to_path_buf(),
                force,
                inputs: inputs.iter().map(|p| p.to_path_buf()).collect(),
            },
        )
    }

    /// Stage a folder named `base`, or `base-2`, `base-3`, ... if that is taken.
    pub fn fresh(base: &Path) -> Result<Staged> {
        Self::start(
            base,
            Target::Fresh {
                base: base.to_path_buf(),
            },
        )
    }

    fn start(path: &Path, target: Target) -> Result<Staged> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("run")
            .to_string();
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .map_err(Error::write(&parent, "cannot create the folder"))?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            // Left by an earlier process with our pid that was killed (SIGKILL).
            let _ = std::fs::remove_dir_all(&staging);
        }
        std::fs::create_dir(&staging)
            .map_err(Error::write(&staging, "cannot create the staging folder"))?;
        remember(&staging);
        std::fs::write(staging.join(RUN_MARKER), MARKER_TEXT)
            .map_err(Error::write(&staging, "cannot write the run marker"))?;
        Ok(Staged {
            staging,
            target,
            committed: false,
        })
    }

    /// Where to write the folder's files now.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Give the complete folder its final name; returns that name. The marker then lists
    /// every file of the folder, so that `--force` can tell them from files added later.
    pub fn commit(mut self) -> Result<PathBuf> {
        let files = files_under(&self.staging)
            .map_err(Error::write(&self.staging, "cannot list the new folder"))?;
        let listing: String = files
            .iter()
            .filter(|f| *f != RUN_MARKER)
            .map(|f| format!("{f}\n"))
            .collect();
        std::fs::write(
            self.staging.join(RUN_MARKER),
            format!("{MARKER_TEXT}{listing}"),
        )
        .map_err(Error::write(&self.staging, "cannot write the run marker"))?;
        let err = |path: &Path, message: String| Error::Output {
            path: path.to_path_buf(),
            message,
        };
        let fin = match &self.target {
            Target::Exact {
                path,
                force,
                inputs,
            } => {
                if std::fs::symlink_metadata(path).is_ok() {
                    if !force {
                        return Err(err(
                            path,
                            "the folder appeared while the run was working; nothing was replaced"
                                .into(),
                        ));
                    }
                    // Checked again: the folder may have changed while the run was working.
                    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
                    replaceable(path, true, &inputs)?;
                    let old = self.staging.with_file_name(format!(
                        ".{}.replaced-{}",
                        path.file_name().and_then(|n| n.to_str()).unwrap_or("run"),
                        std::process::id()
                    ));
                    std::fs::rename(path, &old)
                        .map_err(Error::write(path, "cannot move the earlier folder aside"))?;
                    std::fs::rename(&self.staging, path)
                        .map_err(Error::write(path, "cannot rename the new folder"))?;
                    std::fs::remove_dir_all(&old).map_err(Error::write(
                        &old,
                        "the earlier folder was replaced, but its copy could not be removed",
                    ))?;
                } else {
                    std::fs::rename(&self.staging, path)
                        .map_err(Error::write(path, "cannot rename the new folder"))?;
                }
                path.clone()
            }
            Target::Fresh { base } => {
                let name = base
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("run")
                    .to_string();
                let free = (1..10_000)
                    .map(|k| {
                        if k == 1 {
                            base.clone()
                        } else {
                            base.with_file_name(format!("{name}-{k}"))
                        }
                    })
                    .find(|d| !d.exists())
                    .ok_or_else(|| err(base, "no free folder name (tried 10,000)".into()))?;
                std::fs::rename(&self.staging, &free)
                    .map_err(Error::write(&free, "cannot rename the new folder"))?;
                free
            }
        };
        forget(&self.staging);
        self.committed = true;
        Ok(fin)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
            forget(&self.staging);
        }
    }
}

/// A file under construction: a temporary file beside `path` that gets `path`'s name in
/// [`NewFile::persist`], after an fsync, and only if no file has that name by then. Dropped
/// without a persist (an error on the way), the temporary file is removed; on Ctrl-C the
/// interrupt handler removes it.
pub struct NewFile {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl NewFile {
    /// Start writing `path`; an existing file there is refused at once.
    pub fn create(path: &Path) -> Result<NewFile> {
        if path.exists() {
            return Err(Error::Output {
                path: path.to_path_buf(),
                message: "already exists; leadcal never overwrites an earlier output".into(),
            });
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let prefix = format!(".{name}.");
        // The extension stays last: encoders that pick the format by it (PNG) still see it.
        let suffix = match path.extension().and_then(|e| e.to_str()) {
            Some(ext) => format!(".partial.{ext}"),
            None => ".partial".to_string(),
        };
        let mut b = tempfile::Builder::new();
        b.prefix(&prefix).suffix(&suffix);
        // Outputs are ordinary files (the umask applies), not tempfile's owner-only default.
        #[cfg(unix)]
        b.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let tmp = b.tempfile_in(dir).map_err(Error::write(
            path,
            "cannot create a temporary file beside it",
        ))?;
        remember(tmp.path());
        Ok(NewFile {
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// The file to write into.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.tmp.as_file_mut()
    }

    /// The temporary file's path, for writers that open a path themselves (the chart encoder).
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    /// Sync the data and give the file its final name; refuses when that name was taken
    /// meanwhile (the temporary file is then removed).
    pub fn persist(self) -> Result<()> {
        let NewFile { tmp, path } = self;
        let err = |message: String| Error::Output {
            path: path.clone(),
            message,
        };
        let tmp_path = tmp.path().to_path_buf();
        let synced = tmp.as_file().sync_all();
        let res = synced
            .map_err(Error::write(&path, "cannot write"))
            .and_then(|()| {
                tmp.persist_noclobber(&path).map(|_| ()).map_err(|e| {
                    if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                        err("appeared while leadcal was writing it; leadcal never overwrites an earlier output".into())
                    } else {
                        Error::write(&path, "cannot give the file its name")(e.error)
                    }
                })
            });
        forget(&tmp_path);
        res?;
        // The new name is durable only once the folder's entry is synced too.
        #[cfg(unix)]
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Write `bytes` to a new file `path` (see [`NewFile`]); refuses to replace a file.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = NewFile::create(path)?;
    f.file()
        .write_all(bytes)
        .map_err(Error::write(path, "cannot write"))?;
    f.persist()
}

/// Write `value` as pretty-printed JSON with a final newline to a new file `path`.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    write_json_counted(path, value, &crate::progress::Counter::none())
}

/// [`write_json`] with a step that counts the bytes written, for a file that can run to
/// hundreds of megabytes (segments at 10M leads).
pub fn write_json_shown(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let step = crate::progress::Step::bytes(format!("writing {}", name.unwrap_or_default()));
    write_json_counted(path, value, &step.counter())
}

/// JSON written as it is serialised, through a 1 MiB buffer, counting the bytes in `done`:
/// the bytes of [`to_json`], without holding them all in memory.
fn write_json_counted(
    path: &Path,
    value: &impl serde::Serialize,
    done: &crate::progress::Counter,
) -> Result<()> {
    /// Counts what passes through to the file (a buffer's worth at a time).
    struct Counted<'a> {
        inner: &'a mut std::fs::File,
        done: &'a crate::progress::Counter,
    }
    impl Write for Counted<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(buf)?;
            self.done.add(n as u64);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    let mut f = NewFile::create(path)?;
    let counted = Counted {
        inner: f.file(),
        done,
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, counted);
    serde_json::to_writer_pretty(&mut w, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => Error::write(path, "cannot write")(std::io::Error::new(kind, e)),
        None => Error::Internal(format!("serialising: {e}")),
    })?;
    w.write_all(b"\n")
        .and_then(|()| w.flush())
        .map_err(Error::write(path, "cannot write"))?;
    drop(w);
    f.persist()
}

/// `value` as pretty-printed JSON with a final newline: the form of every JSON output.
pub fn to_json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| Error::Internal(format!("serialising: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_written_as_it_is_serialised_equals_json_written_whole() {
        let d = tempfile::tempdir().unwrap();
        // Larger than the 1 MiB buffer, with nesting and text that needs escaping.
        let value: Vec<(String, Vec<f64>, Option<u32>)> = (0..20_000)
            .map(|i| {
                (
                    format!("a \"b\" {i}\n"),
                    vec![i as f64 / 3.0; 5],
                    (i % 3 == 0).then_some(i),
                )
            })
            .collect();
        let (a, b) = (d.path().join("a.json"), d.path().join("b.json"));
        write_json(&a, &value).unwrap();
        write_json_shown(&b, &value).unwrap();
        let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
        assert!(a.len() > 1 << 20, "{}", a.len());
        assert_eq!(a, b);
        assert_eq!(a, to_json(&value).unwrap().as_bytes());
        // Never over an existing file.
        assert!(write_json_shown(&d.path().join("a.json"), &value).is_err());
    }

    #[test]
    fn a_staged_folder_appears_only_when_committed() {
        let d = tempfile::tempdir().unwrap();
        let fin = d.path().join("run");
        let s = Staged::exact(&fin, false, &[]).unwrap();
        write_new(&s.path().join("a.txt"), b"a").unwrap();
        assert!(!fin.exists());
        assert_eq!(s.commit().unwrap(), fin);
        assert_eq!(std::fs::read(fin.join("a.txt")).unwrap(), b"a");
        // Exists now: refused without force, and nothing is created.
        assert!(Staged::exact(&fin, false, &[]).is_err());
        // Dropped without a commit: the staging folder goes, the old run stays.
        let s = Staged::exact(&fin, true, &[]).unwrap();
        let staging = s.path().to_path_buf();
        drop(s);
        assert!(!staging.exists());
        assert_eq!(std::fs::read(fin.join("a.txt")).unwrap(), b"a");
        // With force, replaced only on commit.
        let s = Staged::exact(&fin, true, &[]).unwrap();
        write_new(&s.path().join("b.txt"), b"b").unwrap();
        assert!(fin.join("a.txt").exists());
        s.commit().unwrap();
        assert!(!fin.join("a.txt").exists() && fin.join("b.txt").exists());
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no staging or replaced folder is left");
    }

    #[test]
    fn force_replaces_only_a_run_folder_that_holds_no_input() {
        let d = tempfile::tempdir().unwrap();
        // A folder of someone else's files: refused, and untouched.
        let docs = d.path().join("docs");
        std::fs::create_dir(&docs).unwrap();
        std::fs::write(docs.join("notes.txt"), "mine").unwrap();
        let e = Staged::exact(&docs, true, &[]).err().unwrap().to_string();
        assert!(e.contains("not written by leadcal"), "{e}");
        assert_eq!(
            std::fs::read_to_string(docs.join("notes.txt")).unwrap(),
            "mine"
        );
        // A regular file: refused with or without force.
        let file = d.path().join("somefile");
        std::fs::write(&file, "mine").unwrap();
        for force in [false, true] {
            let e = Staged::exact(&file, force, &[]).err().unwrap().to_string();
            assert!(e.contains("is a file"), "{e}");
        }
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
        // A run folder that holds an input of this run: refused.
        let run = Staged::exact(&d.path().join("run"), false, &[]).unwrap();
        let run = run.commit().unwrap();
        assert!(run.join(RUN_MARKER).is_file());
        std::fs::write(run.join("leads.csv"), "lead_id").unwrap();
        let input = run.join("leads.csv");
        let e = Staged::exact(&run, true, &[&input])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("which this run reads"), "{e}");
        // A file the user added to a run folder: refused, named.
        std::fs::remove_file(&input).unwrap();
        std::fs::write(run.join("meeting-notes.md"), "mine").unwrap();
        let e = Staged::exact(&run, true, &[]).err().unwrap().to_string();
        assert!(
            e.contains("holds `meeting-notes.md`, which leadcal did not write"),
            "{e}"
        );
        std::fs::remove_file(run.join("meeting-notes.md")).unwrap();
        // A marker made by hand (`touch`) is no marker.
        std::fs::write(docs.join(RUN_MARKER), "").unwrap();
        assert!(Staged::exact(&docs, true, &[]).is_err());
        // A report leadcal wrote into the run (its own marker) does not stop a replacement.
        let report = Staged::exact(&run.join("report-de"), false, &[]).unwrap();
        write_new(&report.path().join("report.html"), b"<p>").unwrap();
        report.commit().unwrap();
        // The run folder, holding no input and only leadcal's files: replaced.
        Staged::exact(&run, true, &[&file])
            .unwrap()
            .commit()
            .unwrap();
        assert!(!run.join("report-de").exists());
        let left = std::fs::read_dir(d.path()).unwrap().count();
        assert_eq!(left, 3, "docs, somefile and run; nothing staged is left");
    }

    #[test]
    fn a_new_file_never_replaces_one_and_leaves_no_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        write_json(&p, &[1, 2]).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "[\n  1,\n  2\n]\n");
        assert!(write_new(&p, b"x").is_err());
        // A file that appears while the new one is written is not replaced either.
        let q = d.path().join("b.txt");
        let f = NewFile::create(&q).unwrap();
        std::fs::write(&q, "theirs").unwrap();
        assert!(
            f.persist()
                .unwrap_err()
                .to_string()
                .contains("never overwrites")
        );
        assert_eq!(std::fs::read_to_string(&q).unwrap(), "theirs");
        // Dropped without a persist (an error while writing): nothing is left.
        drop(NewFile::create(&d.path().join("c.txt")).unwrap());
        let mut names: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.json", "b.txt"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_ne!(
                mode & 0o044,
                0,
                "readable by others like any file (umask permitting)"
            );
        }
    }

    #[test]
    fn fresh_folders_take_the_next_free_name() {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().join("out");
        let a = Staged::fresh(&base).unwrap().commit().unwrap();
        let b = Staged::fresh(&base).unwrap().commit().unwrap();
        assert_eq!(a, base);
        assert_eq!(b, d.path().join("out-2"));
    }
}
