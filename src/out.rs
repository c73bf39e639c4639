//! Writing to stdout and stderr, and deciding colors for each of them.
//!
//! A reader that goes away (`keyflow blocks list | head -1`) closes stdout: the output then ends quietly
//! and the command finishes as it would have (a run still saves its sandbox state), exiting with its own
//! code, as ripgrep does, rather than panicking as `println!` would. Other write errors (a full disk) are
//! errors of the environment. Stderr has nowhere to report its own errors, so they are dropped.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::cli::ColorChoice;

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to stdout; after a closed pipe, writes nothing more and says nothing.
pub fn stdout(args: std::fmt::Arguments<'_>) -> io::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        other => other,
    }
}

/// Writes raw bytes to stdout, as [`stdout`] does.
pub fn stdout_bytes(bytes: &[u8]) -> io::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        other => other,
    }
}

/// Writes to stderr, dropping errors.
pub fn stderr(args: std::fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// `println!` to stdout through [`stdout`]: gives an `io::Result` to `?`.
macro_rules! outln {
    () => { $crate::out::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` to stdout through [`stdout`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::stdout(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    () => { $crate::out::stderr(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Whether to paint each stream: decided for each on its own, so `keyflow plan f.yaml > plan.txt` in a
/// terminal writes no escape codes into the file while the diagnostics on stderr stay colored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colors {
    /// Colors on stdout.
    pub out: bool,
    /// Colors on stderr.
    pub err: bool,
}

impl Colors {
    /// `--color always|never` governs both streams; `auto` follows the environment, then each stream's
    /// terminal.
    pub fn decide(choice: ColorChoice) -> Colors {
        Colors::decide_with(
            choice,
            |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()),
            io::stdout().is_terminal(),
            io::stderr().is_terminal(),
        )
    }

    fn decide_with(
        choice: ColorChoice,
        var: impl Fn(&str) -> Option<String>,
        stdout_terminal: bool,
        stderr_terminal: bool,
    ) -> Colors {
        let both = |on| Colors { out: on, err: on };
        match choice {
            ColorChoice::Always => both(true),
            ColorChoice::Never => both(false),
            ColorChoice::Auto => match from_environment(var) {
                Some(on) => both(on),
                None => Colors {
                    out: stdout_terminal,
                    err: stderr_terminal,
                },
            },
        }
    }
}

/// What the environment says, in the order anstream (cargo's and clap's) reads it: `NO_COLOR` set and
/// non-empty turns colors off (no-color.org), then `CLICOLOR_FORCE` set, non-empty and not `0` turns them
/// on even off a terminal, then `CLICOLOR=0` or `TERM=dumb` turn them off (bixense.com/clicolors).
fn from_environment(var: impl Fn(&str) -> Option<String>) -> Option<bool> {
    let set = |name: &str| var(name).filter(|value| !value.is_empty());
    if set("NO_COLOR").is_some() {
        return Some(false);
    }
    if set("CLICOLOR_FORCE").is_some_and(|value| value != "0") {
        return Some(true);
    }
    if set("CLICOLOR").is_some_and(|value| value == "0") || set("TERM").is_some_and(|t| t == "dumb")
    {
        return Some(false);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(env: &[(&str, &str)], out: bool, err: bool) -> Colors {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Colors::decide_with(
            ColorChoice::Auto,
            |name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            out,
            err,
        )
    }

    #[test]
    fn each_stream_follows_its_own_terminal() {
        assert_eq!(
            decide(&[], false, true),
            Colors {
                out: false,
                err: true
            }
        );
        assert_eq!(
            decide(&[], true, false),
            Colors {
                out: true,
                err: false
            }
        );
    }

    #[test]
    fn no_color_wins_then_clicolor_force() {
        let off = Colors {
            out: false,
            err: false,
        };
        let on = Colors {
            out: true,
            err: true,
        };
        assert_eq!(decide(&[("NO_COLOR", "1")], true, true), off);
        assert_eq!(
            decide(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")], true, true),
            off
        );
        // Set but empty is not set (no-color.org).
        assert_eq!(decide(&[("NO_COLOR", "")], true, true), on);
        assert_eq!(decide(&[("CLICOLOR_FORCE", "1")], false, false), on);
        assert_eq!(decide(&[("CLICOLOR_FORCE", "0")], false, false), off);
        assert_eq!(decide(&[("CLICOLOR", "0")], true, true), off);
        assert_eq!(decide(&[("TERM", "dumb")], true, true), off);
    }
}
