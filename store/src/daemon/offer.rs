//! Turning fire times into firings: a trigger's state, the firings a daemon offers for it, un-pausing a
//! trigger, and reading the firings back.

use serde::Serialize;
use serde_json::Value;
use sqlx::{AssertSqlSafe, Row};

use keyflow_engine::exec::store::StoreError;
use keyflow_engine::model::Overlap;

use super::{FIRING_COLUMNS, Firing, FiringStatus, firing_of};
use crate::Store;
use crate::codec::{db_error, json, now_ms, rfc3339_of};

/// What the store holds of a trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TriggerState {
    /// The flow's name.
    pub flow: String,
    /// The trigger's id.
    pub trigger: String,
    /// Every fire time up to this one (epoch milliseconds) was handled.
    #[serde(skip)]
    pub last_fire_ms: i64,
    /// The same, RFC 3339.
    pub handled_until: String,
    /// Failed runs in a row.
    pub failures: u64,
    /// Why it is paused (`pause_after_failures`), until resumed.
    pub paused: Option<String>,
}

/// The firings a daemon found due for one trigger.
#[derive(Debug, Clone)]
pub struct Offer<'a> {
    /// The flow's name.
    pub flow: &'a str,
    /// The trigger's id.
    pub trigger: &'a str,
    /// The `last_fire_ms` the daemon read: the offer stands only if no one moved it since.
    pub seen_last_ms: i64,
    /// What `last_fire_ms` becomes (the instant the daemon looked).
    pub now_ms: i64,
    /// The fire times to start (epoch milliseconds), oldest first, and whether each was missed.
    pub fire: Vec<(i64, bool)>,
    /// The trigger's params.
    pub params: &'a Value,
    /// Whether its runs may run confirmed destructive steps.
    pub allow_destructive: bool,
    /// What a firing does while the trigger's previous run still goes.
    pub overlap: Overlap,
}

const ACTIVE: &str = "status IN ('pending', 'queued', 'running')";

