//! The daemons that serve a store: each one's row (host, process, when it last beat), and on SQLite the
//! one daemon that holds the store.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;

use keyflow_engine::exec::store::StoreError;

use crate::codec::{db_error, int, now_ms, rfc3339_of};
use crate::owner::{Owner, process_gone};
use crate::{Backend, Store};

/// A daemon serving the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Worker {
    /// Its id (a fresh one each time a daemon starts).
    pub id: String,
    /// Its host.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// When it started, RFC 3339.
    pub started_at: String,
    /// When it last renewed its beat, RFC 3339.
    pub beat_at: String,
    /// Where its HTTP API listens.
    pub listen: Option<String>,
}

/// Another daemon that holds a SQLite store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// It, as its row says (`None` when it left no row).
    pub worker: Option<Worker>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.worker {
            Some(w) => write!(
                f,
                "process {} on {} (started {}, last beat {})",
                w.pid, w.host, w.started_at, w.beat_at
            ),
            None => f.write_str("another process"),
        }
    }
}

impl Store {
    /// Records daemon `id` (this process) as serving the store, listening at `listen`.
    pub async fn join(&self, id: &str, listen: Option<&str>) -> Result<(), StoreError> {
        let Owner { host, pid } = &self.options.owner;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO workers (id, host, pid, started_ms, beat_ms, listen) VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(id)
        .bind(host.as_str())
        .bind(i64::from(*pid))
        .bind(now)
        .bind(listen)
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(&self.shown, &e))?;
        Ok(())
    }

    /// Removes daemon `id`'s row and, on SQLite, lets go of the store.
    pub async fn leave(&self, id: &str) -> Result<(), StoreError> {
        for sql in [
            "DELETE FROM store_holder WHERE worker = $1",
            "DELETE FROM workers WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(|e| db_error(&self.shown, &e))?;
        }
        Ok(())
    }

    /// The daemons whose beat is younger than `fresh`.
    pub async fn workers(&self, fresh: Duration) -> Result<Vec<Worker>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, host, pid, started_ms, beat_ms, listen FROM workers WHERE beat_ms >= $1 ORDER BY started_ms",
        )
        .bind(now_ms().saturating_sub(int(fresh.as_millis())))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(&self.shown, &e))?;
        rows.iter()
            .map(worker_of)
            .collect::<Result<_, _>>()
            .map_err(|e| db_error(&self.shown, &e))
    }

    /// On SQLite, makes daemon `id` the one that holds the store, or says who does: a holder whose beat
    /// is older than `stale`, or whose process on this host is gone, is replaced. Called again to renew.
    /// PostgreSQL stores are shared: always `Ok(None)`.
    pub async fn hold(&self, id: &str, stale: Duration) -> Result<Option<Holder>, StoreError> {
        if self.backend == Backend::Postgres {
            return Ok(None);
        }
        let err = |e: sqlx::Error| db_error(&self.shown, &e);
        let now = now_ms();
        let claim = |older_than: i64| {
            sqlx::query(
                "INSERT INTO store_holder (slot, worker, beat_ms) VALUES (1, $1, $2) \
                 ON CONFLICT (slot) DO UPDATE SET worker = excluded.worker, beat_ms = excluded.beat_ms \
                 WHERE store_holder.worker = excluded.worker OR store_holder.beat_ms < $3",
            )
            .bind(id.to_string())
            .bind(now)
            .bind(older_than)
        };
        let held = claim(now.saturating_sub(int(stale.as_millis())))
            .execute(&self.pool)
            .await
            .map_err(err)?;
        if held.rows_affected() > 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT w.id, w.host, w.pid, w.started_ms, w.beat_ms, w.listen FROM store_holder h \
             LEFT JOIN workers w ON w.id = h.worker WHERE h.slot = 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(err)?;
        let worker = match row {
            Some(row) if row.try_get::<Option<String>, _>(0).map_err(err)?.is_some() => {
                Some(worker_of(&row).map_err(err)?)
            }
            _ => None,
        };
        // A holder that was this host's and whose process is gone (killed) lets go at once.
        let gone = worker.as_ref().is_some_and(|w| {
            w.host == self.options.owner.host
                && w.pid != self.options.owner.pid
                && process_gone(i64::from(w.pid))
        });
        if gone {
            let taken = claim(i64::MAX).execute(&self.pool).await.map_err(err)?;
            if taken.rows_affected() > 0 {
                return Ok(None);
            }
        }
        Ok(Some(Holder { worker }))
    }
}

fn worker_of(row: &sqlx::any::AnyRow) -> Result<Worker, sqlx::Error> {
    Ok(Worker {
        id: row.try_get(0)?,
        host: row.try_get(1)?,
        pid: u32::try_from(row.try_get::<i64, _>(2)?).unwrap_or_default(),
        started_at: rfc3339_of(row.try_get(3)?),
        beat_at: rfc3339_of(row.try_get(4)?),
        listen: row.try_get(5)?,
    })
}
