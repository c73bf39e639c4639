//! The store as one run of the daemon sees it: its records go through until the daemon no longer holds
//! the run's firing, then none does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use keyflow_engine::exec::report::{RunReport, StepReport};
use keyflow_engine::exec::store::{AttemptRecord, Intent, RunStart, RunStore, StoreError};
use keyflow_store::Store;

/// The store as one run sees it: every record goes through until its firing is lost, then none does (a
/// record refused stops the run before its next call).
pub struct Fenced {
    /// The daemon's store.
    pub store: Arc<Store>,
    /// Set once the firing is lost.
    pub lost: Arc<AtomicBool>,
}

impl Fenced {
    fn check(&self) -> Result<(), StoreError> {
        if self.lost.load(Ordering::Acquire) {
            return Err(StoreError::Failed(
                "this daemon no longer holds the run's firing (another daemon took it over, or this one is stopping)"
                    .into(),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl RunStore for Fenced {
    fn records_attempts(&self) -> bool {
        self.store.records_attempts()
    }
    async fn begin_run(&self, run: &RunStart) -> Result<(), StoreError> {
        self.check()?;
        self.store.begin_run(run).await
    }
    async fn record_intent(&self, intent: &Intent) -> Result<(), StoreError> {
        self.check()?;
        self.store.record_intent(intent).await
    }
    async fn record_attempt(&self, record: &AttemptRecord) -> Result<(), StoreError> {
        self.check()?;
        self.store.record_attempt(record).await
    }
    async fn finish_step(&self, run_id: &str, step: &StepReport) -> Result<(), StoreError> {
        self.check()?;
        self.store.finish_step(run_id, step).await
    }
    async fn finish_run(&self, report: &RunReport) -> Result<(), StoreError> {
        self.check()?;
        self.store.finish_run(report).await
    }
}
