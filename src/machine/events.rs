//! `run --output jsonl`: one JSON object per line as the run goes (a step starts, retries, polls, logs,
//! finishes), ending with the run report, so a program can follow a run as a person follows the progress
//! lines. Every line has `format_version` and `event`.

use std::sync::Mutex;

use keyflow_engine::block::LogLevel;
use keyflow_engine::exec::events::{RunEvent, RunObserver};
use keyflow_engine::exec::report::{RunReport, StepReport};
use schemars::JsonSchema;
use serde::Serialize;

use super::FormatVersion;
use super::diagnostic::DiagnosticJson;

/// One line of `run --output jsonl`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EventLine<'a> {
    /// The format's version.
    pub format_version: FormatVersion,
    /// What happened.
    #[serde(flatten)]
    pub event: Event<'a>,
}

/// What happened, named by `event`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    /// A step started (its first attempt, or its first item).
    StepStarted {
        /// The step.
        step: &'a str,
        /// Items to run, for `for_each`.
        items: Option<usize>,
    },
    /// An attempt failed with a retryable error and will be tried again after `delay_ms`.
    Retrying {
        /// The step.
        step: &'a str,
        /// The item, inside `for_each`.
        item: Option<usize>,
        /// The attempt that failed (1 for the first).
        attempt: u32,
        /// The wait before the next attempt, in milliseconds.
        delay_ms: u64,
        /// The error, as `code: message`.
        error: &'a str,
    },
    /// An `until:` poll did not meet its condition yet.
    Polling {
        /// The step.
        step: &'a str,
        /// The item, inside `for_each`.
        item: Option<usize>,
        /// Polls so far.
        polls: u32,
        /// Time spent polling so far, in milliseconds.
        elapsed_ms: u64,
        /// A short summary of the last output (its `progress` or `state`).
        summary: Option<&'a str>,
    },
    /// Items of a `for_each` finished.
    ItemsDone {
        /// The step.
        step: &'a str,
        /// Items finished.
        done: usize,
        /// Items in all.
        total: usize,
    },
    /// A block logged a message.
    Log {
        /// The step.
        step: &'a str,
        /// The item, inside `for_each`.
        item: Option<usize>,
        /// Severity.
        level: LogLevel,
        /// The message (secrets masked).
        message: &'a str,
    },
    /// A step reached its final status; `step` is its line of the run report.
    StepFinished {
        /// The step's report.
        step: &'a StepReport,
    },
    /// The run ended: the last line, with the whole run report.
    Report {
        /// The run report, as `run --output json` prints it (without `format_version`).
        report: &'a RunReport,
    },
    /// The flow is invalid or a parameter is wrong: the only line, and nothing ran.
    Invalid {
        /// The flow file as named.
        file: &'a str,
        /// Every problem found, as `validate --output json` gives them.
        diagnostics: &'a [DiagnosticJson],
    },
}

impl<'a> Event<'a> {
    /// The event of a run event.
    pub fn of(event: &'a RunEvent) -> Event<'a> {
        match event {
            RunEvent::StepStarted { step, items } => Event::StepStarted {
                step,
                items: *items,
            },
            RunEvent::Retrying {
                step,
                item,
                attempt,
                delay,
                error,
            } => Event::Retrying {
                step,
                item: *item,
                attempt: *attempt,
                delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error,
            },
            RunEvent::Polling {
                step,
                item,
                polls,
                elapsed,
                summary,
            } => Event::Polling {
                step,
                item: *item,
                polls: *polls,
                elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                summary: summary.as_deref(),
            },
            RunEvent::ItemsDone { step, done, total } => Event::ItemsDone {
                step,
                done: *done,
                total: *total,
            },
            RunEvent::Log {
                step,
                item,
                level,
                message,
            } => Event::Log {
                step,
                item: *item,
                level: *level,
                message,
            },
            RunEvent::StepFinished { report } => Event::StepFinished { step: report },
        }
    }
}

/// Writes one event as a line on stdout.
pub fn write(event: Event<'_>) -> std::io::Result<()> {
    let line = EventLine {
        format_version: FormatVersion,
        event,
    };
    let text = serde_json::to_string(&line).map_err(std::io::Error::other)?;
    outln!("{text}")
}

/// Writes each run event as it comes; the first error (other than a closed pipe) is kept for the end.
#[derive(Default)]
pub struct JsonLines {
    error: Mutex<Option<std::io::Error>>,
}

impl JsonLines {
    /// The first error writing a line met, if any.
    pub fn take_error(&self) -> Option<std::io::Error> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }
}

impl RunObserver for JsonLines {
    fn event(&self, event: &RunEvent) {
        if let Err(error) = write(Event::of(event))
            && let Ok(mut first) = self.error.lock()
        {
            first.get_or_insert(error);
        }
    }
}

/// Hands every event to each of several observers (the progress lines and the JSON lines).
pub struct Fanout(pub Vec<std::sync::Arc<dyn RunObserver>>);

impl RunObserver for Fanout {
    fn event(&self, event: &RunEvent) {
        for observer in &self.0 {
            observer.event(event);
        }
    }
}
