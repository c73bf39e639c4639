//! The run report: what happened, step by step. Serialized by `keyflow run --output json`; its schema is
//! `schemas/run-report.schema.json`, a stable interface that scripts read.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::block::BlockError;
pub use crate::context::Status;
pub use crate::redact::REDACTED;

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepReport {
    /// The step's id.
    pub id: String,
    /// The block it called.
    pub block: String,
    /// Its final status.
    pub status: Status,
    /// Calls made, retries included (for `for_each`, summed over the items).
    pub attempts: u32,
    /// Wall time from its start to its end, in milliseconds.
    pub duration_ms: u64,
    /// Its output (secret fields redacted); `null` when it has none. A failed `for_each` step under
    /// `on_error: continue` has the items' outputs, `null` for the items that failed.
    pub output: Option<Value>,
    /// Its error, when it failed: the service's code, the message, and whether it was retryable.
    pub error: Option<BlockError>,
    /// Why it was skipped or cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Items of its `for_each`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<usize>,
    /// For a step with `uses:`: the template's runs, one per item (in item order), each with its steps, so
    /// that what a failed template did before it failed is on record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<Vec<RunReport>>,
    /// Its result was recorded by an earlier attempt of this run (`keyflow resume`) and reused: it did
    /// not run again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reused: bool,
}

/// What happened to a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunReport {
    /// The run's id.
    pub run_id: String,
    /// The flow's name.
    pub flow: String,
    /// `succeeded`, `failed` or `cancelled`.
    pub status: Status,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// The flow's outputs.
    pub outputs: IndexMap<String, Value>,
    /// Every step, in file order.
    pub steps: Vec<StepReport>,
    /// Why the run did not succeed, when that is not one step's error (cancelled, an output that failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
