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

fn sha256(path: &Path, done: &crate::progress::Counter) -> Result<String> {
    crate::data::cache::file_sha256_counted(path, done)
        .map_err(Error::read(path, "cannot read for hashing"))
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
    let files: Vec<_> = files.collect();
    // The bar's length: the files to read (a file that cannot be sized is found out below).
    let to_read: u64 = files
        .iter()
        .filter(|p| ds.known_sha256(p).is_none())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let step = crate::progress::Step::bytes_of("hashing the input files (SHA-256)", to_read);
    let done = step.counter();
    files
        .into_iter()
        .map(|path| {
            Ok(InputHash {
                file: path.display().to_string(),
                sha256: match ds.known_sha256(&path) {
                    Some(h) => h.to_string(),
                    None => sha256(&path, &done)?,
                },
            })
        })
        .collect()
}
