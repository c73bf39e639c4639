//! One run read back whole: its report rebuilt from the rows (steps in file order, template runs under
//! their step), with every attempt and intent of it and of its template runs.

use std::collections::HashMap;

use indexmap::IndexMap;
use keyflow_engine::exec::report::{RunReport, Status, StepReport};
use keyflow_engine::exec::store::{AttemptRecord, Intent, StoreError};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Store;
use crate::codec::{db_error, now_ms, parse, parse_opt, status_of, uint};
use crate::query::{RunState, RunSummary, from_runs, select_summary, summary};

/// A run as the store has it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    /// Its line in `runs list`: state (`interrupted` included), source, parent.
    pub summary: RunSummary,
    /// The parameters it was given (secrets redacted).
    pub params: Value,
    /// Its report, rebuilt: for a run that has not ended, the steps that have, and status `running`.
    pub report: RunReport,
    /// Every call of it and of its template runs, in the order they started.
    pub attempts: Vec<AttemptRecord>,
    /// Every intent of it and of its template runs, in the order they were recorded.
    pub intents: Vec<Intent>,
    /// Each step's digest as its flow was written when the run (or one of its template runs) ran, by run
    /// id, then step id: what `keyflow resume` compares with the flow as it is now.
    pub definitions: HashMap<String, IndexMap<String, String>>,
}

/// A run's row, before its steps join it.
struct RunRow {
    summary: RunSummary,
    params: Value,
    started_ms: i64,
    heartbeat_ms: Option<i64>,
    outputs: Option<String>,
    step_order: Option<Vec<String>>,
    definitions: Option<IndexMap<String, String>>,
}

