//! Problems found while loading: what is wrong, where (file, rows, column) and how many.

use serde::Serialize;

use crate::format::thousands;

/// Errors make the dataset unusable until fixed; warnings are counted rows that later stages
/// leave out (and every report repeats them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, with everything a user needs to locate it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// Stable machine-readable identifier, e.g. `duplicate-lead-id`.
    pub code: &'static str,
    /// The file the problem is in.
    pub file: String,
    /// The column (the user's name for it), where one applies.
    pub column: Option<String>,
    /// How many rows are affected (0 when the problem is about the file as a whole).
    pub rows_affected: u64,
    /// The first few affected rows, as `line N` (CSV, header = line 1) or `row N` (Parquet).
    pub examples: Vec<String>,
    /// The full sentence shown to the user.
    pub message: String,
}

impl Problem {
    /// A warning about a whole file (no rows or column).
    pub fn file_warning(code: &'static str, file: String, message: String) -> Problem {
        Problem {
            severity: Severity::Warning,
            code,
            file,
            column: None,
            rows_affected: 0,
            examples: vec![],
            message,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// How many example rows a message names.
pub const MAX_EXAMPLES: usize = 5;

/// `line 3, line 7 and 1,204 more` style list.
pub fn list_examples(examples: &[String], total: u64) -> String {
    let mut s = examples.join(", ");
    let more = total.saturating_sub(examples.len() as u64);
    if more > 0 {
        s.push_str(&format!(" and {} more", thousands(more)));
    }
    s
}

/// The dataset was read but breaks the data contract; every problem is listed.
#[derive(Debug, Clone)]
pub struct Invalid(pub Vec<Problem>);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errors: Vec<&Problem> = self.0.iter().filter(|p| p.is_error()).collect();
        write!(f, "the dataset has {} error(s):", errors.len())?;
        for p in errors {
            write!(f, "\n  - {}", p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}

impl crate::error::StageError for Invalid {
    fn status(&self) -> crate::error::ExitStatus {
        crate::error::ExitStatus::User
    }
}

impl From<Invalid> for crate::error::Error {
    fn from(e: Invalid) -> Self {
        crate::error::Error::Stage(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(50_000_000), "50,000,000");
    }

    #[test]
    fn examples_mention_the_rest() {
        let ex = vec!["line 2".to_string(), "line 9".to_string()];
        assert_eq!(list_examples(&ex, 2), "line 2, line 9");
        assert_eq!(list_examples(&ex, 1002), "line 2, line 9 and 1,000 more");
    }
}
