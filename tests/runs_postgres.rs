//! The run commands against PostgreSQL (`--store postgres://…`), on the server `scripts/test` starts and
//! names in `KEYFLOW_POSTGRES_URL`. Without it these tests say they were skipped, except under `CI=true`,
//! where a missing server is a failure.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use sqlx::Connection as _;

use crate::harness::{Ran, keyflow, path_str, run_file};
use crate::runs::Scratch;

/// The URL of a fresh database on the test server, or `None` (with a note) when there is none.
pub fn database() -> Option<String> {
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
        "kf_cli_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::any::install_default_drivers();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let mut admin = sqlx::AnyConnection::connect(&url).await.expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name}"
            )))
            .execute(&mut admin)
            .await
            .expect("drop an old database");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .expect("create a database");
        });
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}

#[test]
fn runs_are_recorded_in_postgres_and_read_back() {
    let Some(url) = database() else {
        return;
    };
    let scratch = Scratch::new();
    let flow = scratch.flow(
        "hello.yaml",
        "name: hello\nsteps:\n  - id: hi\n    block: core.set\n    for_each: [a, b]\n    with: { who: $.item }\noutputs:\n  who: $.steps.hi.output[*].who\n",
    );
    let (code, report, ran) = run_file(keyflow(), path_str(&flow), &["--store", &url]);
    assert_eq!(code, 0, "{}", ran.stderr);
    // KEYFLOW_STORE chooses it as well as --store.
    let listed: Ran = keyflow()
        .env("KEYFLOW_STORE", &url)
        .args(["runs", "list", "--output", "json"])
        .output()
        .expect("run keyflow")
        .into();
    let runs = crate::runs::runs_of(&listed.stdout);
    assert_eq!(runs.len(), 1, "{}", listed.stderr);
    assert_eq!(runs[0]["run_id"], report["run_id"]);
    let shown: Ran = keyflow()
        .args([
            "runs",
            "show",
            runs[0]["run_id"].as_str().unwrap_or_default(),
        ])
        .args(["--output", "json", "--store", &url])
        .output()
        .expect("run keyflow")
        .into();
    let stored: Value = serde_json::from_str(&shown.stdout).expect("report JSON");
    assert_eq!(stored, report);
}

#[test]
fn a_postgres_store_that_cannot_be_reached_is_named_without_its_password() {
    // A port nothing listens on (this test's own, closed again).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let scratch = Scratch::new();
    let flow = scratch.flow(
        "hello.yaml",
        "name: hello\nsteps:\n  - id: hi\n    block: core.log\n    with: { message: hi }\n",
    );
    let url = format!("postgres://kf:hunter2-secret@127.0.0.1:{port}/runs");
    let ran: Ran = keyflow()
        .args(["run", path_str(&flow), "--store", &url])
        .output()
        .expect("run keyflow")
        .into();
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains(&format!(
            "cannot open the run store postgres://kf:***@127.0.0.1:{port}/runs"
        )),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("hunter2"), "{}", ran.stderr);
}
