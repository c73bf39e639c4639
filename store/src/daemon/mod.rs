//! What `keyflow serve` keeps in the store: triggers (the latest fire time handled, failed runs in a row,
//! whether paused), firings (one per fire time of a trigger or per run asked for through the API: the run
//! it starts, who runs it, until when), and the daemons themselves.
//!
//! Several daemons may share a PostgreSQL store. Each fire time of a trigger becomes a firing once: a
//! daemon advances the trigger's `last_fire_ms` by compare-and-set and inserts the firings in the same
//! transaction, so whoever loses the race inserts nothing (and the unique index on flow, trigger and fire
//! time would refuse a second row anyway). A pending firing is taken by one daemon (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL; SQLite has one writer at a time) under a lease the daemon renews; taking it
//! bumps its fencing token, so a daemon that lost a firing to another (its lease expired) learns so at its
//! next renewal or when it tries to finish it, and stops. On SQLite one daemon holds the store
//! ([`Store::hold`]).

mod holder;
mod lease;
mod offer;
mod request;

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use keyflow_engine::exec::store::StoreError;

pub use holder::{Holder, Worker};
pub use lease::{Ended, Held};
pub use offer::{Offer, TriggerState};

use crate::codec::{parse, rfc3339_of, uint};

/// Where a firing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FiringStatus {
    /// Due, waiting for a daemon to take it.
    Pending,
    /// Waiting for the trigger's previous run to end (`overlap: queue`, `cancel_running`, catch-up).
    Queued,
    /// A daemon runs it.
    Running,
    /// Its run ended.
    Done,
    /// It did not run (overlap `skip`, a paused trigger, cancelled before it started): `reason` says why.
    Skipped,
}

impl FiringStatus {
    /// The name as stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            FiringStatus::Pending => "pending",
            FiringStatus::Queued => "queued",
            FiringStatus::Running => "running",
            FiringStatus::Done => "done",
            FiringStatus::Skipped => "skipped",
        }
    }

    fn of(name: &str) -> Result<FiringStatus, StoreError> {
        [
            FiringStatus::Pending,
            FiringStatus::Queued,
            FiringStatus::Running,
            FiringStatus::Done,
            FiringStatus::Skipped,
        ]
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| StoreError::Failed(format!("unknown firing status `{name}` in the store")))
    }
}

/// A firing: a fire time of a trigger, or a run asked for through the API.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Firing {
    /// Its id.
    pub id: String,
    /// The flow's name.
    pub flow: String,
    /// The trigger's id; `None` for a run asked for through the API.
    pub trigger: Option<String>,
    /// The fire time (for the API, when it was asked for), RFC 3339.
    pub fire_at: String,
    /// The fire time as epoch milliseconds.
    #[serde(skip)]
    pub fire_ms: i64,
    /// Whether it was caught up after being missed.
    pub missed: bool,
    /// The run's parameters as given (the flow's defaults fill in the rest).
    pub params: Value,
    /// Whether the run may run the destructive steps the flow confirms.
    pub allow_destructive: bool,
    /// Where it is.
    pub status: FiringStatus,
    /// Why it was skipped, or how its run ended.
    pub reason: Option<String>,
    /// The id of the run it starts (given before the run starts, so that a daemon that takes it over
    /// finds the run).
    pub run_id: String,
    /// The daemon that runs it.
    pub worker: Option<String>,
    /// Its fencing token: bumped each time a daemon takes it.
    pub fence: i64,
    /// Whether its run was asked to stop.
    pub cancel: bool,
    /// Whether its run may have begun under another daemon (taken over), or was asked to go on: then
    /// it is resumed, not started.
    pub resume: bool,
    /// Whether the recorded run was asked to go on (`POST /api/v1/runs/{id}/resume`): then a run that
    /// failed or was cancelled goes on too, where one merely taken over is only closed.
    pub asked: bool,
    /// For a re-run of steps of an earlier run (`POST /api/v1/runs/{id}/rerun`): which run, and which
    /// steps run again; `null` otherwise.
    pub rerun: Option<Rerun>,
}

/// What a firing re-runs: its run is a new one that reuses the recorded results of `from`, except those
/// of `steps` and of every step that depends on them (`keyflow run FLOW --from RUN --rerun STEP`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Rerun {
    /// The earlier run's id.
    pub from: String,
    /// The steps run again, by id.
    pub steps: Vec<String>,
}

/// `firings.resume`: a firing that starts its run afresh.
pub(crate) const RESUME_NO: i64 = 0;
/// `firings.resume`: taken over from a daemon that went silent; its run may have begun.
pub(crate) const RESUME_TAKEN_OVER: i64 = 1;
/// `firings.resume`: the recorded run was asked to go on.
pub(crate) const RESUME_ASKED: i64 = 2;

/// The columns a [`Firing`] is read from, in [`firing_of`]'s order.
pub(crate) const FIRING_COLUMNS: &str = "id, flow, trigger_id, fire_ms, missed, params, allow_destructive, \
     status, reason, run_id, worker, fence, cancel, resume, rerun_from, rerun_steps";

pub(crate) fn firing_of(row: &AnyRow) -> Result<Firing, sqlx::Error> {
    let fire_ms: i64 = row.try_get(3)?;
    let params: String = row.try_get(5)?;
    let status: String = row.try_get(7)?;
    let map = |e: StoreError| sqlx::Error::Decode(e.to_string().into());
    let rerun = match (
        row.try_get::<Option<String>, _>(14)?,
        row.try_get::<Option<String>, _>(15)?,
    ) {
        (Some(from), Some(steps)) => Some(Rerun {
            from,
            steps: parse(&steps, "firing's re-run steps").map_err(map)?,
        }),
        _ => None,
    };
    Ok(Firing {
        id: row.try_get(0)?,
        flow: row.try_get(1)?,
        trigger: row.try_get(2)?,
        fire_at: rfc3339_of(fire_ms),
        fire_ms,
        missed: row.try_get::<i64, _>(4)? != 0,
        params: parse(&params, "firing's params").map_err(map)?,
        allow_destructive: row.try_get::<i64, _>(6)? != 0,
        status: FiringStatus::of(&status).map_err(map)?,
        reason: row.try_get(8)?,
        run_id: row.try_get(9)?,
        worker: row.try_get(10)?,
        fence: row.try_get(11)?,
        cancel: row.try_get::<i64, _>(12)? != 0,
        resume: row.try_get::<i64, _>(13)? != 0,
        asked: row.try_get::<i64, _>(13)? == RESUME_ASKED,
        rerun,
    })
}

/// `$first, $first+1, …` for `n` values, for an `IN (…)` list.
pub(crate) fn marks(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A count read back.
pub(crate) fn count(n: i64) -> u64 {
    uint(n)
}
