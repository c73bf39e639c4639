//! Runs asked for from outside the schedule (`keyflow serve`'s API and web UI): a new run of a flow, a
//! recorded run going on, steps of an earlier run run again, and a run asked to stop.

use serde_json::Value;
use sqlx::AssertSqlSafe;

use keyflow_engine::exec::store::StoreError;

use super::{FIRING_COLUMNS, Firing, FiringStatus, RESUME_ASKED, RESUME_NO, Rerun, firing_of};
use crate::Store;
use crate::codec::{db_error, json, json_opt, now_ms};

/// What a firing asked for from outside starts.
enum Asked<'a> {
    /// A new run.
    Fresh,
    /// The recorded run of that id goes on.
    Resume,
    /// A new run reusing an earlier run's results.
    Rerun(&'a Rerun),
}

impl Store {
    /// Records a run of `flow` asked for now (through the API), pending for any daemon to take.
    pub async fn request_run(
        &self,
        flow: &str,
        params: &Value,
        allow_destructive: bool,
    ) -> Result<Firing, StoreError> {
        let run_id = uuid::Uuid::now_v7().to_string();
        self.request(flow, params, allow_destructive, &run_id, Asked::Fresh)
            .await
    }

    /// Records that the recorded run `run_id` of `flow` is to go on (`keyflow resume` through the API),
    /// pending for any daemon to take; the daemon that takes it resumes the run.
    pub async fn request_resume(
        &self,
        run_id: &str,
        flow: &str,
        params: &Value,
        allow_destructive: bool,
    ) -> Result<Firing, StoreError> {
        self.request(flow, params, allow_destructive, run_id, Asked::Resume)
            .await
    }

    /// Records a new run of `flow` asked for now that re-runs `rerun.steps` of the earlier run
    /// `rerun.from` and reuses the rest of its results (`keyflow run FLOW --from RUN --rerun STEP`),
    /// pending for any daemon to take.
    pub async fn request_rerun(
        &self,
        flow: &str,
        params: &Value,
        allow_destructive: bool,
        rerun: &Rerun,
    ) -> Result<Firing, StoreError> {
        let run_id = uuid::Uuid::now_v7().to_string();
        self.request(
            flow,
            params,
            allow_destructive,
            &run_id,
            Asked::Rerun(rerun),
        )
        .await
    }

    async fn request(
        &self,
        flow: &str,
        params: &Value,
        allow_destructive: bool,
        run_id: &str,
        asked: Asked<'_>,
    ) -> Result<Firing, StoreError> {
        let now = now_ms();
        let (resume, rerun) = match asked {
            Asked::Fresh => (RESUME_NO, None),
            Asked::Resume => (RESUME_ASKED, None),
            Asked::Rerun(rerun) => (RESUME_NO, Some(rerun)),
        };
        let steps = json_opt(rerun.map(|r| &r.steps))?;
        let sql = format!(
            "INSERT INTO firings (id, flow, trigger_id, fire_ms, missed, params, allow_destructive, status, run_id, \
             resume, fence, cancel, created_ms, rerun_from, rerun_steps) \
             VALUES ($1, $2, NULL, $3, 0, $4, $5, 'pending', $6, $7, 0, 0, $3, $8, $9) \
             RETURNING {FIRING_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(flow)
            .bind(now)
            .bind(json(params)?)
            .bind(i64::from(allow_destructive))
            .bind(run_id)
            .bind(resume)
            .bind(rerun.map(|r| r.from.clone()))
            .bind(steps)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_error(&self.shown, &e))?;
        firing_of(&row).map_err(|e| db_error(&self.shown, &e))
    }

    /// Asks the run `run_id` to stop: a firing not yet started is skipped; the daemon running one is
    /// told at its next renewal. `None` when no firing starts that run or it already ended.
    pub async fn request_cancel(&self, run_id: &str) -> Result<Option<FiringStatus>, StoreError> {
        let err = |e: sqlx::Error| db_error(&self.shown, &e);
        let waiting = sqlx::query(
            "UPDATE firings SET status = 'skipped', reason = 'cancelled before it started', ended_ms = $2 \
             WHERE run_id = $1 AND status IN ('pending', 'queued')",
        )
        .bind(run_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(err)?;
        if waiting.rows_affected() > 0 {
            return Ok(Some(FiringStatus::Skipped));
        }
        let running =
            sqlx::query("UPDATE firings SET cancel = 1 WHERE run_id = $1 AND status = 'running'")
                .bind(run_id)
                .execute(&self.pool)
                .await
                .map_err(err)?;
        Ok((running.rows_affected() > 0).then_some(FiringStatus::Running))
    }
}
