//! Write-behind for the records whose loss costs nothing but a repeated read.
//!
//! The store's promise is about effects: before a call that changes something, its intent is committed;
//! the answer of such a call, and the row of a step that made one, are committed before the run goes on.
//! The records of calls that only read (every `core` step, every `read` block, every `until` poll) carry
//! no such weight: were they lost with the process, `keyflow resume` would run those reads again, which
//! is what their blocks' recovery (`Repeat`) says is safe. So those records are kept in memory and
//! written in batches, one transaction each:
//!
//! - before any record that must be durable (an intent, the answer of a call that changes something,
//!   such a step's row, a run's start or end), in the same transaction, so the database always holds a
//!   prefix of what happened, in order: a durable record is never on file without the deferred ones
//!   handed over before it;
//! - when [`MAX_PENDING`] records wait;
//! - at most [`FLUSH_AFTER`] after the first of them was handed over, so that `runs show` of a live run
//!   lags by no more than that.
//!
//! One lock orders the writers: whoever writes drains what waits and commits it, with its own record,
//! before the next writer starts.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyflow_engine::exec::report::StepReport;
use keyflow_engine::exec::store::{AttemptRecord, Intent, StoreError};
use sqlx::{Any, AnyConnection, AnyPool};

use crate::codec::{db_error, int, json, json_opt, now_ms, status_name};

/// How long a deferred record may wait before it is written.
pub const FLUSH_AFTER: Duration = Duration::from_millis(200);

/// How many deferred records are written together at most.
pub const MAX_PENDING: usize = 512;

/// A record on its way to the database.
#[derive(Debug, Clone)]
pub(crate) enum Record {
    Intent(Intent),
    Attempt(AttemptRecord),
    Step { run_id: String, step: StepReport },
}

/// The writing side of a store: the pool, what waits, and the lock that orders writers.
pub(crate) struct Writer {
    pub pool: AnyPool,
    pub shown: String,
    pending: Mutex<Vec<Record>>,
    /// Steps (run id, step id) that made, or are making, a call that changes something.
    effectful: Mutex<HashSet<(String, String)>>,
    order: tokio::sync::Mutex<()>,
    /// Whether a task is already waiting to flush.
    armed: AtomicBool,
}

/// Holds the writers' lock, with what waited already written into an open transaction.
pub(crate) struct Ordered<'w> {
    _turn: tokio::sync::MutexGuard<'w, ()>,
    pub tx: sqlx::Transaction<'static, Any>,
}

impl Ordered<'_> {
    /// Commits the transaction and lets the next writer go.
    pub async fn commit(self, shown: &str) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(|e| db_error(shown, &e))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Writer {
    pub fn new(pool: AnyPool, shown: String) -> Writer {
        Writer {
            pool,
            shown,
            pending: Mutex::new(Vec::new()),
            effectful: Mutex::new(HashSet::new()),
            order: tokio::sync::Mutex::new(()),
            armed: AtomicBool::new(false),
        }
    }

    /// Hands a record over: written now (with what waits before it) when it must be durable, kept
    /// for a later batch otherwise.
    pub async fn record(self: &Arc<Self>, record: Record) -> Result<(), StoreError> {
        let durable = {
            let mut effectful = lock(&self.effectful);
            match &record {
                Record::Intent(intent) => {
                    effectful.insert((intent.run_id.clone(), intent.step.clone()));
                    true
                }
                Record::Attempt(attempt) => {
                    effectful.contains(&(attempt.run_id.clone(), attempt.step.clone()))
                }
                // The step has ended: no call of it is left to come.
                Record::Step { run_id, step } => {
                    effectful.remove(&(run_id.clone(), step.id.clone()))
                }
            }
        };
        if durable {
            let mut ordered = self.ordered().await?;
            write(&mut ordered.tx, &record, &self.shown).await?;
            return ordered.commit(&self.shown).await;
        }
        let waiting = {
            let mut pending = lock(&self.pending);
            pending.push(record);
            pending.len()
        };
        if waiting >= MAX_PENDING {
            return self.flush().await;
        }
        if !self.armed.swap(true, Ordering::AcqRel) {
            let writer = Arc::clone(self);
            tokio::spawn(async move {
                tokio::time::sleep(FLUSH_AFTER).await;
                writer.armed.store(false, Ordering::Release);
                if let Err(e) = writer.flush().await {
                    // Kept waiting: the next durable record writes them, or fails the run saying why.
                    tracing::warn!("run store: {e}");
                }
            });
        }
        Ok(())
    }

    /// Writes what waits, now.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.ordered().await?.commit(&self.shown).await
    }

    /// Takes the writers' lock and opens a transaction holding what waited. When the batch cannot be
    /// written it goes back in front of what waits, so nothing handed over is dropped by a failure.
    pub async fn ordered(&self) -> Result<Ordered<'_>, StoreError> {
        let turn = self.order.lock().await;
        let batch = std::mem::take(&mut *lock(&self.pending));
        let mut tx = match self.pool.begin().await {
            Ok(tx) => tx,
            Err(e) => {
                self.put_back(batch);
                return Err(db_error(&self.shown, &e));
            }
        };
        let mut failed = None;
        for record in &batch {
            if let Err(e) = write(&mut tx, record, &self.shown).await {
                failed = Some(e);
                break;
            }
        }
        match failed {
            None => Ok(Ordered { _turn: turn, tx }),
            Some(e) => {
                drop(tx);
                self.put_back(batch);
                Err(e)
            }
        }
    }

    fn put_back(&self, mut batch: Vec<Record>) {
        let mut pending = lock(&self.pending);
        batch.append(&mut pending);
        *pending = batch;
    }
}

