//! keyflow's durable run store: every run, step, attempt and intent the executor hands to
//! [`RunStore`], kept in SQLite (the default, a file in the user's data directory) or PostgreSQL (for
//! teams), and the queries the CLI asks of it (`runs list`, `runs show`, `runs prune`).
//!
//! One code path serves both databases: `sqlx::Any` with portable SQL (`$1` parameters, which SQLite
//! reads too; JSON as text; times as text and epoch milliseconds). The few places the two differ — the
//! lock taken while migrating, SQLite's connection settings — branch on [`Backend`]. A record that guards
//! against doing something twice (an intent, the answer of a call that changes something, a run's start
//! and end) is committed before the call that hands it returns; the records of reads are written in
//! batches a moment later ([`behind`]).

mod behind;
mod codec;
mod daemon;
mod location;
mod owner;
mod query;
mod rows;
mod schema;
mod show;
mod write;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use keyflow_engine::exec::store::StoreError;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor as _};
use tokio::task::JoinHandle;

pub use self::behind::{FLUSH_AFTER, MAX_PENDING};
pub use self::daemon::{
    Ended, Firing, FiringStatus, Held, Holder, Offer, Rerun, TriggerState, Worker,
};
pub use self::location::{Location, STORE_ENV};
pub use self::owner::{MISSED_BEATS, Owner};
pub use self::query::{ListFilter, RunState, RunSummary};
pub use self::schema::SCHEMA_VERSION;
pub use self::show::StoredRun;
pub use keyflow_engine::exec::store::RunStore;

/// Which database a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// How a store behaves beyond where it is.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How often an open top-level run's heartbeat is renewed.
    pub heartbeat: Duration,
    /// Who this process is (tests pretend to be another host).
    pub owner: Owner,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            heartbeat: Duration::from_secs(10),
            owner: Owner::current(),
        }
    }
}

/// A run store, open and at the current schema version.
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The location as shown in messages (no password).
    shown: String,
    options: StoreOptions,
    /// Writes records in order, some of them in batches.
    writer: std::sync::Arc<behind::Writer>,
    /// The heartbeat tasks of this process's open top-level runs, by run id.
    beats: Mutex<HashMap<String, JoinHandle<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.shown)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating when needed) and migrates the store at `location`.
    pub async fn open(location: &Location) -> Result<Store, StoreError> {
        Store::open_with(location, StoreOptions::default()).await
    }

    /// [`Store::open`] with options.
    pub async fn open_with(
        location: &Location,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        // Idempotent: only the first call installs them.
        sqlx::any::install_default_drivers();
        let shown = location.to_string();
        let (backend, url, connections) = match location {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Unavailable(format!(
                            "cannot create the run store's folder {}: {e}",
                            dir.display()
                        ))
                    })?;
                }
                (Backend::Sqlite, location::sqlite_url(path), 4)
            }
            Location::Postgres(url) => (Backend::Postgres, url.clone(), 8),
        };
        probe(&url, backend, &shown).await?;
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(Duration::from_secs(30))
            // Pinging a connection before each use costs a round trip per record; a SQLite file does
            // not drop connections, a server may (and then the ping finds it before a record is lost).
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers and one writer work at once across processes; NORMAL syncs
                        // at checkpoints, so a committed record survives the process dying (not a
                        // power cut); the busy timeout makes a second process wait up to 30 s for the
                        // write lock. One statement each.
                        for pragma in [
                            "PRAGMA busy_timeout = 30000",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA foreign_keys = ON",
                        ] {
                            conn.execute(pragma).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| codec::db_error(&shown, &e))?;
        if backend == Backend::Sqlite {
            wal(&pool, &shown).await?;
        }
        schema::migrate(&pool, backend, &shown).await?;
        Ok(Store {
            writer: std::sync::Arc::new(behind::Writer::new(pool.clone(), backend, shown.clone())),
            pool,
            backend,
            shown,
            options,
            beats: Mutex::new(HashMap::new()),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The store's location, as shown to people (no password).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Writes the records of reads that wait for their batch, now (they are written at most
    /// [`FLUSH_AFTER`] after they were handed over anyway).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.writer.flush().await
    }

    /// Writes the records that wait, stops this process's heartbeats and closes the connections.
    pub async fn close(&self) {
        if let Err(e) = self.writer.flush().await {
            tracing::warn!("run store: {e}");
        }
        self.stop_beats();
        self.pool.close().await;
    }

    fn stop_beats(&self) {
        let mut beats = self.beats.lock().unwrap_or_else(|e| e.into_inner());
        for (_, beat) in beats.drain() {
            beat.abort();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.stop_beats();
    }
}

/// Connects once, outside the pool, so that a store that cannot be used is reported at once: the pool
/// would retry a failing connection until its timeout.
async fn probe(url: &str, backend: Backend, shown: &str) -> Result<(), StoreError> {
    use sqlx::Connection as _;
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| codec::db_error(shown, &e))?;
    let check = match backend {
        // Reading the schema is what finds a file that is not a database.
        Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master",
        Backend::Postgres => "SELECT 1",
    };
    let checked = sqlx::query(check).fetch_one(&mut conn).await;
    conn.close().await.ok();
    checked.map(drop).map_err(|e| codec::db_error(shown, &e))
}

/// Puts a SQLite file in WAL mode (once: the mode stays with the file). Switching needs a moment alone
/// with the file, which the busy timeout does not wait for, so a process that meets another one doing
/// the same tries again.
async fn wal(pool: &AnyPool, shown: &str) -> Result<(), StoreError> {
    use sqlx::Row;
    let mut last = None;
    for _ in 0..100 {
        match sqlx::query("PRAGMA journal_mode = WAL")
            .fetch_one(pool)
            .await
        {
            Ok(row) => {
                let mode: String = row.try_get(0).map_err(|e| codec::db_error(shown, &e))?;
                if mode.eq_ignore_ascii_case("wal") {
                    return Ok(());
                }
                last = Some(format!("journal mode stays `{mode}`"));
            }
            Err(e) => match codec::db_error(shown, &e) {
                StoreError::Failed(message) => last = Some(message),
                other => return Err(other),
            },
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(StoreError::Unavailable(format!(
        "{shown}: cannot switch to WAL mode: {}",
        last.unwrap_or_default()
    )))
}
