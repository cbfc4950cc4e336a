//! The error every command returns, its exit status, and how each stage's typed error reaches it.
//!
//! Every error is either the user's to fix (exit status 2: bad input, bad flags) or ours (1: a
//! bug or an environment failure). Messages about data name the file, and where it applies the
//! row and column, and what was expected. This module imports no stage: a stage's own error
//! type lives with the stage, implements [`StageError`] and converts into [`Error::Stage`]
//! (`impl From<TheirError> for Error` beside it). Every cause stays reachable through
//! `source()`, so the printed chain is complete.

use std::fmt;
use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done (also: output closed by the reader, as in `leadcal validate | head`).
    Ok,
    /// A bug or an environment failure: ours.
    Internal,
    /// Bad input or arguments: the user's to fix.
    User,
    /// Stopped by SIGINT or SIGTERM before the outputs were complete.
    Interrupted,
}

impl ExitStatus {
    /// The process exit code: 0, 1, 2 or 130.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Internal => 1,
            ExitStatus::User => 2,
            ExitStatus::Interrupted => 130,
        }
    }
}

/// A stage's own error type.
pub trait StageError: std::error::Error + Send + Sync + 'static {
    /// Whether the user can fix it.
    fn status(&self) -> ExitStatus;
    /// A line printed above the error when its own text is a cause rather than a headline
    /// ("cannot fit the model", caused by: "only 12 converters ...").
    fn headline(&self) -> Option<&'static str> {
        None
    }
}

/// Everything that can stop a command.
#[derive(Debug)]
pub enum Error {
    /// Wrong flags or arguments, or data that leaves nothing to analyse.
    Usage(String),
    /// A `dataset.toml` that cannot be used.
    Spec { path: PathBuf, message: String },
    /// An input file that cannot be opened or read at all.
    Input { path: PathBuf, message: String },
    /// Reading or writing a file failed in the operating system; `what` says what was tried.
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
        user: bool,
    },
    /// `validate` found errors and has already printed them with the profile.
    Reported(usize),
    /// Writing an output failed (disk full, permissions, an existing file we must not replace).
    Output { path: PathBuf, message: String },
    /// A failure inside polars that we did not anticipate: a bug on our side.
    Polars {
        context: String,
        source: polars::error::PolarsError,
    },
    /// Writing to standard output failed; a closed pipe is not an error.
    Stdout(std::io::Error),
    /// Any other failure that is our fault, not the user's.
    Internal(String),
    /// A stage's typed error (a scoring model, a dataset that breaks the contract, a fit).
    Stage(Box<dyn StageError>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Internal(m) => write!(f, "internal error: {m}"),
            Error::Usage(m) => write!(f, "{m}"),
            Error::Spec { path, message }
            | Error::Input { path, message }
            | Error::Output { path, message } => write!(f, "{}: {message}", path.display()),
            Error::Io { path, what, .. } => write!(f, "{}: {what}", path.display()),
            Error::Reported(n) => write!(f, "the dataset has {n} error(s), listed above"),
            Error::Polars { context, .. } => write!(f, "internal error while {context}"),
            Error::Stdout(_) => write!(f, "cannot write to standard output"),
            Error::Stage(e) => match e.headline() {
                Some(h) => write!(f, "{h}"),
                None => write!(f, "{e}"),
            },
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Stdout(source) => Some(source),
            Error::Polars { source, .. } => Some(source),
            Error::Stage(e) => match e.headline() {
                Some(_) => Some(e.as_ref() as &(dyn std::error::Error + 'static)),
                None => e.source(),
            },
            _ => None,
        }
    }
}

impl Error {
    /// How the process ends for this error.
    pub fn status(&self) -> ExitStatus {
        match self {
            Error::Stdout(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitStatus::Ok,
            Error::Polars { .. } | Error::Internal(_) | Error::Stdout(_) => ExitStatus::Internal,
            Error::Io { user, .. } => {
                if *user {
                    ExitStatus::User
                } else {
                    ExitStatus::Internal
                }
            }
            Error::Stage(e) => e.status(),
            _ => ExitStatus::User,
        }
    }

    /// Wrap a polars error with what we were doing.
    pub fn polars(context: impl Into<String>) -> impl FnOnce(polars::error::PolarsError) -> Error {
        let context = context.into();
        move |source| Error::Polars { context, source }
    }

    /// An input file the operating system would not let us read (the user's to fix).
    pub fn read(
        path: impl Into<PathBuf>,
        what: &'static str,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            path,
            what,
            source,
            user: true,
        }
    }

    /// An output the operating system would not let us write (a full disk, permissions: the
    /// user's to fix, as before).
    pub fn write(
        path: impl Into<PathBuf>,
        what: &'static str,
    ) -> impl FnOnce(std::io::Error) -> Error {
        Self::read(path, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "too few converters")
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    impl StageError for Wrapped {
        fn status(&self) -> ExitStatus {
            ExitStatus::User
        }
        fn headline(&self) -> Option<&'static str> {
            Some("cannot fit the model")
        }
    }

    fn chain(e: &Error) -> Vec<String> {
        let mut v = vec![e.to_string()];
        let mut s = std::error::Error::source(e);
        while let Some(c) = s {
            v.push(c.to_string());
            s = c.source();
        }
        v
    }

    #[test]
    fn exit_codes_separate_user_internal_and_closed_pipe() {
        let io = |k| Error::Stdout(std::io::Error::from(k));
        assert_eq!(io(std::io::ErrorKind::BrokenPipe).status().code(), 0);
        assert_eq!(io(std::io::ErrorKind::Other).status().code(), 1);
        assert_eq!(Error::Internal("x".into()).status(), ExitStatus::Internal);
        let polars = Error::polars("joining")(polars::error::PolarsError::ComputeError("x".into()));
        assert_eq!(polars.status().code(), 1);
        assert_eq!(Error::Usage("x".into()).status().code(), 2);
        assert_eq!(Error::Reported(3).status().code(), 2);
        assert_eq!(ExitStatus::Interrupted.code(), 130);
    }

    #[test]
    fn every_cause_stays_in_the_chain() {
        let denied = || std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = Error::read("a.csv", "cannot read")(denied());
        assert_eq!(chain(&e), ["a.csv: cannot read", "denied"]);
        let e = Error::Stage(Box::new(Wrapped(denied())));
        assert_eq!(
            chain(&e),
            ["cannot fit the model", "too few converters", "denied"]
        );
        assert_eq!(e.status(), ExitStatus::User);
    }
}
