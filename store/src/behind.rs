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
//! - when [`MAX_PENDING`] records wait, by a task of its own, so that the step that hands over the
//!   last of them goes on while its batch is written; only when as many again pile up behind a batch
//!   being written does a step wait for it (and so learns when the store keeps failing);
//! - at most [`FLUSH_AFTER`] after the first of them was handed over, so that `runs show` of a live run
//!   lags by no more than that.
//!
//! One lock orders the writers: whoever writes drains what waits and commits it, with its own record,
//! before the next writer starts. A batch that is not committed (the write or the commit failed) goes
//! back in front of what waits, so nothing handed over is dropped by a failure.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyflow_engine::exec::store::StoreError;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::MutexGuard;

use crate::Backend;
use crate::codec::db_error;
use crate::rows::{Record, write_all};

/// How long a deferred record may wait before it is written.
pub const FLUSH_AFTER: Duration = Duration::from_millis(200);

/// How many deferred records wait before a batch of them is written (by a task of its own; a step
/// waits only when twice as many wait).
pub const MAX_PENDING: usize = 512;

/// The writing side of a store: the pool, what waits, and the lock that orders writers.
pub(crate) struct Writer {
    pub pool: AnyPool,
    pub backend: Backend,
    pub shown: String,
    pending: Mutex<Vec<Record>>,
    /// Steps (run id, step id) that made, or are making, a call that changes something.
    effectful: Mutex<HashSet<(String, String)>>,
    order: tokio::sync::Mutex<()>,
    /// Whether a task is already waiting to flush.
    armed: AtomicBool,
    /// Whether a task is writing a full batch.
    batching: AtomicBool,
}

/// Holds the writers' lock, with what waited already written into an open transaction.
pub(crate) struct Ordered<'w> {
    // Dropped in this order: the transaction (rolled back unless committed), then the batch (put back
    // unless committed), then the lock.
    tx: sqlx::Transaction<'static, Any>,
    batch: Unwritten<'w>,
    _turn: MutexGuard<'w, ()>,
}

impl Ordered<'_> {
    /// The transaction's connection, for the caller's own statements.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Commits the transaction and lets the next writer go.
    pub async fn commit(self) -> Result<(), StoreError> {
        let Ordered {
            tx,
            mut batch,
            _turn: turn,
        } = self;
        let committed = tx
            .commit()
            .await
            .map_err(|e| db_error(&batch.writer.shown, &e));
        if committed.is_ok() {
            batch.rows.clear();
        }
        drop(batch);
        drop(turn);
        committed
    }
}

/// Rows taken from what waits and not yet committed: they go back in front of what waits when dropped.
struct Unwritten<'w> {
    writer: &'w Writer,
    rows: Vec<Record>,
}

impl Drop for Unwritten<'_> {
    fn drop(&mut self) {
        if self.rows.is_empty() {
            return;
        }
        let mut pending = lock(&self.writer.pending);
        let mut rows = std::mem::take(&mut self.rows);
        rows.append(&mut pending);
        *pending = rows;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Writer {
    pub fn new(pool: AnyPool, backend: Backend, shown: String) -> Writer {
        Writer {
            pool,
            backend,
            shown,
            pending: Mutex::new(Vec::new()),
            effectful: Mutex::new(HashSet::new()),
            order: tokio::sync::Mutex::new(()),
            armed: AtomicBool::new(false),
            batching: AtomicBool::new(false),
        }
    }

    /// Hands a record over: written now (with what waits before it) when it must be durable, kept
    /// for a later batch otherwise.
    pub async fn record(self: &Arc<Self>, record: Record) -> Result<(), StoreError> {
        if self.durable(&record) {
            return self.write_now(record).await;
        }
        let waiting = {
            let mut pending = lock(&self.pending);
            pending.push(record);
            pending.len()
        };
        if waiting >= 2 * MAX_PENDING {
            // A batch is being written and as many again wait behind it: the run waits for it here.
            return self.flush().await;
        }
        if waiting >= MAX_PENDING && !self.batching.swap(true, Ordering::AcqRel) {
            let writer = Arc::clone(self);
            tokio::spawn(async move {
                let flushed = writer.flush().await;
                writer.batching.store(false, Ordering::Release);
                if let Err(e) = flushed {
                    // Kept waiting: the next batch or durable record writes them, or fails the run.
                    tracing::warn!("run store: {e}");
                }
            });
        }
        if !self.armed.swap(true, Ordering::AcqRel) {
            let writer = Arc::clone(self);
            tokio::spawn(async move {
                tokio::time::sleep(FLUSH_AFTER).await;
                writer.armed.store(false, Ordering::Release);
                if let Err(e) = writer.flush().await {
                    tracing::warn!("run store: {e}");
                }
            });
        }
        Ok(())
    }

    /// Whether `record` must be committed before the call that hands it over returns; keeps track of
    /// the steps that make calls that change something.
    fn durable(&self, record: &Record) -> bool {
        let mut effectful = lock(&self.effectful);
        match record {
            Record::Intent(intent) => {
                effectful.insert((intent.run_id.clone(), intent.step.clone()));
                true
            }
            Record::Attempt(attempt) => {
                effectful.contains(&(attempt.run_id.clone(), attempt.step.clone()))
            }
            // The step has ended: no call of it is left to come.
            Record::Step(step) => effectful.remove(&(step.run_id.clone(), step.step.clone())),
        }
    }

    /// Writes a durable record and commits it, with what waits before it. Alone, it is one statement,
    /// which commits by itself: no transaction around it.
    async fn write_now(&self, record: Record) -> Result<(), StoreError> {
        let turn = self.order.lock().await;
        if lock(&self.pending).is_empty() {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(|e| db_error(&self.shown, &e))?;
            let written = write_all(
                &mut conn,
                std::slice::from_ref(&record),
                self.backend,
                &self.shown,
            )
            .await;
            drop(turn);
            return written;
        }
        let mut ordered = self.open(turn).await?;
        write_all(
            ordered.conn(),
            std::slice::from_ref(&record),
            self.backend,
            &self.shown,
        )
        .await?;
        ordered.commit().await
    }

    /// Writes what waits, now.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let turn = self.order.lock().await;
        if lock(&self.pending).is_empty() {
            return Ok(());
        }
        self.open(turn).await?.commit().await
    }

    /// Takes the writers' lock and opens a transaction holding what waited.
    pub async fn ordered(&self) -> Result<Ordered<'_>, StoreError> {
        let turn = self.order.lock().await;
        self.open(turn).await
    }

    async fn open<'w>(&'w self, turn: MutexGuard<'w, ()>) -> Result<Ordered<'w>, StoreError> {
        let tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_error(&self.shown, &e))?;
        let rows = std::mem::take(&mut *lock(&self.pending));
        let mut ordered = Ordered {
            tx,
            batch: Unwritten { writer: self, rows },
            _turn: turn,
        };
        // On failure, dropping `ordered` puts the batch back.
        write_all(
            &mut ordered.tx,
            &ordered.batch.rows,
            self.backend,
            &self.shown,
        )
        .await?;
        Ok(ordered)
    }
}
