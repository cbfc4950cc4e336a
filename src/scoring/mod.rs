//! Stage 3, scoring: the company's live points model.
//!
//! [`config`] reads a scoring-model TOML into a checked [`config::ScoringModel`]; every error
//! names the file, the line and the key. Replaying the model point in time (`leadcal score`,
//! hand-overs) builds on the checked model.

pub mod config;
pub mod explicit;
pub mod implicit;
pub mod score;
pub mod tags;
pub mod template;
