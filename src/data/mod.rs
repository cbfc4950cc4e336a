//! Stage 1, data: read the user's exports under DATA-CONTRACT.md.
//!
//! Input: a dataset folder or `dataset.toml` ([`spec`]) and, from a caller that replays the
//! behaviour, the tags to keep events by ([`Tags`]). Output: a [`Dataset`] whose leads and
//! outcomes are checked, in-memory frames with canonical column names and types, whose text
//! attributes are also codes ([`codes`]), and whose events (50M rows and more) are read once:
//! checked, tagged and placed per lead in one streamed pass ([`events`], [`placed`]).
//! Guarantees: every row that is left out is counted in a [`problem::Problem`]; timestamps are
//! naive microsecond datetimes; `lead_id` has one type across tables (Int64 when every lead id
//! is an integer, else String).
//!
//! One file per job: [`spec`] (the mapping), [`sniff`] (a CSV's delimiter and header),
//! [`scan`] (opening a table, polars' errors in words), [`leads`], [`events`] (the pass),
//! `lead_index` (a lead id's row), `id_table` (lead ids' rows, looked up in batches),
//! `event_tally` (what the pass counts), [`placed`] (events per lead), [`cache`] (the pass's
//! result kept for the next run), [`codes`], [`outcomes`], [`attributes`] (typing and value
//! checks), [`personal`] (personal-data columns), [`presets`] (CRM export names),
//! [`warehouse`] (a per-lead table made by `leadcal sql`), [`xlsx`] (Excel sheets), and
//! [`dataset`] (the result and the order the tables are read in).

mod accounts;
mod activity;
pub mod attributes;
pub mod cache;
pub mod codes;
mod csv_chunks;
pub mod dataset;
pub mod detect;
pub mod encoding;
mod event_tally;
pub mod events;
pub mod footer;
mod id_match;
mod id_table;
mod lead_index;
pub mod leads;
pub mod outcomes;
pub mod personal;
pub mod placed;
pub mod presets;
pub mod problem;
pub mod scan;
pub mod shape;
pub mod sniff;
pub mod spec;
pub mod table;
pub mod types;
pub mod warehouse;
pub mod xlsx;

pub use cache::CacheOptions;
pub use codes::{AttributeCodes, MISSING};
pub use dataset::{Dataset, LoadOptions, load};
pub use events::{Tagger, Tags};
pub use personal::is_personal;
pub use placed::PlacedEvents;
pub use types::{Attribute, AttributeKind, Count, LoadReport, TableReport};