impl Store {
    /// Records that a daemon serves trigger `trigger` of `flow`, whose schedule reads `schedule` (its
    /// expression and zone), and returns what the store holds of it. A trigger seen for the first time, or
    /// whose schedule changed, counts as handled up to now: it does not catch up fire times from before.
    pub async fn register_trigger(
        &self,
        flow: &str,
        trigger: &str,
        schedule: &str,
    ) -> Result<TriggerState, StoreError> {
        let shown = &self.shown;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO triggers (flow, trigger_id, schedule, last_fire_ms, failures) VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (flow, trigger_id) DO UPDATE SET schedule = excluded.schedule, last_fire_ms = excluded.last_fire_ms \
             WHERE triggers.schedule <> excluded.schedule",
        )
        .bind(flow)
        .bind(trigger)
        .bind(schedule)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(shown, &e))?;
        self.trigger_state(flow, trigger).await?.ok_or_else(|| {
            StoreError::Failed(format!("{shown}: trigger `{flow}/{trigger}` vanished"))
        })
    }

    /// What the store holds of one trigger.
    pub async fn trigger_state(
        &self,
        flow: &str,
        trigger: &str,
    ) -> Result<Option<TriggerState>, StoreError> {
        let row = sqlx::query(
            "SELECT flow, trigger_id, last_fire_ms, failures, paused FROM triggers WHERE flow = $1 AND trigger_id = $2",
        )
        .bind(flow)
        .bind(trigger)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(&self.shown, &e))?;
        row.map(|row| trigger_of(&row))
            .transpose()
            .map_err(|e| db_error(&self.shown, &e))
    }

    /// Every trigger the store knows.
    pub async fn trigger_states(&self) -> Result<Vec<TriggerState>, StoreError> {
        let rows = sqlx::query(
            "SELECT flow, trigger_id, last_fire_ms, failures, paused FROM triggers ORDER BY flow, trigger_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(&self.shown, &e))?;
        rows.iter()
            .map(trigger_of)
            .collect::<Result<_, _>>()
            .map_err(|e| db_error(&self.shown, &e))
    }

    /// Records the firings of `offer`, unless another daemon handled the trigger since it was read (then
    /// nothing, and the caller reads the trigger again). A firing is `pending` when nothing of the
    /// trigger is under way; otherwise the overlap policy decides: `skip` records it skipped, `queue`
    /// queues it, `cancel_running` asks the run under way to stop and queues it. Caught-up firings after
    /// the first of one offer queue behind each other. A paused trigger's firings are recorded skipped.
    pub async fn offer(&self, offer: &Offer<'_>) -> Result<Vec<Firing>, StoreError> {
        let shown = &self.shown;
        let err = |e: sqlx::Error| db_error(shown, &e);
        let mut tx = self.pool.begin().await.map_err(err)?;
        // The compare-and-set comes first: it is what takes the write lock (SQLite) or the row's lock
        // (PostgreSQL), so that offers of one trigger follow each other.
        let moved = sqlx::query(
            "UPDATE triggers SET last_fire_ms = $1 WHERE flow = $2 AND trigger_id = $3 AND last_fire_ms = $4",
        )
        .bind(offer.now_ms)
        .bind(offer.flow)
        .bind(offer.trigger)
        .bind(offer.seen_last_ms)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        if moved.rows_affected() == 0 {
            return Ok(Vec::new());
        }
        let paused: Option<String> =
            sqlx::query("SELECT paused FROM triggers WHERE flow = $1 AND trigger_id = $2")
                .bind(offer.flow)
                .bind(offer.trigger)
                .fetch_one(&mut *tx)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(err)?;
        let sql = format!(
            "SELECT run_id, fire_ms FROM firings WHERE flow = $1 AND trigger_id = $2 AND {ACTIVE} ORDER BY fire_ms LIMIT 1"
        );
        let under_way: Option<(String, i64)> = sqlx::query(AssertSqlSafe(sql))
            .bind(offer.flow)
            .bind(offer.trigger)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?
            .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
            .map_err(err)?;
        let params = json(offer.params)?;
        let mut busy = under_way.clone();
        let mut made = Vec::new();
        for (i, &(fire_ms, missed)) in offer.fire.iter().enumerate() {
            let (status, reason) = match (&paused, &busy) {
                (Some(why), _) => (
                    FiringStatus::Skipped,
                    Some(format!("the trigger is paused: {why}")),
                ),
                (None, None) => (FiringStatus::Pending, None),
                // One offer's later firings wait for its earlier ones.
                (None, Some(_)) if i > 0 && under_way.is_none() => (FiringStatus::Queued, None),
                (None, Some((run_id, at))) => match offer.overlap {
                    Overlap::Skip => (
                        FiringStatus::Skipped,
                        Some(format!(
                            "run {run_id} of the firing at {} was still under way (overlap: skip)",
                            rfc3339_of(*at)
                        )),
                    ),
                    Overlap::Queue => (FiringStatus::Queued, None),
                    Overlap::CancelRunning => {
                        let sql = format!(
                            "UPDATE firings SET cancel = 1 WHERE flow = $1 AND trigger_id = $2 AND {ACTIVE}"
                        );
                        sqlx::query(AssertSqlSafe(sql))
                            .bind(offer.flow)
                            .bind(offer.trigger)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                        (FiringStatus::Queued, None)
                    }
                },
            };
            let id = uuid::Uuid::now_v7().to_string();
            let run_id = uuid::Uuid::now_v7().to_string();
            let sql = format!(
                "INSERT INTO firings (id, flow, trigger_id, fire_ms, missed, params, allow_destructive, status, reason, \
                 run_id, resume, fence, cancel, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, 0, $11) \
                 ON CONFLICT (flow, trigger_id, fire_ms) DO NOTHING RETURNING {FIRING_COLUMNS}"
            );
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .bind(offer.flow)
                .bind(offer.trigger)
                .bind(fire_ms)
                .bind(i64::from(missed))
                .bind(&params)
                .bind(i64::from(offer.allow_destructive))
                .bind(status.name())
                .bind(reason)
                .bind(&run_id)
                .bind(offer.now_ms)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
            if let Some(row) = row {
                let firing = firing_of(&row).map_err(err)?;
                if matches!(status, FiringStatus::Pending | FiringStatus::Queued) {
                    busy = Some((firing.run_id.clone(), fire_ms));
                }
                made.push(firing);
            }
        }
        tx.commit().await.map_err(err)?;
        Ok(made)
    }

    /// Un-pauses a trigger paused after failures (its failure count starts again). Whether it was paused.
    pub async fn unpause_trigger(&self, flow: &str, trigger: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE triggers SET paused = NULL, failures = 0 WHERE flow = $1 AND trigger_id = $2 AND paused IS NOT NULL",
        )
        .bind(flow)
        .bind(trigger)
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(&self.shown, &e))?;
        Ok(done.rows_affected() > 0)
    }

    /// The firings of `flow` (all flows when `None`), newest first, at most `limit`.
    pub async fn firings(
        &self,
        flow: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Firing>, StoreError> {
        let sql = format!(
            "SELECT {FIRING_COLUMNS} FROM firings WHERE ($1 IS NULL OR flow = $1) ORDER BY fire_ms DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(flow)
            .bind(crate::codec::int(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(&self.shown, &e))?;
        rows.iter()
            .map(firing_of)
            .collect::<Result<_, _>>()
            .map_err(|e| db_error(&self.shown, &e))
    }

    /// The firing that starts run `run_id`.
    pub async fn firing_of_run(&self, run_id: &str) -> Result<Option<Firing>, StoreError> {
        // A run resumed through the API has several firings: the newest speaks for it.
        let sql = format!(
            "SELECT {FIRING_COLUMNS} FROM firings WHERE run_id = $1 ORDER BY created_ms DESC, id DESC LIMIT 1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(&self.shown, &e))?;
        row.map(|row| firing_of(&row))
            .transpose()
            .map_err(|e| db_error(&self.shown, &e))
    }
}

fn trigger_of(row: &sqlx::any::AnyRow) -> Result<TriggerState, sqlx::Error> {
    let last_fire_ms: i64 = row.try_get(2)?;
    Ok(TriggerState {
        flow: row.try_get(0)?,
        trigger: row.try_get(1)?,
        last_fire_ms,
        handled_until: rfc3339_of(last_fire_ms),
        failures: super::count(row.try_get(3)?),
        paused: row.try_get(4)?,
    })
}
