//! Listing and pruning runs: what `keyflow runs list` and `keyflow runs prune` ask, and what a daemon or
//! a web view will ask later.

use std::time::Duration;

use keyflow_engine::exec::report::Status;
use keyflow_engine::exec::store::{ParentStep, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::Store;
use crate::codec::{db_error, int, now_ms, status_name, status_of, uint};
use crate::owner::{Liveness, Owner};

/// A run's state as a reader sees it: its stored status, except that a `running` run whose owner is
/// gone reads as `interrupted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Under way.
    Running,
    /// Ended without error.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Cancelled.
    Cancelled,
    /// Its process died before it ended.
    Interrupted,
}

impl RunState {
    /// Every state, in the order `--status` lists them.
    pub const ALL: [RunState; 5] = [
        RunState::Running,
        RunState::Succeeded,
        RunState::Failed,
        RunState::Cancelled,
        RunState::Interrupted,
    ];

    /// The name as shown and as `--status` takes it.
    pub fn name(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
            RunState::Interrupted => "interrupted",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<RunState> {
        RunState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The state of a run stored as `status`.
    fn of(status: Status) -> RunState {
        match status {
            Status::Succeeded => RunState::Succeeded,
            Status::Failed => RunState::Failed,
            Status::Cancelled | Status::Skipped => RunState::Cancelled,
            Status::Running | Status::Pending => RunState::Running,
        }
    }

    /// The status stored for runs in this state.
    fn stored(self) -> Status {
        match self {
            RunState::Running | RunState::Interrupted => Status::Running,
            RunState::Succeeded => Status::Succeeded,
            RunState::Failed => Status::Failed,
            RunState::Cancelled => Status::Cancelled,
        }
    }
}

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only runs of this flow (its name).
    pub flow: Option<String>,
    /// Only runs in this state.
    pub state: Option<RunState>,
    /// Only runs started at or after this time (epoch milliseconds).
    pub since_ms: Option<i64>,
    /// At most this many (the newest).
    pub limit: Option<usize>,
    /// Template runs too, not only top-level runs.
    pub children: bool,
}

/// One line of `runs list`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RunSummary {
    /// The run's id.
    pub run_id: String,
    /// The flow's name.
    pub flow: String,
    /// Where the flow was read from.
    pub source: String,
    /// Its state.
    pub status: RunState,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// How long it took, once it ended.
    pub duration_ms: Option<u64>,
    /// Why it did not succeed, or why it reads as interrupted.
    pub reason: Option<String>,
    /// For a template's run: the step that ran it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentStep>,
}

/// `SELECT` of the columns a summary is read from, `FROM` the runs `r` joined with their top-level runs
/// `o`, whose owner speaks for them. A macro, so that queries built on it stay `'static` literals.
macro_rules! select_summary {
    () => {
        "SELECT r.id, r.flow, r.source, r.status, r.started_at, r.duration_ms, r.reason, r.parent_run_id, \
         r.parent_step, r.parent_item, o.owner_host, o.owner_pid, o.heartbeat_ms, o.heartbeat_every_ms"
    };
}
pub(crate) use select_summary;

/// Runs joined with their top-level run.
macro_rules! from_runs {
    () => {
        " FROM runs r JOIN runs o ON o.id = r.root_run_id"
    };
}
pub(crate) use from_runs;

/// A summary row read back, judging a `running` run's owner as this process sees it.
pub(crate) fn summary(row: &AnyRow, here: &Owner, now: i64) -> Result<RunSummary, StoreError> {
    let get_err = |e: sqlx::Error| StoreError::Failed(format!("a stored run cannot be read: {e}"));
    let status = status_of(&row.try_get::<String, _>("status").map_err(get_err)?)?;
    let mut state = RunState::of(status);
    let mut reason: Option<String> = row.try_get("reason").map_err(get_err)?;
    if state == RunState::Running {
        let liveness = Liveness {
            host: row.try_get("owner_host").map_err(get_err)?,
            pid: row.try_get("owner_pid").map_err(get_err)?,
            heartbeat_ms: row.try_get("heartbeat_ms").map_err(get_err)?,
            every_ms: row.try_get("heartbeat_every_ms").map_err(get_err)?,
        };
        if let Some(why) = liveness.interrupted(here, now) {
            state = RunState::Interrupted;
            reason = Some(why);
        }
    }
    let parent = match row
        .try_get::<Option<String>, _>("parent_run_id")
        .map_err(get_err)?
    {
        Some(run_id) => Some(ParentStep {
            run_id,
            step: row
                .try_get::<Option<String>, _>("parent_step")
                .map_err(get_err)?
                .unwrap_or_default(),
            item: row
                .try_get::<Option<i64>, _>("parent_item")
                .map_err(get_err)?
                .map(uint),
        }),
        None => None,
    };
    Ok(RunSummary {
        run_id: row.try_get("id").map_err(get_err)?,
        flow: row.try_get("flow").map_err(get_err)?,
        source: row.try_get("source").map_err(get_err)?,
        status: state,
        started_at: row.try_get("started_at").map_err(get_err)?,
        duration_ms: row
            .try_get::<Option<i64>, _>("duration_ms")
            .map_err(get_err)?
            .map(uint),
        reason,
        parent,
    })
}

