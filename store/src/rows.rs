//! Records as rows: encoded once, when they are handed over (their JSON values become text then, so a
//! record that waits for its batch holds strings, not a copy of the executor's values), and written many
//! rows to a statement.
//!
//! A batch is written as one multi-row `INSERT` per table rather than a statement per record: on SQLite
//! every statement is a round trip to sqlx's worker thread, which was most of what a batch cost. The
//! number of rows per statement is a power of two up to [`MAX_ROWS`] (the rest of a batch in smaller
//! powers of two), so a handful of statement texts per table serve every batch size and stay in each
//! connection's prepared statement cache.
//!
//! SQLite gets plain `?` parameters here, not the portable `$1`…: to SQLite `$1` is a *name*, looked up
//! by walking the statement's list of names when it is prepared and again when each value is bound, so a
//! statement with thousands of them costs their square (a 256-row batch took milliseconds).

use std::collections::HashMap;
use std::fmt::Write as _;

use keyflow_engine::exec::report::StepReport;
use keyflow_engine::exec::store::{AttemptRecord, Intent, StoreError};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};

use crate::Backend;
use crate::codec::{db_error, int, json, json_opt, now_ms, status_name};

/// SQLite's limit on bound parameters in one statement (since 3.32; PostgreSQL's is 65,535).
const MAX_PARAMS: usize = 32_766;

/// Rows in one statement at most: enough that a statement's round trip is shared by many rows, few
/// enough that the cached statements stay small.
const MAX_ROWS: usize = 256;

type AnyQuery<'q> = Query<'q, Any, AnyArguments>;

/// A record on its way to the database.
#[derive(Debug, Clone)]
pub(crate) enum Record {
    Intent(IntentRow),
    Attempt(AttemptRow),
    Step(StepRow),
}

/// An intent's row (`intents`).
#[derive(Debug, Clone)]
pub(crate) struct IntentRow {
    pub run_id: String,
    pub step: String,
    item: Option<i64>,
    attempt: i64,
    block: String,
    effect: &'static str,
    started_at: String,
    input: String,
}

/// An attempt's row (`attempts`).
#[derive(Debug, Clone)]
pub(crate) struct AttemptRow {
    pub run_id: String,
    pub step: String,
    item: Option<i64>,
    attempt: i64,
    started_at: String,
    duration_ms: i64,
    input: String,
    output: Option<String>,
    error: Option<String>,
}

/// A step's report line as a row (`steps`). Its template runs are rows of `runs` of their own; the row
/// keeps how many there were, so that a step with none is told from a step that is not a template's.
#[derive(Debug, Clone)]
pub(crate) struct StepRow {
    pub run_id: String,
    pub step: String,
    block: String,
    status: &'static str,
    attempts: i64,
    duration_ms: i64,
    output: Option<String>,
    error: Option<String>,
    reason: Option<String>,
    items: Option<i64>,
    template_runs: Option<i64>,
    /// When the step was handed over, not when its batch was written.
    ended_ms: i64,
    reused: i64,
}

impl IntentRow {
    pub fn of(intent: &Intent) -> Result<IntentRow, StoreError> {
        Ok(IntentRow {
            run_id: intent.run_id.clone(),
            step: intent.step.clone(),
            item: intent.item.map(int),
            attempt: i64::from(intent.attempt),
            block: intent.block.clone(),
            effect: intent.effect.name(),
            started_at: intent.started_at.clone(),
            input: json(&intent.input)?,
        })
    }
}

impl AttemptRow {
    pub fn of(record: &AttemptRecord) -> Result<AttemptRow, StoreError> {
        Ok(AttemptRow {
            run_id: record.run_id.clone(),
            step: record.step.clone(),
            item: record.item.map(int),
            attempt: i64::from(record.attempt),
            started_at: record.started_at.clone(),
            duration_ms: int(record.duration_ms),
            input: json(&record.input)?,
            output: json_opt(record.output.as_ref())?,
            error: json_opt(record.error.as_ref())?,
        })
    }
}

