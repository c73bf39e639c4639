//! How a step ended: [`StepOutcome`], the one record of it. The run context's entry (what later steps read)
//! and the report's line (what is shown and stored, secrets redacted) are views of it.

use std::time::Duration;

use serde_json::Value;

use super::report::{RunReport, StepReport};
use crate::block::BlockError;
use crate::context::{Status, StepEntry};
use crate::plan::PlannedStep;
use crate::redact::{SecretFields, Secrets};

/// How a step ended.
#[derive(Debug, Clone)]
pub(crate) struct StepOutcome {
    /// Its final status.
    pub status: Status,
    /// Its output, as the block returned it (secrets included: later steps read it). A failed `for_each`
    /// step under `on_error: continue` has the items' outputs, `null` for the items that failed.
    pub output: Option<Value>,
    /// Its error, as the block returned it.
    pub error: Option<BlockError>,
    /// Why it was skipped or cancelled.
    pub reason: Option<String>,
    /// Calls made, retries and polls included (for `for_each`, summed over the items).
    pub attempts: u32,
    /// Items of its `for_each`.
    pub items: Option<usize>,
    /// For a `uses:` step: the template's runs, one per item, in item order.
    pub runs: Option<Vec<RunReport>>,
    /// From its start to its end.
    pub duration: Duration,
    /// Its result was recorded by the run this one resumes, and reused.
    pub reused: bool,
}

impl StepOutcome {
    /// A step that ended without running: skipped, or not started.
    pub fn not_run(status: Status, reason: String) -> StepOutcome {
        StepOutcome {
            status,
            output: None,
            error: None,
            reason: Some(reason),
            attempts: 0,
            items: None,
            runs: None,
            duration: Duration::ZERO,
            reused: false,
        }
    }

    /// A step whose result the resumed run recorded: it succeeded with `output` in `attempts` calls.
    pub fn reused(output: serde_json::Value, attempts: u32) -> StepOutcome {
        StepOutcome {
            output: Some(output),
            reason: None,
            attempts,
            reused: true,
            ..StepOutcome::not_run(Status::Succeeded, String::new())
        }
    }

    /// A step refused before it ran (destructive, and the run may not).
    pub fn refused(error: BlockError) -> StepOutcome {
        StepOutcome {
            error: Some(error),
            reason: None,
            ..StepOutcome::not_run(Status::Failed, String::new())
        }
    }

    /// A step that ran: succeeded with its output, or failed with its error (and, for a `for_each` step
    /// under `on_error: continue`, the outputs of the items that succeeded).
    pub fn ran(result: Result<Value, BlockError>, partial: Option<Value>) -> StepOutcome {
        let (status, output, error) = match result {
            Ok(output) => (Status::Succeeded, Some(output), None),
            Err(error) => (Status::Failed, partial, Some(error)),
        };
        StepOutcome {
            status,
            output,
            error,
            reason: None,
            ..StepOutcome::not_run(status, String::new())
        }
    }

    /// A step the operator cancelled while it ran.
    pub fn cancelled() -> StepOutcome {
        StepOutcome::not_run(
            Status::Cancelled,
            "cancelled by the operator while running".into(),
        )
    }

    /// Its entry in the run context, as later steps read it.
    pub fn entry(&self) -> StepEntry<'_> {
        StepEntry {
            status: self.status,
            output: self.output.as_ref(),
            error: self.error.as_ref(),
        }
    }

    /// Its line of the run report: secret output fields redacted, known secret values masked.
    pub fn report(&self, step: &PlannedStep, secrets: &Secrets) -> StepReport {
        self.clone().into_report(step, secrets)
    }

    /// [`StepOutcome::report`] for an outcome no longer needed: its output becomes the report's, redacted in
    /// place, so that the end of a run does not hold a third copy of every output (a `for_each` step's is
    /// one value per item).
    pub fn into_report(self, step: &PlannedStep, secrets: &Secrets) -> StepReport {
        let fields =
            SecretFields::of(step.call.spec().secret_outputs).each(step.for_each.is_some());
        StepReport {
            id: step.id.clone(),
            block: step.call.spec().id.to_string(),
            status: self.status,
            attempts: self.attempts,
            duration_ms: u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX),
            output: self.output.map(|mut output| {
                secrets.show(&mut output, fields);
                output
            }),
            error: self.error.map(|mut error| {
                secrets.mask_error(&mut error);
                error
            }),
            reason: self.reason,
            items: self.items,
            runs: self.runs,
            reused: self.reused,
        }
    }
}
