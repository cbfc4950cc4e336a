//! Provenance: the SHA-256 of every input a run read, for the recommended config's header and
//! the report.
//!
//! Input: the dataset (its tables, or the warehouse table in place of the events) and the live
//! model's path. Output: [`InputHash`]es in reading order. Guarantees: a file that cannot be
//! read for hashing is an error naming it; nothing is hashed twice (the events file's hash
//! comes from the events cache when it holds it).

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::data::Dataset;
use crate::data::table::Table;
use crate::error::{Error, Result};
use crate::recommend::InputHash;

fn sha256(path: &Path) -> Result<String> {
    crate::data::cache::file_sha256(path).map_err(Error::read(path, "cannot read for hashing"))
}

/// SHA-256 of `bytes`, as written for a file.
pub fn sha256_bytes(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

/// Every table the run read, then the live model.
pub fn inputs(ds: &Dataset, model_path: &Path) -> Result<Vec<InputHash>> {
    let warehouse = ds.warehouse.as_ref().map(|w| w.path.clone());
    let from_warehouse = warehouse.is_some();
    let files = ds
        .spec
        .tables()
        // With --features the raw events, if present, were not read.
        .filter(|ts| !from_warehouse || ts.table != Table::Events)
        .map(|ts| ts.shown.clone())
        .chain(warehouse)
        .chain(std::iter::once(model_path.to_path_buf()));
    files
        .map(|path| {
            Ok(InputHash {
                file: path.display().to_string(),
                sha256: match ds.known_sha256(&path) {
                    Some(h) => h.to_string(),
                    None => sha256(&path)?,
                },
            })
        })
        .collect()
}
