//! The store's schema and its versions. Each migration is a file of portable SQL under `migrations/`,
//! applied in order on open, each in one transaction with the row that records its version in
//! `keyflow_schema`. A store at an older version opens and is migrated; a store at a newer version than
//! this keyflow knows is refused, untouched. Migrations are only ever added, never edited: a store
//! written by any released keyflow must reach the latest version by the same steps.

use keyflow_engine::exec::store::StoreError;
use sqlx::{AnyPool, Row};

use crate::Backend;
use crate::codec::{db_error, now_ms};

/// Every migration, in order: migration `i` brings the store to version `i + 1`.
const MIGRATIONS: [&str; 5] = [
    include_str!("../migrations/0001_runs.sql"),
    include_str!("../migrations/0002_owner_heartbeat.sql"),
    include_str!("../migrations/0003_resume.sql"),
    include_str!("../migrations/0004_firings.sql"),
    include_str!("../migrations/0005_rerun.sql"),
];

/// The schema version this keyflow writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the store at `pool` to [`SCHEMA_VERSION`], or refuses a newer one. `shown` names the store in
/// messages.
pub(crate) async fn migrate(
    pool: &AnyPool,
    backend: Backend,
    shown: &str,
) -> Result<(), StoreError> {
    // Fast path, without a write lock: the store is already current (every open after the first).
    if let Some(version) = current_version(pool).await?
        && version >= SCHEMA_VERSION
    {
        return refuse_newer(version, shown);
    }
    // Several processes may open a new store at once: one migrates while the others wait for its lock,
    // then find the version current.
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
    .map_err(|e| db_error(shown, &e))?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7160117)")
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(shown, &e))?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS keyflow_schema (version BIGINT NOT NULL, applied_ms BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(shown, &e))?;
    let version: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM keyflow_schema")
        .fetch_one(&mut *tx)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|e| db_error(shown, &e))?;
    refuse_newer(version, shown)?;
    if version == 0 {
        refuse_foreign(&mut tx, backend, shown).await?;
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        for statement in statements(migration) {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    StoreError::Failed(format!(
                        "{shown}: migration to schema version {}: {e}",
                        i + 1
                    ))
                })?;
        }
        sqlx::query("INSERT INTO keyflow_schema (version, applied_ms) VALUES ($1, $2)")
            .bind(i as i64 + 1)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(shown, &e))?;
    }
    tx.commit().await.map_err(|e| db_error(shown, &e))
}

/// The recorded version, `None` when the store has no version table yet.
async fn current_version(pool: &AnyPool) -> Result<Option<i64>, StoreError> {
    match sqlx::query("SELECT MAX(version) FROM keyflow_schema")
        .fetch_one(pool)
        .await
    {
        Ok(row) => Ok(row.try_get::<Option<i64>, _>(0).ok().flatten()),
        // No table yet (or a file that is not a database: the migration's transaction says which).
        Err(_) => Ok(None),
    }
}

fn refuse_newer(version: i64, shown: &str) -> Result<(), StoreError> {
    if version > SCHEMA_VERSION {
        return Err(StoreError::Incompatible(format!(
            "{shown} has schema version {version}, written by a newer keyflow; this keyflow knows versions up to {SCHEMA_VERSION}: upgrade keyflow, or choose another store with --store or KEYFLOW_STORE"
        )));
    }
    Ok(())
}

/// A database with tables of its own but no keyflow version is somebody else's: keyflow does not add
/// its tables beside theirs.
async fn refuse_foreign(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    shown: &str,
) -> Result<(), StoreError> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'runs'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'runs'"
        }
    };
    let count: i64 = sqlx::query(sql)
        .fetch_one(&mut **tx)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|e| db_error(shown, &e))?;
    if count > 0 {
        return Err(StoreError::Incompatible(format!(
            "{shown} has a `runs` table but no keyflow schema version: it is not a keyflow run store; choose another with --store or KEYFLOW_STORE"
        )));
    }
    Ok(())
}

/// The statements of a migration file: split on `;`, comments dropped (the files hold no `;` inside a
/// literal).
fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(';').map(str::trim).filter(|s| {
        s.lines()
            .any(|line| !line.trim().is_empty() && !line.trim().starts_with("--"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_has_statements() {
        for migration in MIGRATIONS {
            assert!(statements(migration).count() >= 1);
            for statement in statements(migration) {
                assert!(!statement.ends_with(';'));
            }
        }
        assert_eq!(statements("-- only a comment\n;  ;").count(), 0);
    }
}
