//! The run report: what happened, step by step. Serialized by `keyflow run --output json`; its schema is
//! `schemas/run-report.schema.json`, a stable interface that scripts read.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::block::BlockError;

/// Shown in place of a secret value.
pub const REDACTED: &str = "<redacted>";

/// The status of a run or a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not started yet (history only).
    Pending,
    /// Under way (history only).
    Running,
    /// Done, without error.
    Succeeded,
    /// Done, with an error.
    Failed,
    /// Not run: its `if:` was false, or it reads the output of a step that has none.
    Skipped,
    /// Stopped or never started because the run was cancelled or had failed.
    Cancelled,
}

impl Status {
    /// The name as written in reports.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Cancelled => "cancelled",
        }
    }
}

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

/// Replaces the secret fields of a block's output (dotted paths) with [`REDACTED`]; `each` applies it to
/// every item of a `for_each` output.
pub fn redact(output: &mut Value, secrets: &[&str], each: bool) {
    if secrets.is_empty() {
        return;
    }
    if each {
        if let Value::Array(items) = output {
            for item in items {
                redact(item, secrets, false);
            }
        }
        return;
    }
    for secret in secrets {
        let parts: Vec<&str> = secret.split('.').collect();
        redact_path(output, &parts);
    }
}

fn redact_path(node: &mut Value, parts: &[&str]) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    let Some(child) = node.get_mut(*first) else {
        return;
    };
    if rest.is_empty() {
        if !child.is_null() {
            *child = Value::String(REDACTED.into());
        }
    } else {
        redact_path(child, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_in_place() {
        let mut output = json!({"Plaintext": "c2VjcmV0", "KeyId": "k", "Nested": {"Token": "t"}});
        redact(&mut output, &["Plaintext", "Nested.Token", "Absent"], false);
        assert_eq!(
            output,
            json!({"Plaintext": REDACTED, "KeyId": "k", "Nested": {"Token": REDACTED}})
        );
        let mut list = json!([{"Plaintext": "a"}, {"Plaintext": "b"}]);
        redact(&mut list, &["Plaintext"], true);
        assert_eq!(
            list,
            json!([{"Plaintext": REDACTED}, {"Plaintext": REDACTED}])
        );
    }
}
