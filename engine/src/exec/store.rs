//! The run store seam: what the executor records, and when.
//!
//! The executor writes through [`RunStore`] as the run goes: a run's start with its parameters; before
//! every call that changes something (a block whose effect is not `read`), an [`Intent`]; after every
//! call, its [`AttemptRecord`]; every step's report line when it ends (before the steps waiting for it
//! start); the run's report when it ends. A store error stops the run (it could no longer say what it
//! did). Every value handed to a store has its secrets redacted. The durable stores (SQLite, PostgreSQL)
//! implement this trait outside the engine.

use std::sync::Mutex;

use async_trait::async_trait;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::report::{RunReport, StepReport};
use crate::block::{BlockError, Effect};

/// A run as it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStart {
    /// The run's id.
    pub run_id: String,
    /// For the run of a template (`uses:`): the step, of which run and item, that runs it.
    pub parent: Option<ParentStep>,
    /// The flow's name.
    pub flow: String,
    /// Where the flow was read from: its file as given, `<stdin>`, or a name of the caller's.
    pub source: String,
    /// The parameters the run was given, defaults applied.
    pub params: Value,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Each step's digest as the run's flow wrote it (see [`crate::plan::PlannedStep::definition`]), by
    /// step id: `keyflow resume` reuses a result only while its step is unchanged.
    #[serde(default)]
    pub definitions: IndexMap<String, String>,
    /// Whether this run continues one recorded before (`keyflow resume`): same id, more attempts.
    #[serde(default)]
    pub resumed: bool,
}

/// The step (and item) of a run that runs a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ParentStep {
    /// The parent run.
    pub run_id: String,
    /// The `uses:` step.
    pub step: String,
    /// Its item, inside `for_each`.
    pub item: Option<usize>,
}

/// A call that changes something is about to be made: recorded before the call, so that a run that dies
/// before the call's result is recorded leaves a trace of what may have happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// The run.
    pub run_id: String,
    /// The step.
    pub step: String,
    /// The item, inside `for_each`.
    pub item: Option<usize>,
    /// The attempt it starts (1 for the first).
    pub attempt: u32,
    /// The block called.
    pub block: String,
    /// What the call does.
    pub effect: Effect,
    /// When the call starts (RFC 3339).
    pub started_at: String,
    /// The resolved input, secrets redacted.
    pub input: Value,
}

/// One call of a block, ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// The run.
    pub run_id: String,
    /// The step.
    pub step: String,
    /// The item, inside `for_each`.
    pub item: Option<usize>,
    /// 1 for the first attempt (polls of `until` count on).
    pub attempt: u32,
    /// When the call started (RFC 3339).
    pub started_at: String,
    /// How long it took.
    pub duration_ms: u64,
    /// The resolved input, secrets redacted.
    pub input: Value,
    /// The output, secrets redacted.
    pub output: Option<Value>,
    /// The error.
    pub error: Option<BlockError>,
}

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or used (a file that cannot be opened, a server that is down).
    #[error("run store unavailable: {0}")]
    Unavailable(String),
    /// The store was written by a newer keyflow, or is not a keyflow store.
    #[error("run store: {0}")]
    Incompatible(String),
    /// A run, step or record that is not in the store.
    #[error("run store: {0} not found")]
    NotFound(String),
    /// Anything else the store reports.
    #[error("run store: {0}")]
    Failed(String),
}

/// Where runs are recorded.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Whether the store keeps attempt records (when not, the executor does not build them).
    fn records_attempts(&self) -> bool {
        true
    }
    /// A run starts (a template's run too, with its parent).
    async fn begin_run(&self, run: &RunStart) -> Result<(), StoreError>;
    /// A call that changes something is about to be made.
    async fn record_intent(&self, intent: &Intent) -> Result<(), StoreError>;
    /// A call ended; awaited before the step's result is used.
    async fn record_attempt(&self, record: &AttemptRecord) -> Result<(), StoreError>;
    /// A step reached its final status; awaited before the steps waiting for it start.
    async fn finish_step(&self, run_id: &str, step: &StepReport) -> Result<(), StoreError>;
    /// The run ended.
    async fn finish_run(&self, report: &RunReport) -> Result<(), StoreError>;
}

/// Keeps nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoStore;

#[async_trait]
impl RunStore for NoStore {
    fn records_attempts(&self) -> bool {
        false
    }
    async fn begin_run(&self, _: &RunStart) -> Result<(), StoreError> {
        Ok(())
    }
    async fn record_intent(&self, _: &Intent) -> Result<(), StoreError> {
        Ok(())
    }
    async fn record_attempt(&self, _: &AttemptRecord) -> Result<(), StoreError> {
        Ok(())
    }
    async fn finish_step(&self, _: &str, _: &StepReport) -> Result<(), StoreError> {
        Ok(())
    }
    async fn finish_run(&self, _: &RunReport) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Keeps every record in memory (for tests and short-lived tools).
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Runs started, in the order they started.
    pub started: Mutex<Vec<RunStart>>,
    /// Intents, in the order they were recorded.
    pub intents: Mutex<Vec<Intent>>,
    /// Attempts, in the order they were recorded.
    pub attempts: Mutex<Vec<AttemptRecord>>,
    /// Finished steps, in the order they finished.
    pub steps: Mutex<Vec<StepReport>>,
    /// Finished runs.
    pub runs: Mutex<Vec<RunReport>>,
}

fn push<T: Clone>(list: &Mutex<Vec<T>>, item: &T) -> Result<(), StoreError> {
    list.lock()
        .map_err(|e| StoreError::Failed(e.to_string()))?
        .push(item.clone());
    Ok(())
}

#[async_trait]
impl RunStore for MemoryStore {
    async fn begin_run(&self, run: &RunStart) -> Result<(), StoreError> {
        push(&self.started, run)
    }
    async fn record_intent(&self, intent: &Intent) -> Result<(), StoreError> {
        push(&self.intents, intent)
    }
    async fn record_attempt(&self, record: &AttemptRecord) -> Result<(), StoreError> {
        push(&self.attempts, record)
    }
    async fn finish_step(&self, _: &str, step: &StepReport) -> Result<(), StoreError> {
        push(&self.steps, step)
    }
    async fn finish_run(&self, report: &RunReport) -> Result<(), StoreError> {
        push(&self.runs, report)
    }
}
