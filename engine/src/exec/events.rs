//! What the executor tells the outside world while a run goes on (the CLI draws its live lines from it).

use std::time::Duration;

use crate::block::LogLevel;

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// A step started (its first attempt, or its first item).
    StepStarted {
        /// The step.
        step: String,
        /// Items to run, for `for_each`.
        items: Option<usize>,
    },
    /// An attempt failed with a retryable error and will be tried again after `delay`.
    Retrying {
        /// The step.
        step: String,
        /// The item, inside `for_each`.
        item: Option<usize>,
        /// The attempt that failed (1 for the first).
        attempt: u32,
        /// The wait before the next attempt.
        delay: Duration,
        /// The error, as `code: message`.
        error: String,
    },
    /// An `until` poll did not meet its condition yet.
    Polling {
        /// The step.
        step: String,
        /// The item, inside `for_each`.
        item: Option<usize>,
        /// Polls so far.
        polls: u32,
        /// Time spent polling so far.
        elapsed: Duration,
        /// A short summary of the last output (its `progress` or `state` when it has one).
        summary: Option<String>,
    },
    /// Items of a `for_each` finished.
    ItemsDone {
        /// The step.
        step: String,
        /// Items finished.
        done: usize,
        /// Items in all.
        total: usize,
    },
    /// A block logged a message.
    Log {
        /// The step.
        step: String,
        /// The item, inside `for_each`.
        item: Option<usize>,
        /// Severity.
        level: LogLevel,
        /// The message.
        message: String,
    },
    /// A step reached its final status.
    StepFinished {
        /// The step's report line.
        report: super::report::StepReport,
    },
}

/// Receives run events. Called from the executor's tasks: keep it quick and non-blocking.
pub trait RunObserver: Send + Sync {
    /// One event.
    fn event(&self, event: &RunEvent);
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl RunObserver for Silent {
    fn event(&self, _: &RunEvent) {}
}

/// The `tracing` target of run events: the CLI shows them with `-v`, and keeps them out of the default
/// output, where its own progress lines already say the same.
pub const TARGET: &str = "keyflow::run";

/// Writes an event to `tracing` (what `-v` and `RUST_LOG` show); values are never logged, only ids,
/// statuses, counts and messages.
pub(crate) fn trace(event: &RunEvent) {
    match event {
        RunEvent::StepStarted { step, items } => {
            tracing::debug!(target: TARGET, step, ?items, "step started")
        }
        RunEvent::Retrying {
            step,
            item,
            attempt,
            delay,
            error,
        } => {
            tracing::warn!(target: TARGET,
                step,
                ?item,
                attempt,
                ?delay,
                "attempt failed, retrying: {error}"
            );
        }
        RunEvent::Polling {
            step,
            item,
            polls,
            elapsed,
            summary,
        } => {
            tracing::debug!(target: TARGET,
                step,
                ?item,
                polls,
                ?elapsed,
                "polling: {}",
                summary.as_deref().unwrap_or("")
            );
        }
        RunEvent::ItemsDone { step, done, total } => {
            tracing::trace!(target: TARGET, step, done, total, "items done")
        }
        RunEvent::Log {
            step,
            item,
            level,
            message,
        } => match level {
            LogLevel::Error => tracing::error!(target: TARGET, step, ?item, "{message}"),
            LogLevel::Warn => tracing::warn!(target: TARGET, step, ?item, "{message}"),
            LogLevel::Info => tracing::info!(target: TARGET, step, ?item, "{message}"),
            LogLevel::Debug => tracing::debug!(target: TARGET, step, ?item, "{message}"),
        },
        RunEvent::StepFinished { report } => {
            let status = report.status.name();
            match &report.error {
                Some(error) => tracing::warn!(target: TARGET,
                    step = report.id,
                    status,
                    attempts = report.attempts,
                    duration_ms = report.duration_ms,
                    "step finished: {}: {}",
                    error.code,
                    error.message
                ),
                None => tracing::info!(target: TARGET,
                    step = report.id,
                    status,
                    attempts = report.attempts,
                    duration_ms = report.duration_ms,
                    reason = report.reason.as_deref().unwrap_or(""),
                    "step finished"
                ),
            }
        }
    }
}