impl StepRow {
    pub fn of(run_id: &str, step: &StepReport) -> Result<StepRow, StoreError> {
        Ok(StepRow {
            run_id: run_id.to_string(),
            step: step.id.clone(),
            block: step.block.clone(),
            status: status_name(step.status),
            attempts: i64::from(step.attempts),
            duration_ms: int(step.duration_ms),
            output: json_opt(step.output.as_ref())?,
            error: json_opt(step.error.as_ref())?,
            reason: step.reason.clone(),
            items: step.items.map(int),
            template_runs: step.runs.as_ref().map(|runs| int(runs.len())),
            ended_ms: now_ms(),
            reused: i64::from(step.reused),
        })
    }
}

/// A table the store appends rows to.
trait Table {
    /// `INSERT INTO table (columns) VALUES`.
    const INSERT: &'static str;
    /// How many values a row binds.
    const COLUMNS: usize;
    /// What follows the rows.
    const CONFLICT: &'static str = "";
    /// Binds this row's values, in the order of the columns.
    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q>;
}

impl Table for IntentRow {
    const INSERT: &'static str = "INSERT INTO intents (run_id, step, item, attempt, block, effect, started_at, input) VALUES";
    const COLUMNS: usize = 8;
    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
            .bind(self.run_id.as_str())
            .bind(self.step.as_str())
            .bind(self.item)
            .bind(self.attempt)
            .bind(self.block.as_str())
            .bind(self.effect)
            .bind(self.started_at.as_str())
            .bind(self.input.as_str())
    }
}

impl Table for AttemptRow {
    const INSERT: &'static str = "INSERT INTO attempts (run_id, step, item, attempt, started_at, duration_ms, input, output, error) VALUES";
    const COLUMNS: usize = 9;
    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
            .bind(self.run_id.as_str())
            .bind(self.step.as_str())
            .bind(self.item)
            .bind(self.attempt)
            .bind(self.started_at.as_str())
            .bind(self.duration_ms)
            .bind(self.input.as_str())
            .bind(self.output.as_deref())
            .bind(self.error.as_deref())
    }
}

impl Table for StepRow {
    const INSERT: &'static str = "INSERT INTO steps (run_id, step, block, status, attempts, duration_ms, output, error, reason, \
         items, template_runs, ended_ms, reused) VALUES";
    const COLUMNS: usize = 13;
    // A template step that is retried runs its template again under the same run id: the row is the
    // latest run's.
    const CONFLICT: &'static str = " ON CONFLICT (run_id, step) DO UPDATE SET block = excluded.block, \
         status = excluded.status, attempts = excluded.attempts, duration_ms = excluded.duration_ms, \
         output = excluded.output, error = excluded.error, reason = excluded.reason, items = excluded.items, \
         template_runs = excluded.template_runs, ended_ms = excluded.ended_ms, reused = excluded.reused";
    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
            .bind(self.run_id.as_str())
            .bind(self.step.as_str())
            .bind(self.block.as_str())
            .bind(self.status)
            .bind(self.attempts)
            .bind(self.duration_ms)
            .bind(self.output.as_deref())
            .bind(self.error.as_deref())
            .bind(self.reason.as_deref())
            .bind(self.items)
            .bind(self.template_runs)
            .bind(self.ended_ms)
            .bind(self.reused)
    }
}

/// Writes `records` on `conn`: each table's rows, in order, in as few statements as the limits allow.
pub(crate) async fn write_all(
    conn: &mut AnyConnection,
    records: &[Record],
    backend: Backend,
    shown: &str,
) -> Result<(), StoreError> {
    let mut intents = Vec::new();
    let mut attempts = Vec::new();
    let mut steps = Vec::new();
    for record in records {
        match record {
            Record::Intent(row) => intents.push(row),
            Record::Attempt(row) => attempts.push(row),
            Record::Step(row) => steps.push(row),
        }
    }
    insert(conn, &intents, backend, shown).await?;
    insert(conn, &attempts, backend, shown).await?;
    insert(conn, &latest(steps), backend, shown).await
}

