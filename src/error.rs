//! Typed errors and their exit codes.
//!
//! Every error is either the user's to fix (exit code 2: bad input, bad flags, a command that
//! is not available yet) or ours (exit code 1: a bug or an environment failure). Messages about
//! data name the file, and where it applies the row and column, and what was expected.

use std::path::PathBuf;

use crate::data::problem::Problem;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong flags or arguments.
    #[error("{0}")]
    Usage(String),

    /// A `dataset.toml` that cannot be used.
    #[error("{path}: {message}")]
    Spec { path: PathBuf, message: String },

    /// An input file that cannot be opened or read at all.
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },

    /// A scoring model that cannot be used (names file, line and key).
    #[error(transparent)]
    Model(#[from] crate::scoring::config::ModelError),

    /// The dataset was read but breaks the data contract; every problem is listed.
    #[error("{}", format_problems(.0))]
    Invalid(Vec<Problem>),

    /// `validate` found errors and has already printed them with the profile.
    #[error("the dataset has {0} error(s), listed above")]
    Reported(usize),

    /// The predictive model cannot be fitted on this data (one class, too few converters, ...).
    #[error("cannot fit the model")]
    Fit(#[from] crate::model::FitError),

    /// Writing an output failed (disk full, permissions, an existing file we must not replace).
    #[error("{path}: {message}")]
    Output { path: PathBuf, message: String },

    /// A failure inside polars that we did not anticipate: a bug on our side.
    #[error("internal error while {context}")]
    Polars {
        context: String,
        #[source]
        source: polars::error::PolarsError,
    },

    /// Writing to standard output failed; a closed pipe (`leadcal validate | head`) is not an error.
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),

    /// Any other failure that is our fault, not the user's.
    #[error("internal error: {0}")]
    Internal(String),
}

fn format_problems(problems: &[Problem]) -> String {
    let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
    let mut out = format!("the dataset has {} error(s):", errors.len());
    for p in errors {
        out.push_str("\n  - ");
        out.push_str(&p.message);
    }
    out
}

impl Error {
    /// 2 for errors the user can fix, 1 for internal ones.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Stdout(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
            Error::Polars { .. } | Error::Internal(_) | Error::Stdout(_) => 1,
            Error::Fit(crate::model::FitError::Solver(_) | crate::model::FitError::Param(_)) => 1,
            _ => 2,
        }
    }

    /// Wrap a polars error with what we were doing.
    pub fn polars(context: impl Into<String>) -> impl FnOnce(polars::error::PolarsError) -> Error {
        let context = context.into();
        move |source| Error::Polars { context, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_separate_user_internal_and_closed_pipe() {
        let io = |k| Error::Stdout(std::io::Error::from(k));
        assert_eq!(io(std::io::ErrorKind::BrokenPipe).exit_code(), 0);
        assert_eq!(io(std::io::ErrorKind::Other).exit_code(), 1);
        assert_eq!(Error::Internal("x".into()).exit_code(), 1);
        let polars = Error::polars("joining")(polars::error::PolarsError::ComputeError("x".into()));
        assert_eq!(polars.exit_code(), 1);
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        assert_eq!(Error::Reported(3).exit_code(), 2);
    }
}
