//! Running firings under leases: taking pending ones, taking over those whose daemon stopped renewing,
//! renewing, finishing, and handing them back on shutdown.

use std::time::Duration;

use sqlx::{AssertSqlSafe, Row};

use keyflow_engine::exec::store::StoreError;

use super::{FIRING_COLUMNS, Firing, RESUME_NO, RESUME_TAKEN_OVER, firing_of, marks};
use crate::codec::{db_error, int, now_ms};
use crate::{Backend, Store};

/// A firing a daemon holds, as its renewal finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The firing's id.
    pub id: String,
    /// Its fencing token now.
    pub fence: i64,
    /// Whether its run was asked to stop.
    pub cancel: bool,
}

/// How a firing's run ended, as the trigger counts it.
#[derive(Debug, Clone)]
pub struct Ended<'a> {
    /// The firing.
    pub firing: &'a Firing,
    /// How it ended, for people (`succeeded`, `failed: …`).
    pub reason: String,
    /// Whether it counts as a failure towards `pause_after_failures`.
    pub failed: bool,
    /// The trigger's `pause_after_failures`.
    pub pause_after: Option<u32>,
}

impl Store {
    /// Takes up to `limit` pending firings of `flows` for `worker`, oldest first, under a lease of
    /// `lease`; each one's fencing token goes up.
    pub async fn take(
        &self,
        worker: &str,
        flows: &[String],
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Firing>, StoreError> {
        self.claim(worker, flows, limit, lease, "status = 'pending'", false)
            .await
    }

    /// Takes over up to `limit` running firings of `flows` whose lease expired (their daemon died or
    /// stalled): their runs may have begun, so they are marked to be resumed. A daemon's own firings
    /// are never taken over by itself: a late renewal still finds them.
    pub async fn take_over(
        &self,
        worker: &str,
        flows: &[String],
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Firing>, StoreError> {
        self.claim(
            worker,
            flows,
            limit,
            lease,
            "status = 'running' AND lease_ms < $3 AND worker <> $1",
            true,
        )
        .await
    }

    /// Takes over up to `limit` running firings of `flows` that another daemon held: on a SQLite store,
    /// which one daemon holds, those are the runs of a daemon that is gone.
    pub async fn take_orphans(
        &self,
        worker: &str,
        flows: &[String],
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Firing>, StoreError> {
        self.claim(
            worker,
            flows,
            limit,
            lease,
            "status = 'running' AND (lease_ms < $3 OR worker <> $1)",
            true,
        )
        .await
    }

    async fn claim(
        &self,
        worker: &str,
        flows: &[String],
        limit: usize,
        lease: Duration,
        which: &str,
        resume: bool,
    ) -> Result<Vec<Firing>, StoreError> {
        if flows.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let now = now_ms();
        // Rows another daemon is taking at this moment are passed over, not waited for.
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE firings SET status = 'running', worker = $1, lease_ms = $2, fence = fence + 1, \
             started_ms = COALESCE(started_ms, $3), \
             resume = CASE WHEN {resume} AND resume = {RESUME_NO} THEN {RESUME_TAKEN_OVER} ELSE resume END \
             WHERE id IN (SELECT id FROM firings WHERE {which} AND flow IN ({}) ORDER BY fire_ms, created_ms LIMIT $4{lock}) \
             RETURNING {FIRING_COLUMNS}",
            marks(5, flows.len()),
            resume = if resume { "1 = 1" } else { "1 = 0" },
        );
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(worker)
            .bind(now.saturating_add(millis(lease)))
            .bind(now)
            .bind(int(limit));
        for flow in flows {
            query = query.bind(flow.as_str());
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(&self.shown, &e))?;
        let mut firings = rows
            .iter()
            .map(firing_of)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| db_error(&self.shown, &e))?;
        firings.sort_by_key(|f| f.fire_ms);
        Ok(firings)
    }

    /// Extends the leases of the firings `worker` runs, and returns them: a firing missing from the
    /// answer was taken over by another daemon, one whose fence moved likewise; `cancel` says its run
    /// was asked to stop. Also renews the daemon's own beat.
    pub async fn renew(&self, worker: &str, lease: Duration) -> Result<Vec<Held>, StoreError> {
        let err = |e: sqlx::Error| db_error(&self.shown, &e);
        let now = now_ms();
        let rows = sqlx::query(
            "UPDATE firings SET lease_ms = $1 WHERE worker = $2 AND status = 'running' RETURNING id, fence, cancel",
        )
        .bind(now.saturating_add(millis(lease)))
        .bind(worker)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        sqlx::query("UPDATE workers SET beat_ms = $1 WHERE id = $2")
            .bind(now)
            .bind(worker)
            .execute(&self.pool)
            .await
            .map_err(err)?;
        rows.iter()
            .map(|row| {
                Ok(Held {
                    id: row.try_get(0)?,
                    fence: row.try_get(1)?,
                    cancel: row.try_get::<i64, _>(2)? != 0,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(err)
    }

    /// Records that a firing's run ended, if `worker` still holds it under the same fence (`false`
    /// otherwise: another daemon took it over, and its record stands). A triggered firing counts towards
    /// the trigger's failures in a row (and pauses it at `pause_after`), and lets the trigger's next
    /// queued firing go, or skips the queued ones of a trigger that just paused.
    pub async fn finish_firing(&self, worker: &str, ended: &Ended<'_>) -> Result<bool, StoreError> {
        let err = |e: sqlx::Error| db_error(&self.shown, &e);
        let firing = ended.firing;
        let now = now_ms();
        let mut tx = self.pool.begin().await.map_err(err)?;
        let done = sqlx::query(
            "UPDATE firings SET status = 'done', reason = $1, ended_ms = $2, lease_ms = NULL \
             WHERE id = $3 AND worker = $4 AND fence = $5 AND status = 'running'",
        )
        .bind(&ended.reason)
        .bind(now)
        .bind(&firing.id)
        .bind(worker)
        .bind(firing.fence)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(trigger) = &firing.trigger {
            sqlx::query(
                "UPDATE triggers SET failures = CASE WHEN $1 = 1 THEN failures + 1 ELSE 0 END WHERE flow = $2 AND trigger_id = $3",
            )
            .bind(i64::from(ended.failed))
            .bind(&firing.flow)
            .bind(trigger)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            if let Some(limit) = ended.pause_after.filter(|_| ended.failed) {
                sqlx::query(
                    "UPDATE triggers SET paused = $1 WHERE flow = $2 AND trigger_id = $3 AND failures >= $4 AND paused IS NULL",
                )
                .bind(format!(
                    "{limit} run{} failed in a row (pause_after_failures: {limit}), the last at {}",
                    if limit == 1 { "" } else { "s" },
                    firing.fire_at
                ))
                .bind(&firing.flow)
                .bind(trigger)
                .bind(i64::from(limit))
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            }
            let paused: Option<String> =
                sqlx::query("SELECT paused FROM triggers WHERE flow = $1 AND trigger_id = $2")
                    .bind(&firing.flow)
                    .bind(trigger)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?
                    .map(|row| row.try_get::<Option<String>, _>(0))
                    .transpose()
                    .map_err(err)?
                    .flatten();
            if let Some(why) = paused {
                sqlx::query(
                    "UPDATE firings SET status = 'skipped', reason = $1, ended_ms = $2 \
                     WHERE flow = $3 AND trigger_id = $4 AND status = 'queued'",
                )
                .bind(format!("the trigger is paused: {why}"))
                .bind(now)
                .bind(&firing.flow)
                .bind(trigger)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            } else {
                sqlx::query(
                    "UPDATE firings SET status = 'pending' WHERE id = (SELECT id FROM firings \
                     WHERE flow = $1 AND trigger_id = $2 AND status = 'queued' ORDER BY fire_ms LIMIT 1) \
                     AND NOT EXISTS (SELECT 1 FROM firings WHERE flow = $1 AND trigger_id = $2 AND status IN ('pending', 'running'))",
                )
                .bind(&firing.flow)
                .bind(trigger)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            }
        }
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    /// Hands back the firings `worker` runs, for whoever starts next to take over at once (a daemon that
    /// stops before its runs end).
    pub async fn release(&self, worker: &str) -> Result<u64, StoreError> {
        let done =
            sqlx::query("UPDATE firings SET lease_ms = 0 WHERE worker = $1 AND status = 'running'")
                .bind(worker)
                .execute(&self.pool)
                .await
                .map_err(|e| db_error(&self.shown, &e))?;
        Ok(done.rows_affected())
    }

    /// How many firings wait (pending or queued), for the queue-depth metric.
    pub async fn waiting_firings(&self) -> Result<u64, StoreError> {
        let n: i64 =
            sqlx::query("SELECT COUNT(*) FROM firings WHERE status IN ('pending', 'queued')")
                .fetch_one(&self.pool)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|e| db_error(&self.shown, &e))?;
        Ok(super::count(n))
    }
}

fn millis(d: Duration) -> i64 {
    int(d.as_millis())
}
