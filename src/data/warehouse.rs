//! A per-lead table computed in a warehouse by `leadcal sql --with-events`, read in place of
//! the raw events.
//!
//! Input: a Parquet or CSV file with `lead_id`, `lc_model` (the fingerprint of the rules the
//! query matched), `last_event_at` (µs of the lead's latest event of any type) and the lists
//! `lc_t` / `lc_mask` of the lead's matched events (CSV: `[1,2]` or `{1,2}` text). Output: a
//! lazy frame of those lists and the latest event time. Guarantees: the table was made for the
//! rules of the model in use (else an error says so); lists have equal lengths; ids are of the
//! leads table's type. Leads absent from the table have no events.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};

/// The warehouse's per-lead table, checked.
pub struct WarehouseTable {
    pub path: PathBuf,
    /// `lead_id`, `lc_t` (list of µs), `lc_mask` (list of rule bits).
    pub lists: LazyFrame,
    /// Rows (leads) and matched events in the file.
    pub leads: u64,
    pub events: u64,
    /// The latest event of any lead, in µs.
    pub last_event: Option<i64>,
}

const COLUMNS: [&str; 5] = ["lead_id", "lc_model", "last_event_at", "lc_t", "lc_mask"];

fn err(path: &Path, message: String) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message,
    }
}

/// A list column, or its text form `[1, 2]` / `{1,2}` (CSV exports), as a list of integers.
fn list_expr(name: &str, dtype: &DataType) -> Expr {
    match dtype {
        DataType::List(_) => col(name).cast(DataType::List(Box::new(DataType::Int64))),
        _ => col(name)
            .cast(DataType::String)
            .str()
            .strip_chars(lit("[]{} "))
            .str()
            .split(lit(","))
            .list()
            .eval(col("").str().strip_chars(lit(NULL)))
            .list()
            .eval(col("").filter(col("").neq(lit(""))))
            .cast(DataType::List(Box::new(DataType::Int64))),
    }
}

/// Whether list column `c` holds an entry the integer cast turned into null.
fn has_non_integer(c: &str) -> Expr {
    col(c)
        .list()
        .len()
        .neq(col(c).list().eval(col("").drop_nulls()).list().len())
        .fill_null(false)
}

/// Read and check the table for `fingerprint` (what `leadcal sql` writes in its `lc_model` column);
/// `int_ids` when the leads table's ids are integers.
pub fn load(path: &Path, fingerprint: &str, int_ids: bool) -> Result<WarehouseTable> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let path_str = path.to_string_lossy().to_string();
    if !path.is_file() {
        return Err(err(path, "the features file does not exist".into()));
    }
    let lf = match ext.as_str() {
        "parquet" => LazyFrame::scan_parquet(
            PlRefPath::from(path_str.as_str()),
            ScanArgsParquet::default(),
        ),
        "csv" => LazyCsvReader::new(PlRefPath::from(path_str.as_str()))
            .with_infer_schema_length(Some(0))
            .finish(),
        _ => {
            return Err(err(
                path,
                "expected a .parquet or .csv file from `leadcal sql --with-events`".into(),
            ));
        }
    }
    .map_err(|e| err(path, format!("cannot read the table: {e}")))?;
    let mut lf = lf;
    let schema = lf
        .collect_schema()
        .map_err(|e| err(path, format!("cannot read the table: {e}")))?;
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| schema.get(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(err(
            path,
            format!(
                "missing column(s) {}: make the table with `leadcal sql --with-events`",
                missing.join(", ")
            ),
        ));
    }
    let id = if int_ids {
        col("lead_id").cast(DataType::Int64)
    } else {
        col("lead_id").cast(DataType::String)
    };
    let dt = |c: &str| schema.get(c).cloned().unwrap_or(DataType::String);
    let lists = lf.select([
        id.alias("lead_id"),
        col("lc_model").cast(DataType::String),
        col("last_event_at").cast(DataType::Int64),
        list_expr("lc_t", &dt("lc_t")).alias("lc_t"),
        list_expr("lc_mask", &dt("lc_mask")).alias("lc_mask"),
    ]);
    let stats = lists
        .clone()
        .select([
            len().alias("leads"),
            col("lead_id").null_count().alias("null_ids"),
            col("lc_t").list().len().sum().alias("events"),
            col("lc_t")
                .list()
                .len()
                .neq(col("lc_mask").list().len())
                .sum()
                .alias("ragged"),
            has_non_integer("lc_t").sum().alias("bad_lc_t"),
            has_non_integer("lc_mask").sum().alias("bad_lc_mask"),
            col("lc_model").n_unique().alias("models"),
            col("lc_model").first().alias("model"),
            col("last_event_at").max().alias("last"),
        ])
        .collect()
        .map_err(|e| err(path, format!("cannot read the table: {e}")))?;
    let get_u = |c: &str| {
        stats
            .column(c)
            .ok()
            .and_then(|s| s.get(0).ok())
            .and_then(|v| v.extract::<u64>())
            .unwrap_or(0)
    };
    if get_u("null_ids") > 0 {
        return Err(err(
            path,
            format!("{} row(s) with an empty lead_id", get_u("null_ids")),
        ));
    }
    // A list entry that is not an integer became null in the cast: name it, never drop it.
    for c in ["lc_t", "lc_mask"] {
        if get_u(&format!("bad_{c}")) == 0 {
            continue;
        }
        let rows = lists
            .clone()
            .filter(has_non_integer(c))
            .select([col("lead_id").cast(DataType::String)])
            .collect()
            .map_err(|e| err(path, format!("cannot read the table: {e}")))?;
        let first: Vec<String> = rows
            .column("lead_id")
            .ok()
            .and_then(|c| c.str().ok().cloned())
            .map(|s| {
                s.iter()
                    .take(5)
                    .flatten()
                    .map(|v| format!("`{v}`"))
                    .collect()
            })
            .unwrap_or_default();
        return Err(err(
            path,
            format!(
                "column `{c}`: a list entry that is not an integer in {} row(s), lead(s) {}",
                rows.height(),
                first.join(", ")
            ),
        ));
    }
    if get_u("ragged") > 0 {
        return Err(err(
            path,
            format!(
                "{} row(s) whose lc_t and lc_mask lists differ in length (a changed or truncated export)",
                get_u("ragged")
            ),
        ));
    }
    let model = stats
        .column("model")
        .ok()
        .and_then(|c| c.str().ok().and_then(|s| s.get(0).map(str::to_string)));
    if get_u("leads") > 0 && (get_u("models") != 1 || model.as_deref() != Some(fingerprint)) {
        return Err(err(
            path,
            format!(
                "the table was made for other rules (lc_model {}, this model is {fingerprint}): run `leadcal sql --with-events` again with the model you calibrate",
                model.unwrap_or_default()
            ),
        ));
    }
    let last_event = stats
        .column("last")
        .ok()
        .and_then(|c| c.get(0).ok())
        .and_then(|v| v.extract::<i64>());
    Ok(WarehouseTable {
        path: path.to_path_buf(),
        lists: lists.select([col("lead_id"), col("lc_t"), col("lc_mask")]),
        leads: get_u("leads"),
        events: get_u("events"),
        last_event,
    })
}