/// Writes step rows on `conn` (the steps a run's end records for the steps that never started).
pub(crate) async fn write_steps(
    conn: &mut AnyConnection,
    rows: &[StepRow],
    backend: Backend,
    shown: &str,
) -> Result<(), StoreError> {
    insert(conn, &latest(rows.iter().collect()), backend, shown).await
}

/// The last row of each step, in the order of those last rows. One statement cannot update a row twice
/// (PostgreSQL refuses), and writing only the last gives what writing each in turn would have.
fn latest(steps: Vec<&StepRow>) -> Vec<&StepRow> {
    let mut last: HashMap<(&str, &str), usize> = HashMap::with_capacity(steps.len());
    for (i, row) in steps.iter().enumerate() {
        last.insert((row.run_id.as_str(), row.step.as_str()), i);
    }
    if last.len() == steps.len() {
        return steps;
    }
    steps
        .iter()
        .enumerate()
        .filter(|(i, row)| last.get(&(row.run_id.as_str(), row.step.as_str())) == Some(i))
        .map(|(_, row)| *row)
        .collect()
}

async fn insert<T: Table>(
    conn: &mut AnyConnection,
    rows: &[&T],
    backend: Backend,
    shown: &str,
) -> Result<(), StoreError> {
    let mut rest = rows;
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(chunk_len(rest.len(), T::COLUMNS));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement::<T>(chunk.len(), backend)));
        for row in chunk {
            query = row.bind(query);
        }
        query
            .execute(&mut *conn)
            .await
            .map_err(|e| db_error(shown, &e))?;
        rest = after;
    }
    Ok(())
}

/// How many of `rows` waiting rows go in the next statement: the largest power of two that is not more
/// than them, nor than [`MAX_ROWS`], nor than the parameter limit allows.
fn chunk_len(rows: usize, columns: usize) -> usize {
    let most = MAX_ROWS.min(MAX_PARAMS / columns);
    let fits = rows.min(most).max(1);
    1 << fits.ilog2()
}

/// The `INSERT` of `rows` rows, with the backend's parameters: `?` for SQLite, `$1`… for PostgreSQL.
fn statement<T: Table>(rows: usize, backend: Backend) -> String {
    let mut sql =
        String::with_capacity(T::INSERT.len() + T::CONFLICT.len() + rows * T::COLUMNS * 7);
    sql.push_str(T::INSERT);
    let mut n = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { " (" } else { ", (" });
        for column in 0..T::COLUMNS {
            n += 1;
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let _ = write!(sql, "${n}");
                }
            }
        }
        sql.push(')');
    }
    sql.push_str(T::CONFLICT);
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_within_the_parameter_limit() {
        let mut sizes = Vec::new();
        let mut rest = 1_000;
        while rest > 0 {
            let n = chunk_len(rest, StepRow::COLUMNS);
            assert!(n * StepRow::COLUMNS <= MAX_PARAMS);
            sizes.push(n);
            rest -= n;
        }
        assert_eq!(sizes, [256, 256, 256, 128, 64, 32, 8]);
        assert_eq!(chunk_len(1, IntentRow::COLUMNS), 1);
        assert_eq!(chunk_len(255, AttemptRow::COLUMNS), 128);
    }

    #[test]
    fn a_statement_numbers_its_parameters_row_after_row() {
        let sql = statement::<IntentRow>(2, Backend::Postgres);
        assert!(sql.ends_with(
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14, $15, $16)"
        ));
        let sql = statement::<IntentRow>(2, Backend::Sqlite);
        assert!(sql.ends_with("VALUES (?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?)"));
    }
}
