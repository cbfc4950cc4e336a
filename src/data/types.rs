//! The types the readers fill and the load returns: [`LoadReport`] (rows per table, event
//! types, stages, problems, what set the data end), [`TableReport`], [`Count`], and the lead
//! attributes' [`Attribute`] and [`AttributeKind`].
//!
//! They live apart from `dataset` (which runs the load) so that the readers import types,
//! never the orchestrator.

use serde::Serialize;

use super::problem::Problem;
use super::table::Table;
use crate::format::thousands;

/// Type of a lead attribute, inferred from its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeKind {
    Text,
    Integer,
    Float,
    Bool,
}

/// A profile attribute of the leads table.
#[derive(Debug, Clone, Serialize)]
pub struct Attribute {
    pub name: String,
    pub kind: AttributeKind,
    pub non_null: u64,
    pub distinct: u64,
}

/// A value and how often it occurs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Count {
    pub value: String,
    pub count: u64,
}

/// Rows read and used per table.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub table: Table,
    pub file: String,
    pub format: &'static str,
    pub rows: u64,
    pub rows_used: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// What loading found.
#[derive(Debug, Clone, Serialize, Default)]
pub struct LoadReport {
    pub tables: Vec<TableReport>,
    pub event_types: Vec<Count>,
    pub stages: Vec<Count>,
    pub problems: Vec<Problem>,
    /// The table and column whose latest valid time is the data end ("leads.csv, column
    /// `converted_at`"); `None` when the dataset holds no times.
    pub data_end_set_by: Option<String>,
}

impl LoadReport {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// Why no lead can convert when the outcomes hold rows but none of them has the `target`
    /// stage (a CRM's own stage names, or a misspelt `--target`); `None` otherwise.
    pub fn missing_target(&self, target: &str) -> Option<String> {
        if self.stages.is_empty() || self.stages.iter().any(|c| c.value == target) {
            return None;
        }
        let seen: Vec<String> = self
            .stages
            .iter()
            .take(12)
            .map(|c| format!("`{}` ({})", c.value, thousands(c.count)))
            .collect();
        Some(format!(
            "no outcome has the target stage `{target}`, so no lead can count as converted; the stages are {}. Name the stage that means a sale with --target",
            seen.join(", ")
        ))
    }
}