impl Store {
    /// Runs matching `filter`, newest first.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<RunSummary>, StoreError> {
        let mut sql = concat!(select_summary!(), from_runs!(), " WHERE 1 = 1").to_string();
        let mut binds: Vec<Bind> = Vec::new();
        if !filter.children {
            sql.push_str(" AND r.parent_run_id IS NULL");
        }
        if let Some(flow) = &filter.flow {
            binds.push(Bind::Text(flow.clone()));
            sql.push_str(&format!(" AND r.flow = ${}", binds.len()));
        }
        if let Some(state) = filter.state {
            binds.push(Bind::Text(status_name(state.stored()).to_string()));
            sql.push_str(&format!(" AND r.status = ${}", binds.len()));
        }
        if let Some(since) = filter.since_ms {
            binds.push(Bind::Int(since));
            sql.push_str(&format!(" AND r.started_ms >= ${}", binds.len()));
        }
        sql.push_str(" ORDER BY r.started_ms DESC, r.id DESC");
        // Whether a `running` run is interrupted is judged here, not in SQL: filter those, then limit.
        let judged = matches!(
            filter.state,
            Some(RunState::Running | RunState::Interrupted)
        );
        if let (Some(limit), false) = (filter.limit, judged) {
            binds.push(Bind::Int(int(limit)));
            sql.push_str(&format!(" LIMIT ${}", binds.len()));
        }
        // Built from literals only; every value is bound.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                Bind::Text(text) => query.bind(text),
                Bind::Int(n) => query.bind(n),
            };
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(&self.shown, &e))?;
        let now = now_ms();
        let mut runs = Vec::with_capacity(rows.len());
        for row in &rows {
            let run = summary(row, &self.options.owner, now)?;
            if filter.state.is_none_or(|state| state == run.status) {
                runs.push(run);
            }
        }
        if let Some(limit) = filter.limit {
            runs.truncate(limit);
        }
        Ok(runs)
    }

    /// Deletes the top-level runs that started more than `older_than` ago, with their template runs and
    /// every record of them; a run still running is kept. Returns how many top-level runs went.
    pub async fn prune(&self, older_than: Duration) -> Result<usize, StoreError> {
        let cutoff = now_ms() - int(older_than.as_millis());
        let rows = sqlx::query(concat!(
            select_summary!(),
            from_runs!(),
            " WHERE r.parent_run_id IS NULL AND r.started_ms < $1"
        ))
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(&self.shown, &e))?;
        let now = now_ms();
        let mut doomed = Vec::new();
        for row in &rows {
            let run = summary(row, &self.options.owner, now)?;
            if run.status != RunState::Running {
                doomed.push(run.run_id);
            }
        }
        let shown = &self.shown;
        // In batches, each one transaction, so that a long prune does not hold the write lock for long.
        for batch in doomed.chunks(200) {
            let marks = (1..=batch.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let tree = format!("SELECT id FROM runs WHERE root_run_id IN ({marks})");
            let mut tx = self.pool.begin().await.map_err(|e| db_error(shown, &e))?;
            for table in ["attempts", "intents", "steps"] {
                let sql = format!("DELETE FROM {table} WHERE run_id IN ({tree})");
                // Built from literals only; every value is bound.
                let mut delete = sqlx::query(AssertSqlSafe(sql));
                for id in batch {
                    delete = delete.bind(id.as_str());
                }
                delete
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error(shown, &e))?;
            }
            let sql = format!("DELETE FROM runs WHERE root_run_id IN ({marks})");
            let mut delete = sqlx::query(AssertSqlSafe(sql));
            for id in batch {
                delete = delete.bind(id.as_str());
            }
            delete
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(shown, &e))?;
            tx.commit().await.map_err(|e| db_error(shown, &e))?;
        }
        Ok(doomed.len())
    }
}

/// A value bound to a query built at run time.
enum Bind {
    Text(String),
    Int(i64),
}
