//! The executor: ordering, the run's parallelism, retry with backoff, timeouts, `until` polling,
//! `on_error`, `if:` and skip propagation, `for_each`, cancellation, destructive steps and the run store.
//!
//! Test blocks record what they see in a shared [`Probe`]: when each call started and ended (tokio's clock,
//! paused in most tests so that times are exact and nothing depends on the machine's load), how many calls
//! ran at once, and how many calls each key got.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use indexmap::IndexMap;
use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, Recovery, Registry,
};
use keyflow_engine::diagnostic::render_all;
use keyflow_engine::exec::events::{RunEvent, RunObserver};
use keyflow_engine::exec::report::{REDACTED, RunReport, Status, StepReport};
use keyflow_engine::exec::store::{AttemptRecord, MemoryStore};
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::plan::Plan;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

mod blocks;
mod cancellation;
mod concurrency;
mod destructive;
mod for_each;
mod harness;
mod on_error;
mod ordering;
mod probe;
mod resume;
mod retry;
mod skips;
mod store;
mod timeout;
mod until;

use blocks::*;
use harness::*;
use probe::*;
