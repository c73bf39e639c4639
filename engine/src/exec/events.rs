//! What the executor tells the outside world while a run goes on (the CLI draws its live lines from it).

use std::sync::Arc;
use std::time::Duration;

use crate::block::{LogLevel, LogSink};
use crate::redact::Secrets;

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

/// Where blocks' log messages go in a run: the run's observer, as [`RunEvent::Log`].
pub(crate) struct ObserverLogs(pub Arc<dyn RunObserver>);

impl LogSink for ObserverLogs {
    fn log(&self, step: &str, item: Option<usize>, level: LogLevel, message: String) {
        self.0.event(&RunEvent::Log {
            step: step.to_string(),
            item,
            level,
            message,
        });
    }
}

/// Passes events on with every known secret masked, and writes them to `tracing`.
pub(crate) struct MaskingObserver {
    pub inner: Arc<dyn RunObserver>,
    pub secrets: Arc<Secrets>,
}

impl RunObserver for MaskingObserver {
    fn event(&self, event: &RunEvent) {
        if self.secrets.is_empty() {
            trace(event);
            return self.inner.event(event);
        }
        let mut event = event.clone();
        match &mut event {
            RunEvent::Log { message, .. } | RunEvent::Retrying { error: message, .. } => {
                *message = self.secrets.mask_str(message).into_owned();
            }
            RunEvent::Polling {
                summary: Some(summary),
                ..
            } => {
                *summary = self.secrets.mask_str(summary).into_owned();
            }
            RunEvent::StepFinished { report } => {
                if let Some(output) = &mut report.output {
                    self.secrets.mask(output);
                }
                if let Some(error) = &mut report.error {
                    self.secrets.mask_error(error);
                }
            }
            _ => {}
        }
        trace(&event);
        self.inner.event(&event);
    }
}

/// What the run of a template tells: its steps' messages, retries and polls, under the step that uses
/// it (and its item), each saying which of the template's steps it is about. Its steps' own starts and ends
/// stay out of the parent's lines, but for failures (the step's report carries the template's run).
pub(crate) struct Nested {
    /// The parent run's observer.
    pub inner: Arc<dyn RunObserver>,
    /// The `uses:` step.
    pub step: String,
    /// Its item, inside `for_each`.
    pub item: Option<usize>,
}

impl RunObserver for Nested {
    fn event(&self, event: &RunEvent) {
        let step = self.step.clone();
        let item = self.item;
        let translated = match event {
            RunEvent::Retrying {
                step: inner,
                attempt,
                delay,
                error,
                ..
            } => RunEvent::Retrying {
                step,
                item,
                attempt: *attempt,
                delay: *delay,
                error: format!("{inner}: {error}"),
            },
            RunEvent::Polling {
                step: inner,
                polls,
                elapsed,
                summary,
                ..
            } => RunEvent::Polling {
                step,
                item,
                polls: *polls,
                elapsed: *elapsed,
                summary: Some(format!("{inner}: {}", summary.as_deref().unwrap_or(""))),
            },
            RunEvent::Log {
                step: inner,
                level,
                message,
                ..
            } => RunEvent::Log {
                step,
                item,
                level: *level,
                message: format!("{inner}: {message}"),
            },
            RunEvent::StepFinished { report } => match &report.error {
                Some(error) => RunEvent::Log {
                    step,
                    item,
                    level: LogLevel::Warn,
                    message: format!("{}: failed: {error}", report.id),
                },
                None => return,
            },
            RunEvent::StepStarted { .. } | RunEvent::ItemsDone { .. } => return,
        };
        self.inner.event(&translated);
    }
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
