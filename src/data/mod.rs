//! Stage 1, data: read the user's exports under DATA-CONTRACT.md.
//!
//! Input: a dataset folder or `dataset.toml` ([`spec`]). Output: a [`Dataset`] whose leads and
//! outcomes are checked, in-memory frames with canonical column names and types, and whose
//! events stay a lazy scan (50M rows and more) that later stages filter and aggregate.
//! Guarantees: every row that is left out is counted in a [`problem::Problem`]; timestamps are
//! naive microsecond datetimes; `lead_id` has one type across tables (Int64 when every lead id
//! is an integer, else String).
//!
//! One file per job: [`spec`] (the mapping), [`sniff`] (a CSV's delimiter and header),
//! [`scan`] (opening a table, polars' errors in words), [`leads`], [`events`], [`outcomes`],
//! [`attributes`] (typing and value checks), [`personal`] (personal-data columns),
//! [`presets`] (CRM export names),
//! [`warehouse`] (a per-lead table made by `leadcal sql`), [`xlsx`] (Excel sheets), and [`dataset`] (the result and
//! the order the tables are read in).

pub mod attributes;
pub mod dataset;
pub mod detect;
pub mod events;
pub mod leads;
pub mod outcomes;
pub mod personal;
pub mod presets;
pub mod problem;
pub mod scan;
pub mod sniff;
pub mod spec;
pub mod warehouse;
pub mod xlsx;

pub use dataset::{
    Attribute, AttributeKind, Count, Dataset, LoadOptions, LoadReport, TableReport, load,
};
pub use personal::is_personal;
