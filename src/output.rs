//! Writing results: atomically, never over an earlier run, and never half-finished.
//!
//! Every file is written to a temporary name and renamed into place ([`write_new`]). A command
//! that writes a folder builds it under a hidden staging name beside the final one
//! ([`Staged`]) and renames it when every file is there, so a folder with the final name is
//! always complete. An interrupted run (Ctrl-C, SIGINT/SIGTERM) removes its staging folders
//! before it exits ([`install_interrupt_handler`]); a failed one removes them on the way out.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Staging folders of this process that are not committed yet.
static STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// On SIGINT or SIGTERM: remove this process's staging folders, say so, and exit with 130.
pub fn install_interrupt_handler() {
    // A second installation (tests calling `run` twice) is refused by ctrlc; the first stays.
    let _ = ctrlc::set_handler(|| {
        abandon_all();
        eprintln!("interrupted: nothing was written");
        std::process::exit(130);
    });
}

fn abandon_all() {
    let dirs = match STAGING.lock() {
        Ok(mut v) => std::mem::take(&mut *v),
        Err(p) => std::mem::take(&mut *p.into_inner()),
    };
    for d in dirs {
        // A file being written while we remove can make one pass fail; try again.
        for _ in 0..5 {
            if std::fs::remove_dir_all(&d).is_ok() || !d.exists() {
                break;
            }
        }
    }
}

fn forget(dir: &Path) {
    if let Ok(mut v) = STAGING.lock() {
        v.retain(|d| d != dir);
    }
}

/// How a staged folder gets its final name.
enum Target {
    /// Exactly this path; an existing folder is an error, or replaced with `force`.
    Exact { path: PathBuf, force: bool },
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
    /// the new one is complete.
    pub fn exact(path: &Path, force: bool) -> Result<Staged> {
        if path.exists() && !force {
            return Err(Error::Output {
                path: path.to_path_buf(),
                message: "the folder exists; leadcal never overwrites an earlier run (use --out for another folder, or --force to replace it)".into(),
            });
        }
        Self::start(
            path,
            Target::Exact {
                path: path.to_path_buf(),
                force,
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
        std::fs::create_dir_all(&parent).map_err(|e| Error::Output {
            path: parent.clone(),
            message: format!("cannot create the folder: {e}"),
        })?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            // Left by an earlier process with our pid that was killed (SIGKILL).
            let _ = std::fs::remove_dir_all(&staging);
        }
        std::fs::create_dir(&staging).map_err(|e| Error::Output {
            path: staging.clone(),
            message: format!("cannot create the staging folder: {e}"),
        })?;
        if let Ok(mut v) = STAGING.lock() {
            v.push(staging.clone());
        }
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

    /// Give the complete folder its final name; returns that name.
    pub fn commit(mut self) -> Result<PathBuf> {
        let err = |path: &Path, message: String| Error::Output {
            path: path.to_path_buf(),
            message,
        };
        let fin = match &self.target {
            Target::Exact { path, force } => {
                if path.exists() {
                    if !force {
                        return Err(err(
                            path,
                            "the folder appeared while the run was working; nothing was replaced"
                                .into(),
                        ));
                    }
                    let old = self.staging.with_file_name(format!(
                        ".{}.replaced-{}",
                        path.file_name().and_then(|n| n.to_str()).unwrap_or("run"),
                        std::process::id()
                    ));
                    std::fs::rename(path, &old).map_err(|e| {
                        err(path, format!("cannot move the earlier folder aside: {e}"))
                    })?;
                    std::fs::rename(&self.staging, path)
                        .map_err(|e| err(path, format!("cannot rename the new folder: {e}")))?;
                    std::fs::remove_dir_all(&old).map_err(|e| {
                        err(&old, format!("the earlier folder was replaced, but its copy could not be removed: {e}"))
                    })?;
                } else {
                    std::fs::rename(&self.staging, path)
                        .map_err(|e| err(path, format!("cannot rename the new folder: {e}")))?;
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
                    .map_err(|e| err(&free, format!("cannot rename the new folder: {e}")))?;
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

/// Write `bytes` to `path` through `path.partial` and a rename; refuses to replace a file.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |message: String| Error::Output {
        path: path.to_path_buf(),
        message,
    };
    if path.exists() {
        return Err(err(
            "already exists; leadcal never overwrites an earlier output".into(),
        ));
    }
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|e| err(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_folder_appears_only_when_committed() {
        let d = tempfile::tempdir().unwrap();
        let fin = d.path().join("run");
        let s = Staged::exact(&fin, false).unwrap();
        write_new(&s.path().join("a.txt"), b"a").unwrap();
        assert!(!fin.exists());
        assert_eq!(s.commit().unwrap(), fin);
        assert_eq!(std::fs::read(fin.join("a.txt")).unwrap(), b"a");
        // Exists now: refused without force, and nothing is created.
        assert!(Staged::exact(&fin, false).is_err());
        // Dropped without a commit: the staging folder goes, the old run stays.
        let s = Staged::exact(&fin, true).unwrap();
        let staging = s.path().to_path_buf();
        drop(s);
        assert!(!staging.exists());
        assert_eq!(std::fs::read(fin.join("a.txt")).unwrap(), b"a");
        // With force, replaced only on commit.
        let s = Staged::exact(&fin, true).unwrap();
        write_new(&s.path().join("b.txt"), b"b").unwrap();
        assert!(fin.join("a.txt").exists());
        s.commit().unwrap();
        assert!(!fin.join("a.txt").exists() && fin.join("b.txt").exists());
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no staging or replaced folder is left");
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
