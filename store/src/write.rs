//! What the executor hands the store. A run's start and end, intents, and the records of calls that
//! change something are committed before the call returns; the records of reads wait a little and go in
//! batches (see [`crate::behind`]).

use std::collections::HashSet;

use async_trait::async_trait;
use keyflow_engine::exec::report::{RunReport, StepReport};
use keyflow_engine::exec::store::{AttemptRecord, Intent, RunStart, RunStore, StoreError};
use sqlx::Row;

use crate::Store;
use crate::codec::{db_error, int, json, ms_of, now_ms, rfc3339_of, status_name};
use crate::owner::start_heartbeat;
use crate::rows::{AttemptRow, IntentRow, Record, StepRow, write_steps};

#[async_trait]
impl RunStore for Store {
    async fn begin_run(&self, run: &RunStart) -> Result<(), StoreError> {
        let top = run.parent.is_none();
        let now = now_ms();
        let (host, pid, beat, every) = if top {
            (
                Some(self.options.owner.host.clone()),
                Some(i64::from(self.options.owner.pid)),
                Some(now),
                Some(int(self.options.heartbeat.as_millis())),
            )
        } else {
            // A template's run lives and dies with its top-level run, whose heartbeat speaks for it.
            (None, None, None, None)
        };
        let parent = run.parent.as_ref();
        let mut ordered = self.writer.ordered().await?;
        // A template step that is retried runs its template again under the same id: the row is the
        // latest run's.
        sqlx::query(
            "INSERT INTO runs (id, root_run_id, parent_run_id, parent_step, parent_item, flow, source, params, \
             status, started_at, started_ms, owner_host, owner_pid, heartbeat_ms, heartbeat_every_ms, \
             definitions) \
             VALUES ($1, COALESCE((SELECT r.root_run_id FROM runs r WHERE r.id = $2), $2, $1), $2, $3, $4, \
             $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, started_at = excluded.started_at, \
             started_ms = excluded.started_ms, params = excluded.params, ended_at = NULL, \
             duration_ms = NULL, reason = NULL, outputs = NULL, step_order = NULL, \
             owner_host = excluded.owner_host, owner_pid = excluded.owner_pid, \
             heartbeat_ms = excluded.heartbeat_ms, heartbeat_every_ms = excluded.heartbeat_every_ms, \
             definitions = excluded.definitions",
        )
        .bind(run.run_id.as_str())
        .bind(parent.map(|p| p.run_id.clone()))
        .bind(parent.map(|p| p.step.clone()))
        .bind(parent.and_then(|p| p.item).map(int))
        .bind(run.flow.as_str())
        .bind(run.source.as_str())
        .bind(json(&run.params)?)
        .bind(status_name(keyflow_engine::exec::report::Status::Running))
        .bind(run.started_at.as_str())
        .bind(ms_of(&run.started_at))
        .bind(host)
        .bind(pid)
        .bind(beat)
        .bind(every)
        .bind(json(&run.definitions)?)
        .execute(ordered.conn())
        .await
        .map_err(|e| db_error(&self.shown, &e))?;
        ordered.commit().await?;
        if top {
            let beat = start_heartbeat(
                self.pool.clone(),
                run.run_id.clone(),
                self.options.heartbeat,
            );
            let mut beats = self.beats.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(old) = beats.insert(run.run_id.clone(), beat) {
                old.abort();
            }
        }
        Ok(())
    }

    async fn record_intent(&self, intent: &Intent) -> Result<(), StoreError> {
        self.writer
            .record(Record::Intent(IntentRow::of(intent)?))
            .await
    }

    async fn record_attempt(&self, record: &AttemptRecord) -> Result<(), StoreError> {
        self.writer
            .record(Record::Attempt(AttemptRow::of(record)?))
            .await
    }

    async fn finish_step(&self, run_id: &str, step: &StepReport) -> Result<(), StoreError> {
        self.writer
            .record(Record::Step(StepRow::of(run_id, step)?))
            .await
    }

    async fn finish_run(&self, report: &RunReport) -> Result<(), StoreError> {
        if let Some(beat) = self
            .beats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&report.run_id)
        {
            beat.abort();
        }
        let shown = &self.shown;
        let order: Vec<&str> = report.steps.iter().map(|s| s.id.as_str()).collect();
        let ended_ms = ms_of(&report.started_at) + int(report.duration_ms);
        // What waits is written first, in the same transaction.
        let mut ordered = self.writer.ordered().await?;
        let tx = ordered.conn();
        let updated = sqlx::query(
            "UPDATE runs SET status = $1, ended_at = $2, duration_ms = $3, reason = $4, outputs = $5, \
             step_order = $6, heartbeat_ms = $7 WHERE id = $8",
        )
        .bind(status_name(report.status))
        .bind(rfc3339_of(ended_ms))
        .bind(int(report.duration_ms))
        .bind(report.reason.clone())
        .bind(json(&report.outputs)?)
        .bind(json(&order)?)
        .bind(now_ms())
        .bind(report.run_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(shown, &e))?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("run `{}`", report.run_id)));
        }
        // Steps that never started (the run stopped first) reach the store only here.
        let recorded: HashSet<String> = sqlx::query("SELECT step FROM steps WHERE run_id = $1")
            .bind(report.run_id.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(shown, &e))?
            .iter()
            .filter_map(|row| row.try_get(0).ok())
            .collect();
        let never_started = report
            .steps
            .iter()
            .filter(|s| !recorded.contains(&s.id))
            .map(|step| StepRow::of(&report.run_id, step))
            .collect::<Result<Vec<_>, _>>()?;
        write_steps(tx, &never_started, self.backend, shown).await?;
        ordered.commit().await
    }
}
