//! Stage 1, data: read the user's exports under DATA-CONTRACT.md.
//!
//! Input: a dataset folder or `dataset.toml` ([`spec`]). Output: a [`Dataset`] whose leads and
//! outcomes are checked, in-memory frames with canonical column names and types, and whose
//! events stay a lazy scan (50M rows and more) that later stages filter and aggregate.
//! Guarantees: every row that is left out is counted in a [`problem::Problem`]; timestamps are
//! naive microsecond datetimes; `lead_id` has one type across tables (Int64 when every lead id
//! is an integer, else String).

pub mod load;
pub mod problem;
pub mod sniff;
pub mod spec;
pub mod warehouse;

pub use load::{
    Attribute, AttributeKind, Count, Dataset, LoadOptions, LoadReport, TableReport, load,
};
