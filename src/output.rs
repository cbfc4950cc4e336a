//! Writing results: atomically (a temporary file, then a rename) and never over an earlier run.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The first of `base`, `base-2`, `base-3`, ... that does not exist yet, created empty.
pub fn fresh_dir(base: &Path) -> Result<PathBuf> {
    let name = base
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("run")
        .to_string();
    for k in 1..10_000 {
        let dir = if k == 1 {
            base.to_path_buf()
        } else {
            base.with_file_name(format!("{name}-{k}"))
        };
        if dir.exists() {
            continue;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::Output {
            path: dir.clone(),
            message: format!("cannot create the folder: {e}"),
        })?;
        return Ok(dir);
    }
    Err(Error::Output {
        path: base.to_path_buf(),
        message: "no free run folder name (tried 10,000)".into(),
    })
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
