//! The run context's types: what `$.run` and `$.steps.<id>` hold, as Rust types.
//!
//! The executor builds the context from them, and the checker reads their derived JSON Schemas to check
//! references into the context (`$.steps.x.status`, `$.steps.x.error.code`, `$.run.id`) before a run, so
//! the two cannot disagree.

use std::collections::HashMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::block::BlockError;

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
    /// The statuses a step that ended can have: what `$.steps.<id>.status` can be.
    pub const ENDED: [Status; 4] = [
        Status::Succeeded,
        Status::Failed,
        Status::Skipped,
        Status::Cancelled,
    ];

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

/// `$.run`: facts about the run a step is part of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunFacts {
    /// The run's id (a template's run: its parent's id, then the step, then the item).
    pub id: String,
    /// The flow's name.
    pub flow: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
}

impl RunFacts {
    /// The facts as the context shows them.
    pub fn to_value(&self) -> Value {
        json!({ "id": self.id, "flow": self.flow, "started_at": self.started_at })
    }
}

/// `$.steps.<id>`: how a step the reading step depends on ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct StepEntry<'a> {
    /// Its output; absent when it has none (skipped, failed, cancelled).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Value")]
    pub output: Option<&'a Value>,
    /// How it ended.
    #[schemars(schema_with = "ended_status_schema")]
    pub status: Status,
    /// Its error, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "BlockError")]
    pub error: Option<&'a BlockError>,
}

impl<'a> StepEntry<'a> {
    /// The entry of a step that succeeded with `output`.
    pub fn succeeded(output: &'a Value) -> StepEntry<'a> {
        StepEntry {
            status: Status::Succeeded,
            output: Some(output),
            error: None,
        }
    }

    /// The entry as the context shows it: `{ "status": …, "output": …, "error": {code, message, retryable} }`.
    pub fn to_value(&self) -> Value {
        entry_value(self.status, self.output.cloned(), self.error)
    }

    /// The entry of a step that succeeded with `output`, as the context shows it: what
    /// [`StepEntry::succeeded`]'s [`StepEntry::to_value`] is, taking the output instead of copying it.
    pub fn succeeded_value(output: Value) -> Value {
        entry_value(Status::Succeeded, Some(output), None)
    }
}

/// The one place the context's entry is shaped.
fn entry_value(status: Status, output: Option<Value>, error: Option<&BlockError>) -> Value {
    let mut entry = serde_json::Map::new();
    entry.insert("status".into(), Value::String(status.name().into()));
    if let Some(output) = output {
        entry.insert("output".into(), output);
    }
    if let Some(error) = error {
        entry.insert("error".into(), error.to_value());
    }
    Value::Object(entry)
}

/// The fields of `$.run`, in order: what its schema declares.
pub fn run_fields() -> Vec<String> {
    fields(schemars::schema_for!(RunFacts).to_value())
}

/// The fields of `$.steps.<id>`, in order: what its schema declares.
pub fn step_entry_fields() -> Vec<String> {
    fields(schemars::schema_for!(StepEntry<'static>).to_value())
}

fn fields(schema: Value) -> Vec<String> {
    schema["properties"]
        .as_object()
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

/// The entries of the steps a step can read, by id, each as the context shows it (shared between the
/// step tasks that read it, never copied).
pub type StepEntries = HashMap<String, Arc<Value>>;

fn ended_status_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = Status::ENDED.iter().map(|s| s.name()).collect();
    schemars::json_schema!({ "type": "string", "enum": names })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_shows_what_its_schema_declares() {
        let error = BlockError::retryable("Throttled", "slow down");
        let entry = StepEntry {
            status: Status::Failed,
            output: None,
            error: Some(&error),
        };
        assert_eq!(
            entry.to_value(),
            json!({ "status": "failed", "error": { "code": "Throttled", "message": "slow down", "retryable": true } })
        );
        assert_eq!(serde_json::to_value(entry).ok(), Some(entry.to_value()));
        let schema = schemars::schema_for!(StepEntry<'static>).to_value();
        assert_eq!(
            schema["properties"]["status"]["enum"],
            json!(["succeeded", "failed", "skipped", "cancelled"])
        );
        assert_eq!(step_entry_fields(), ["output", "status", "error"]);
        assert_eq!(run_fields(), ["id", "flow", "started_at"]);
        let run = RunFacts {
            id: "r".into(),
            flow: "f".into(),
            started_at: "t".into(),
        };
        assert_eq!(serde_json::to_value(&run).ok(), Some(run.to_value()));
    }
}
