//! The run store seam: every step attempt is handed to a store before the next step starts.
//!
//! The durable store (SQLite, PostgreSQL) and `keyflow resume` come with a later issue; the executor already
//! writes through this interface, so that store plugs in without reshaping the executor.

use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::report::{RunReport, StepReport};
use crate::block::BlockError;

/// One call of a block.
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
#[error("run store: {0}")]
pub struct StoreError(pub String);

/// Where runs are recorded.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Whether the store keeps attempt records (when not, the executor does not build them).
    fn records_attempts(&self) -> bool {
        true
    }
    /// A run starts.
    async fn begin_run(&self, run_id: &str, flow: &str, started_at: &str)
    -> Result<(), StoreError>;
    /// A call ended; awaited before the step's result is used.
    async fn record_attempt(&self, record: &AttemptRecord) -> Result<(), StoreError>;
    /// A step reached its final status.
    async fn finish_step(&self, run_id: &str, step: &StepReport) -> Result<(), StoreError>;
    /// The run ended.
    async fn finish_run(&self, report: &RunReport) -> Result<(), StoreError>;
}

/// Keeps nothing (the default until the durable store exists).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoStore;

#[async_trait]
impl RunStore for NoStore {
    fn records_attempts(&self) -> bool {
        false
    }
    async fn begin_run(&self, _: &str, _: &str, _: &str) -> Result<(), StoreError> {
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
    /// Attempts, in the order they were recorded.
    pub attempts: Mutex<Vec<AttemptRecord>>,
    /// Finished steps, in the order they finished.
    pub steps: Mutex<Vec<StepReport>>,
    /// Finished runs.
    pub runs: Mutex<Vec<RunReport>>,
}

#[async_trait]
impl RunStore for MemoryStore {
    async fn begin_run(&self, _: &str, _: &str, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
    async fn record_attempt(&self, record: &AttemptRecord) -> Result<(), StoreError> {
        self.attempts
            .lock()
            .map_err(|e| StoreError(e.to_string()))?
            .push(record.clone());
        Ok(())
    }
    async fn finish_step(&self, _: &str, step: &StepReport) -> Result<(), StoreError> {
        self.steps
            .lock()
            .map_err(|e| StoreError(e.to_string()))?
            .push(step.clone());
        Ok(())
    }
    async fn finish_run(&self, report: &RunReport) -> Result<(), StoreError> {
        self.runs
            .lock()
            .map_err(|e| StoreError(e.to_string()))?
            .push(report.clone());
        Ok(())
    }
}
