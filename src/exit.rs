//! Exit codes, one meaning each, and the typed error every command returns: its class picks the code.
//!
//! The codes follow the conventions scripts already test for: 2 for a bad input or a misused command (as
//! clap, grep and the shells do), 74 for a failure of the environment (`EX_IOERR` of BSD's `sysexits.h`:
//! the one published convention that names this class, and the one CI wrappers already know), 130 for a run
//! cancelled by Ctrl-C (128 + SIGINT, what a shell reports for a job it interrupted).

use std::fmt;

/// How `keyflow` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The flow is valid; the command or the run succeeded.
    Success,
    /// The run failed.
    RunFailed,
    /// The flow is invalid, a parameter is wrong, or the command was misused.
    Invalid,
    /// The environment failed: I/O, ports, unreadable files, missing credentials, a state file that cannot
    /// be written.
    Environment,
    /// The run was cancelled by Ctrl-C.
    Cancelled,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::RunFailed => 1,
            Exit::Invalid => 2,
            Exit::Environment => 74,
            Exit::Cancelled => 130,
        }
    }
}

/// Printed under `--help`, and the same table as the README's and `docs/cli.md`.
pub const TABLE: &str = "Exit codes:
  0    success (the flow is valid; the run succeeded)
  1    the run failed
  2    the flow is invalid, a parameter is wrong, or the command was misused
  74   the environment failed: I/O, a port, an unreadable file, missing credentials, a state file
       that cannot be written (EX_IOERR)
  130  the run was cancelled by Ctrl-C";

/// Which of the error exit codes an error stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A bad input: exit 2.
    Invalid,
    /// The environment: exit 74.
    Environment,
}

/// An error a command ends with, carrying its class.
#[derive(Debug)]
pub struct Failure {
    /// Which exit code it maps to.
    pub class: Class,
    /// What went wrong (with its context chain).
    pub error: anyhow::Error,
}

impl Failure {
    /// A bad input or a misused command.
    pub fn invalid(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            class: Class::Invalid,
            error: error.into(),
        }
    }

    /// A failure of the environment.
    pub fn environment(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            class: Class::Environment,
            error: error.into(),
        }
    }

    /// An error of code that does not say its class: an I/O error anywhere in its chain makes it one of
    /// the environment, anything else a bad input.
    pub fn classify(error: anyhow::Error) -> Failure {
        if error.chain().any(|cause| cause.is::<std::io::Error>()) {
            Failure::environment(error)
        } else {
            Failure::invalid(error)
        }
    }

    /// The exit this error ends with.
    pub fn exit(&self) -> Exit {
        match self.class {
            Class::Invalid => Exit::Invalid,
            Class::Environment => Exit::Environment,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

/// Writing to stdout failed (not a closed pipe, which ends the output quietly): a full disk, say.
impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Failure {
        Failure::environment(anyhow::Error::new(error).context("cannot write the output"))
    }
}

impl From<serde_json::Error> for Failure {
    fn from(error: serde_json::Error) -> Failure {
        Failure::environment(anyhow::Error::new(error).context("cannot write the JSON output"))
    }
}

/// Gives a result's error a class.
pub trait ResultExt<T> {
    /// The error is a failure of the environment.
    fn environment(self) -> Result<T, Failure>;
    /// The error is a bad input.
    fn invalid(self) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ResultExt<T> for Result<T, E> {
    fn environment(self) -> Result<T, Failure> {
        self.map_err(Failure::environment)
    }

    fn invalid(self) -> Result<T, Failure> {
        self.map_err(Failure::invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_exit_has_its_own_code() {
        let all = [
            Exit::Success,
            Exit::RunFailed,
            Exit::Invalid,
            Exit::Environment,
            Exit::Cancelled,
        ];
        let mut codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        codes.dedup();
        assert_eq!(codes, [0, 1, 2, 74, 130]);
        for code in codes {
            assert!(
                TABLE.contains(&format!("\n  {code} ")),
                "{code} not in the table"
            );
        }
    }

    #[test]
    fn io_errors_in_the_chain_are_the_environment() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "in use");
        let error = anyhow::Error::new(io).context("cannot start the twin");
        assert_eq!(Failure::classify(error).class, Class::Environment);
        assert_eq!(
            Failure::classify(anyhow::anyhow!("bad quota")).class,
            Class::Invalid
        );
    }
}
