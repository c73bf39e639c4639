//! How a step ended: what its task hands back, and what the scheduler records.

use std::time::Instant;

use serde_json::Value;

use crate::block::BlockError;
use crate::exec::report::{RunReport, Status};
use crate::exec::step::StepResult;

/// What a finished step task hands back.
pub(super) struct Finished {
    pub(super) index: usize,
    pub(super) result: Option<StepResult>,
    pub(super) items: Option<usize>,
    /// The items' outputs beside a failure (`for_each` under `on_error: continue`).
    pub(super) partial: Option<Value>,
    pub(super) runs: Option<Vec<RunReport>>,
    pub(super) attempts: u32,
    pub(super) started: Instant,
}

/// How a step ended, as the scheduler records it.
pub(super) struct Outcome {
    pub(super) status: Status,
    pub(super) output: Option<Value>,
    pub(super) error: Option<BlockError>,
    pub(super) reason: Option<String>,
    pub(super) attempts: u32,
    pub(super) items: Option<usize>,
    pub(super) runs: Option<Vec<RunReport>>,
    pub(super) started: Instant,
}

impl Outcome {
    /// A step that never ran.
    pub(super) fn without_run(status: Status, reason: String) -> Outcome {
        Outcome {
            status,
            output: None,
            error: None,
            reason: Some(reason),
            attempts: 0,
            items: None,
            runs: None,
            started: Instant::now(),
        }
    }

    /// A step refused before it ran.
    pub(super) fn refused(error: BlockError) -> Outcome {
        Outcome {
            error: Some(error),
            reason: None,
            ..Outcome::without_run(Status::Failed, String::new())
        }
    }

    /// A step whose task came back (`None`: cancelled while running).
    pub(super) fn of(finished: Finished) -> Outcome {
        let (status, output, error, reason) = match finished.result {
            Some(Ok(output)) => (Status::Succeeded, Some(output), None, None),
            Some(Err(error)) => (Status::Failed, finished.partial, Some(error), None),
            None => (
                Status::Cancelled,
                None,
                None,
                Some("cancelled by the operator while running".into()),
            ),
        };
        Outcome {
            status,
            output,
            error,
            reason,
            attempts: finished.attempts,
            items: finished.items,
            runs: finished.runs,
            started: finished.started,
        }
    }
}
