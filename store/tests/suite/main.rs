//! The store suite: the same tests against SQLite (a temporary file) and PostgreSQL (a fresh database on
//! the server `KEYFLOW_POSTGRES_URL` names; `scripts/test` starts one with `scripts/postgres`). Without
//! that variable the PostgreSQL half says it was skipped, except under `CI=true`, where it fails.
//!
//! Each case is an `async fn(Db)` in a module by theme; `both!` makes one test of it per backend.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod batches;
mod durability;
mod firings;
mod listing;
mod records;
mod reruns;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use indexmap::IndexMap;
use keyflow_engine::exec::report::RunReport;
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use keyflow_store::{Location, Store, StoreOptions};
use sqlx::Connection as _;
use tokio_util::sync::CancellationToken;

/// A store's place for one test: a file in a temporary folder, or a fresh PostgreSQL database.
pub struct Db {
    pub location: Location,
    /// Flow files, and the SQLite file.
    pub dir: tempfile::TempDir,
}

impl Db {
    pub fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        Db {
            location: Location::Sqlite(dir.path().join("store").join("runs.db")),
            dir,
        }
    }

    /// A fresh database on the test server, or `None` (with a note) when there is none.
    pub async fn postgres() -> Option<Db> {
        let Ok(url) = std::env::var("KEYFLOW_POSTGRES_URL") else {
            assert!(
                std::env::var("CI").is_err(),
                "KEYFLOW_POSTGRES_URL is not set under CI: run the tests with ./scripts/test, which starts PostgreSQL"
            );
            println!(
                "PostgreSQL tests skipped: KEYFLOW_POSTGRES_URL is not set (./scripts/test starts PostgreSQL)"
            );
            return None;
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "kf_suite_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            chrono::Utc::now().timestamp_micros()
        );
        sqlx::any::install_default_drivers();
        let mut admin = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.ok();
        let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
        Some(Db {
            location: Location::Postgres(format!("{base}/{name}")),
            dir: tempfile::tempdir().unwrap(),
        })
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.location).await.unwrap()
    }

    pub async fn open_with(&self, options: StoreOptions) -> Store {
        Store::open_with(&self.location, options).await.unwrap()
    }

    /// Runs SQL on the database directly (outside any store), statement by statement.
    pub async fn execute(&self, sql: &str) {
        sqlx::any::install_default_drivers();
        let url = match &self.location {
            Location::Sqlite(path) => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                format!("sqlite://{}?mode=rwc", path.display())
            }
            Location::Postgres(url) => url.clone(),
        };
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        for statement in sql.split(';') {
            let statement = statement.trim();
            if statement
                .lines()
                .all(|l| l.trim().is_empty() || l.trim().starts_with("--"))
            {
                continue;
            }
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        conn.close().await.ok();
    }

    /// Writes a flow file (and the folders it needs) beside the store.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Runs the flow file at `path` with the real blocks, recording into `store`.
pub async fn run(path: &Path, store: Arc<Store>) -> RunReport {
    let text = std::fs::read_to_string(path).unwrap();
    let source = SourceFile::new(path.display().to_string(), text);
    let plan = check(source.clone(), &keyflow_blocks::registry()).unwrap_or_else(|d| {
        panic!(
            "{}",
            keyflow_engine::diagnostic::render_all(&d, &source, false)
        )
    });
    let params = plan.bind_params(&IndexMap::new()).unwrap();
    Executor::new(ExecOptions::default())
        .with_store(store)
        .run(Arc::new(plan), params, CancellationToken::new())
        .await
}

/// One test per backend for each case: `sqlite::case` and `postgres::case`.
macro_rules! both {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::$module::$case(crate::Db::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(db) = crate::Db::postgres().await {
                        crate::$module::$case(db).await;
                    }
                }
            )*
        }
    };
}

both!(
    records::records_round_trip,
    records::a_run_is_rebuilt_as_its_report,
    records::template_runs_are_under_their_step,
    records::a_prefix_names_a_run,
    listing::list_filters_and_order,
    listing::prune_removes_old_runs_with_their_records,
    durability::concurrent_writers_lose_nothing,
    durability::a_run_whose_owner_is_gone_is_interrupted,
    durability::an_older_schema_is_migrated,
    durability::a_newer_schema_is_refused,
    durability::reads_are_written_in_batches_and_before_any_effect,
    firings::a_fire_time_becomes_one_firing_whoever_offers_it,
    firings::two_daemons_share_200_firings_each_once,
    firings::overlap_skips_queues_or_cancels,
    firings::a_lapsed_lease_is_taken_over_and_fenced,
    firings::failures_in_a_row_pause_a_trigger,
    firings::runs_asked_for_are_taken_and_cancelled,
    firings::one_daemon_holds_a_sqlite_store,
    reruns::a_rerun_firing_carries_its_run_and_steps_to_whoever_takes_it,
    batches::every_read_is_on_file_before_the_effect_that_follows,
    batches::a_step_ended_twice_in_one_batch_keeps_the_latest,
    batches::a_run_end_records_thousands_of_steps_that_never_started,
);