impl Store {
    /// The run `id`, or the only top-level run whose id starts with `id`.
    pub async fn show(&self, id: &str) -> Result<StoredRun, StoreError> {
        let id = self.resolve(id).await?;
        let shown = &self.shown;
        let fail = |e: sqlx::Error| db_error(shown, &e);
        let root: String = sqlx::query("SELECT root_run_id FROM runs WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(&self.pool)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(fail)?;
        // The whole tree of the run's top-level run, read in four queries; the run's part is kept.
        macro_rules! tree {
            () => {
                "SELECT id FROM runs WHERE root_run_id = $1"
            };
        }
        let run_rows = sqlx::query(concat!(
            select_summary!(),
            ", r.params, r.started_ms, r.outputs, r.step_order, r.definitions",
            from_runs!(),
            " WHERE r.root_run_id = $1"
        ))
        .bind(root.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(fail)?;
        let step_rows = sqlx::query(concat!(
            "SELECT * FROM steps WHERE run_id IN (",
            tree!(),
            ") ORDER BY ended_ms, step"
        ))
        .bind(root.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(fail)?;
        let attempt_rows = sqlx::query(concat!(
            "SELECT * FROM attempts WHERE run_id IN (",
            tree!(),
            ") ORDER BY started_at, run_id, step, item, attempt"
        ))
        .bind(root.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(fail)?;
        let intent_rows = sqlx::query(concat!(
            "SELECT * FROM intents WHERE run_id IN (",
            tree!(),
            ") ORDER BY started_at, run_id, step, item, attempt"
        ))
        .bind(root.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(fail)?;

        let now = now_ms();
        let mut runs = HashMap::new();
        for row in &run_rows {
            let run = run_row(row, &self.options.owner, now)?;
            runs.insert(run.summary.run_id.clone(), run);
        }
        let mut steps: HashMap<String, Vec<StepReport>> = HashMap::new();
        for row in &step_rows {
            let (run_id, step) = step_row(row)?;
            steps.entry(run_id).or_default().push(step);
        }
        let mut children: HashMap<(String, String), Vec<(usize, String)>> = HashMap::new();
        for run in runs.values() {
            if let Some(parent) = &run.summary.parent {
                children
                    .entry((parent.run_id.clone(), parent.step.clone()))
                    .or_default()
                    .push((parent.item.unwrap_or(0), run.summary.run_id.clone()));
            }
        }
        let tree = Tree {
            runs: &runs,
            steps: &steps,
            children: &children,
        };
        let report = tree.report(&id, now)?;
        let in_run = |run_id: &str| run_id == id || run_id.starts_with(&format!("{id}/"));
        let attempts = attempt_rows
            .iter()
            .map(attempt_row)
            .filter(|a| a.as_ref().map_or(true, |a| in_run(&a.run_id)))
            .collect::<Result<_, _>>()?;
        let intents = intent_rows
            .iter()
            .map(intent_row)
            .filter(|i| i.as_ref().map_or(true, |i| in_run(&i.run_id)))
            .collect::<Result<_, _>>()?;
        let run = runs
            .get(&id)
            .ok_or_else(|| StoreError::NotFound(format!("run `{id}`")))?;
        let definitions = runs
            .iter()
            .filter(|(run_id, _)| in_run(run_id))
            .filter_map(|(run_id, run)| Some((run_id.clone(), run.definitions.clone()?)))
            .collect();
        Ok(StoredRun {
            summary: run.summary.clone(),
            params: run.params.clone(),
            report,
            attempts,
            intents,
            definitions,
        })
    }

    /// The full id of the run `id` names: itself, or the one top-level run it is a prefix of.
    async fn resolve(&self, id: &str) -> Result<String, StoreError> {
        let fail = |e: sqlx::Error| db_error(&self.shown, &e);
        let exact = sqlx::query("SELECT id FROM runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(fail)?;
        if exact.is_some() {
            return Ok(id.to_string());
        }
        let pattern = format!(
            "{}%",
            id.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let found: Vec<String> = sqlx::query(
            "SELECT id FROM runs WHERE parent_run_id IS NULL AND id LIKE $1 ESCAPE '\\' ORDER BY id LIMIT 3",
        )
        .bind(pattern)
        .fetch_all(&self.pool)
        .await
        .map_err(fail)?
        .iter()
        .filter_map(|row| row.try_get(0).ok())
        .collect();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(StoreError::NotFound(format!("run `{id}`"))),
            many => Err(StoreError::Failed(format!(
                "`{id}` is the start of several runs ({}…): give more of the id",
                many.join(", ")
            ))),
        }
    }
}

/// The rows of one run tree, for rebuilding reports.
struct Tree<'a> {
    runs: &'a HashMap<String, RunRow>,
    steps: &'a HashMap<String, Vec<StepReport>>,
    /// Template runs by the run and step that ran them: (item, run id).
    children: &'a HashMap<(String, String), Vec<(usize, String)>>,
}

impl Tree<'_> {
    fn report(&self, run_id: &str, now: i64) -> Result<RunReport, StoreError> {
        let run = self
            .runs
            .get(run_id)
            .ok_or_else(|| StoreError::NotFound(format!("run `{run_id}`")))?;
        let mut steps = self.steps.get(run_id).cloned().unwrap_or_default();
        if let Some(order) = &run.step_order {
            let position: HashMap<&str, usize> = order
                .iter()
                .enumerate()
                .map(|(i, s)| (s.as_str(), i))
                .collect();
            steps.sort_by_key(|s| position.get(s.id.as_str()).copied().unwrap_or(usize::MAX));
        }
        for step in &mut steps {
            if let Some(runs) = &mut step.runs {
                let mut children = self
                    .children
                    .get(&(run_id.to_string(), step.id.clone()))
                    .cloned()
                    .unwrap_or_default();
                children.sort();
                for (_, child) in children {
                    runs.push(self.report(&child, now)?);
                }
            }
        }
        let summary = &run.summary;
        let duration_ms = match summary.duration_ms {
            Some(ms) => ms,
            None if summary.status == RunState::Interrupted => {
                uint(run.heartbeat_ms.unwrap_or(run.started_ms) - run.started_ms)
            }
            None => uint(now - run.started_ms),
        };
        Ok(RunReport {
            run_id: summary.run_id.clone(),
            flow: summary.flow.clone(),
            status: match summary.status {
                RunState::Succeeded => Status::Succeeded,
                RunState::Failed => Status::Failed,
                RunState::Cancelled => Status::Cancelled,
                RunState::Running | RunState::Interrupted => Status::Running,
            },
            started_at: summary.started_at.clone(),
            duration_ms,
            outputs: parse_opt::<IndexMap<String, Value>>(run.outputs.clone(), "outputs")?
                .unwrap_or_default(),
            steps,
            reason: summary.reason.clone(),
        })
    }
}

fn get_err(e: sqlx::Error) -> StoreError {
    StoreError::Failed(format!("a stored record cannot be read: {e}"))
}

fn run_row(row: &AnyRow, here: &crate::Owner, now: i64) -> Result<RunRow, StoreError> {
    let summary = summary(row, here, now)?;
    Ok(RunRow {
        summary,
        params: parse(
            &row.try_get::<String, _>("params").map_err(get_err)?,
            "params",
        )?,
        started_ms: row.try_get("started_ms").map_err(get_err)?,
        heartbeat_ms: row.try_get("heartbeat_ms").map_err(get_err)?,
        outputs: row.try_get("outputs").map_err(get_err)?,
        step_order: parse_opt(row.try_get("step_order").map_err(get_err)?, "step order")?,
        definitions: parse_opt(row.try_get("definitions").map_err(get_err)?, "step digests")?,
    })
}

fn step_row(row: &AnyRow) -> Result<(String, StepReport), StoreError> {
    let template_runs: Option<i64> = row.try_get("template_runs").map_err(get_err)?;
    let step = StepReport {
        id: row.try_get("step").map_err(get_err)?,
        block: row.try_get("block").map_err(get_err)?,
        status: status_of(&row.try_get::<String, _>("status").map_err(get_err)?)?,
        attempts: uint(row.try_get::<i64, _>("attempts").map_err(get_err)?),
        duration_ms: uint(row.try_get::<i64, _>("duration_ms").map_err(get_err)?),
        output: parse_opt(row.try_get("output").map_err(get_err)?, "step output")?,
        error: parse_opt(row.try_get("error").map_err(get_err)?, "step error")?,
        reason: row.try_get("reason").map_err(get_err)?,
        items: row
            .try_get::<Option<i64>, _>("items")
            .map_err(get_err)?
            .map(uint),
        runs: template_runs.map(|n| Vec::with_capacity(uint(n))),
        reused: row
            .try_get::<Option<i64>, _>("reused")
            .map_err(get_err)?
            .is_some_and(|r| r != 0),
    };
    Ok((row.try_get("run_id").map_err(get_err)?, step))
}

fn attempt_row(row: &AnyRow) -> Result<AttemptRecord, StoreError> {
    Ok(AttemptRecord {
        run_id: row.try_get("run_id").map_err(get_err)?,
        step: row.try_get("step").map_err(get_err)?,
        item: row
            .try_get::<Option<i64>, _>("item")
            .map_err(get_err)?
            .map(uint),
        attempt: uint(row.try_get::<i64, _>("attempt").map_err(get_err)?),
        started_at: row.try_get("started_at").map_err(get_err)?,
        duration_ms: uint(row.try_get::<i64, _>("duration_ms").map_err(get_err)?),
        input: parse(
            &row.try_get::<String, _>("input").map_err(get_err)?,
            "input",
        )?,
        output: parse_opt(row.try_get("output").map_err(get_err)?, "output")?,
        error: parse_opt(row.try_get("error").map_err(get_err)?, "error")?,
    })
}

fn intent_row(row: &AnyRow) -> Result<Intent, StoreError> {
    Ok(Intent {
        run_id: row.try_get("run_id").map_err(get_err)?,
        step: row.try_get("step").map_err(get_err)?,
        item: row
            .try_get::<Option<i64>, _>("item")
            .map_err(get_err)?
            .map(uint),
        attempt: uint(row.try_get::<i64, _>("attempt").map_err(get_err)?),
        block: row.try_get("block").map_err(get_err)?,
        effect: parse(
            &serde_json::to_string(&row.try_get::<String, _>("effect").map_err(get_err)?)
                .unwrap_or_default(),
            "effect",
        )?,
        started_at: row.try_get("started_at").map_err(get_err)?,
        input: parse(
            &row.try_get::<String, _>("input").map_err(get_err)?,
            "input",
        )?,
    })
}

impl StoredRun {
    /// What `keyflow resume` reads of this run (see [`Recorded::of`]).
    pub fn recorded(&self) -> keyflow_engine::exec::resume::Recorded {
        keyflow_engine::exec::resume::Recorded::of(
            &self.report,
            &self.definitions,
            &self.attempts,
            &self.intents,
        )
    }
}