/// A step's report line as a row. Its template runs are rows of `runs` of their own; the row keeps how
/// many there were, so that a step with none is told from a step that is not a template's.
const UPSERT_STEP: &str = "INSERT INTO steps (run_id, step, block, status, attempts, duration_ms, output, error, reason, items, \
     template_runs, ended_ms, reused) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (run_id, step) DO UPDATE SET block = excluded.block, status = excluded.status, \
     attempts = excluded.attempts, duration_ms = excluded.duration_ms, output = excluded.output, \
     error = excluded.error, reason = excluded.reason, items = excluded.items, \
     template_runs = excluded.template_runs, ended_ms = excluded.ended_ms, reused = excluded.reused";

/// Writes one record on `conn`.
pub(crate) async fn write(
    conn: &mut AnyConnection,
    record: &Record,
    shown: &str,
) -> Result<(), StoreError> {
    let query = match record {
        Record::Intent(intent) => sqlx::query(
            "INSERT INTO intents (run_id, step, item, attempt, block, effect, started_at, input) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(intent.run_id.as_str())
        .bind(intent.step.as_str())
        .bind(intent.item.map(int))
        .bind(i64::from(intent.attempt))
        .bind(intent.block.as_str())
        .bind(intent.effect.name())
        .bind(intent.started_at.as_str())
        .bind(json(&intent.input)?),
        Record::Attempt(record) => sqlx::query(
            "INSERT INTO attempts (run_id, step, item, attempt, started_at, duration_ms, input, output, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(record.run_id.as_str())
        .bind(record.step.as_str())
        .bind(record.item.map(int))
        .bind(i64::from(record.attempt))
        .bind(record.started_at.as_str())
        .bind(int(record.duration_ms))
        .bind(json(&record.input)?)
        .bind(json_opt(record.output.as_ref())?)
        .bind(json_opt(record.error.as_ref())?),
        Record::Step { run_id, step } => sqlx::query(UPSERT_STEP)
            .bind(run_id.as_str())
            .bind(step.id.as_str())
            .bind(step.block.as_str())
            .bind(status_name(step.status))
            .bind(i64::from(step.attempts))
            .bind(int(step.duration_ms))
            .bind(json_opt(step.output.as_ref())?)
            .bind(json_opt(step.error.as_ref())?)
            .bind(step.reason.clone())
            .bind(step.items.map(int))
            .bind(step.runs.as_ref().map(|runs| int(runs.len())))
            .bind(now_ms())
            .bind(i64::from(step.reused)),
    };
    query.execute(conn).await.map_err(|e| db_error(shown, &e))?;
    Ok(())
}
