//! What a block sees of the run while it runs.

use std::any::Any;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::BlockError;

/// Severity of a message a block logs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Detail for `-v`.
    Debug,
    /// Normal progress.
    Info,
    /// Something the operator should look at.
    Warn,
    /// Something failed.
    Error,
}

/// Where the messages a block logs go: in a run, the run's observer (the CLI's lines, `tracing`), with
/// secrets masked.
pub trait LogSink: Send + Sync {
    /// One message of step `step` (and item `item`, inside `for_each`).
    fn log(&self, step: &str, item: Option<usize>, level: LogLevel, message: String);
}

/// The context of one block call: which step, which attempt, the connection's client, a way to log, and
/// the run's cancellation.
#[derive(Clone)]
pub struct BlockContext {
    /// The run's id.
    pub run_id: Arc<str>,
    /// The step's id.
    pub step_id: Arc<str>,
    /// The item's index inside `for_each`.
    pub item: Option<usize>,
    /// 1 for the first attempt.
    pub attempt: u32,
    connection: Option<Arc<dyn Any + Send + Sync>>,
    logs: Option<Arc<dyn LogSink>>,
    cancel: CancellationToken,
    flow_dir: Option<Arc<Path>>,
    slot: Option<Arc<Slot>>,
    recovering: bool,
}

/// The call's place among the run's calls at the same time (`--parallelism`), which a call gives up while
/// it only waits (see [`BlockContext::outside_slot`]).
pub(crate) struct Slot {
    semaphore: Arc<Semaphore>,
    permit: Mutex<Option<OwnedSemaphorePermit>>,
}

impl Slot {
    /// A slot holding `permit` of `semaphore`.
    pub(crate) fn new(semaphore: Arc<Semaphore>, permit: OwnedSemaphorePermit) -> Arc<Slot> {
        Arc::new(Slot {
            semaphore,
            permit: Mutex::new(Some(permit)),
        })
    }
}

impl BlockContext {
    /// A context for one call.
    pub fn new(
        run_id: Arc<str>,
        step_id: Arc<str>,
        item: Option<usize>,
        attempt: u32,
        connection: Option<Arc<dyn Any + Send + Sync>>,
        logs: Option<Arc<dyn LogSink>>,
        cancel: CancellationToken,
    ) -> BlockContext {
        BlockContext {
            run_id,
            step_id,
            item,
            attempt,
            connection,
            logs,
            cancel,
            flow_dir: None,
            slot: None,
            recovering: false,
        }
    }

    /// A key that names this call (its run, step and item) and stays the same for every attempt, on
    /// retry and on `keyflow resume`: what a block that creates something writes with it (a tag), so that
    /// a later attempt can find what a lost one created.
    pub fn idempotency_key(&self) -> String {
        match self.item {
            Some(item) => format!("{}/{}/{item}", self.run_id, self.step_id),
            None => format!("{}/{}", self.run_id, self.step_id),
        }
    }

    /// Whether an earlier attempt of this call may have taken effect without its answer being known (it
    /// timed out after it went out, or the run died before recording it): a block that is not safe to
    /// repeat settles that first, as its [`crate::block::Recovery`] says.
    pub fn recovering(&self) -> bool {
        self.recovering
    }

    /// The same context, for an attempt that follows one whose outcome is in doubt (or not).
    pub fn with_recovering(self, recovering: bool) -> BlockContext {
        BlockContext { recovering, ..self }
    }

    /// The same context holding `slot` of the run's parallelism.
    pub(crate) fn with_slot(self, slot: Arc<Slot>) -> BlockContext {
        BlockContext {
            slot: Some(slot),
            ..self
        }
    }

    /// Awaits `wait` — a client-side rate limit, say — without holding the call's slot of the run's
    /// parallelism, and takes a slot again before going on: 25 tenants queued for CreateKey's quota do not
    /// keep a tenant whose next call is CreateAlias from running.
    pub async fn outside_slot<F: std::future::Future>(&self, wait: F) -> F::Output {
        let Some(slot) = &self.slot else {
            return wait.await;
        };
        drop(lock(&slot.permit).take());
        let output = wait.await;
        if let Ok(permit) = slot.semaphore.clone().acquire_owned().await {
            *lock(&slot.permit) = Some(permit);
        }
        output
    }

    /// The same context in the run of a flow read from a file in `dir`.
    pub fn with_flow_dir(self, dir: Arc<Path>) -> BlockContext {
        BlockContext {
            flow_dir: Some(dir),
            ..self
        }
    }

    /// The folder of the flow file, against which the flow's relative paths are read (the current folder
    /// when the flow came from elsewhere).
    pub fn flow_dir(&self) -> &Path {
        self.flow_dir.as_deref().unwrap_or(Path::new("."))
    }

    /// A context outside any run, for testing a block on its own.
    pub fn detached(step_id: &str) -> BlockContext {
        BlockContext::new(
            "test-run".into(),
            step_id.into(),
            None,
            1,
            None,
            None,
            CancellationToken::new(),
        )
    }

    /// The same context with a connection's client, for testing connector blocks on their own.
    pub fn with_connection(self, client: Arc<dyn Any + Send + Sync>) -> BlockContext {
        BlockContext {
            connection: Some(client),
            ..self
        }
    }

    /// The client of the step's connection, of the connector's client type.
    pub fn client<T: Any + Send + Sync>(&self) -> Result<&T, BlockError> {
        self.connection
            .as_deref()
            .and_then(|client| client.downcast_ref::<T>())
            .ok_or_else(|| {
                BlockError::fatal(
                    "NoConnection",
                    format!(
                        "step `{}` has no connection of the block's connector",
                        self.step_id
                    ),
                )
            })
    }

    /// Logs a message under the step: the CLI shows it and `tracing` records it (secrets masked).
    pub fn log(&self, level: LogLevel, message: impl Into<String>) {
        if let Some(logs) = &self.logs {
            logs.log(&self.step_id, self.item, level, message.into());
        }
    }

    /// Completes when the run is cancelled (Ctrl-C); long waits should select on it.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_outside_the_slot_frees_it_for_others_and_takes_it_back() {
        let semaphore = Arc::new(Semaphore::new(1));
        let permit = semaphore.clone().acquire_owned().await.expect("permit");
        let ctx = BlockContext::detached("s").with_slot(Slot::new(semaphore.clone(), permit));
        assert_eq!(semaphore.available_permits(), 0);
        let during = ctx
            .outside_slot(async { semaphore.available_permits() })
            .await;
        assert_eq!(during, 1, "the slot is free while the call only waits");
        assert_eq!(
            semaphore.available_permits(),
            0,
            "and the call holds it again after"
        );
        drop(ctx);
        assert_eq!(semaphore.available_permits(), 1);
    }
}
