//! Several writers at once, runs whose process died, stores written by other versions, and when records
//! reach the file.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyflow_engine::block::Effect;
use keyflow_engine::exec::report::{Status, StepReport};
use keyflow_engine::exec::store::{Intent, RunStart, RunStore, StoreError};
use keyflow_store::{ListFilter, Owner, RunState, SCHEMA_VERSION, Store, StoreOptions};
use serde_json::json;

use crate::{Db, run};

fn chain(steps: usize) -> String {
    let mut yaml =
        String::from("name: chain\nsteps:\n  - id: s0\n    block: core.set\n    with: { n: 0 }\n");
    for i in 1..steps {
        yaml.push_str(&format!(
            "  - id: s{i}\n    block: core.set\n    with: {{ n: {i}, before: $.steps.s{}.output.n }}\n",
            i - 1
        ));
    }
    yaml
}

pub async fn concurrent_writers_lose_nothing(db: Db) {
    const WRITERS: usize = 4;
    const RUNS: usize = 5;
    const STEPS: usize = 20;
    let path = db.write("chain.yaml", &chain(STEPS));
    // One store (one pool of connections) per writer, as separate processes would have.
    let mut stores = Vec::new();
    for _ in 0..WRITERS {
        stores.push(Arc::new(db.open().await));
    }
    let mut tasks = Vec::new();
    for store in &stores {
        for _ in 0..RUNS {
            let (path, store) = (path.clone(), store.clone());
            tasks.push(tokio::spawn(async move { run(&path, store).await }));
        }
    }
    let mut ids = Vec::new();
    for task in tasks {
        let report = task.await.unwrap();
        assert_eq!(report.status, Status::Succeeded, "{:?}", report.reason);
        ids.push(report.run_id);
    }
    let reader = db.open().await;
    let listed = reader.list(&ListFilter::default()).await.unwrap();
    assert_eq!(listed.len(), WRITERS * RUNS);
    assert!(listed.iter().all(|r| r.status == RunState::Succeeded));
    for id in ids {
        let shown = reader.show(&id).await.unwrap();
        assert_eq!(shown.report.steps.len(), STEPS);
        assert_eq!(shown.attempts.len(), STEPS);
        assert!(
            shown
                .report
                .steps
                .iter()
                .all(|s| s.status == Status::Succeeded)
        );
    }
}

fn start(run_id: &str) -> RunStart {
    RunStart {
        run_id: run_id.into(),
        parent: None,
        flow: "rotate".into(),
        source: "rotate.yaml".into(),
        params: json!({}),
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        definitions: Default::default(),
        resumed: false,
    }
}

/// The run's state as a reader of this host sees it.
async fn state(reader: &Store, run_id: &str) -> (RunState, Option<String>) {
    let shown = reader.show(run_id).await.unwrap();
    (shown.summary.status, shown.summary.reason)
}

pub async fn a_run_whose_owner_is_gone_is_interrupted(db: Db) {
    // A real process of this host that has ended (and been reaped).
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let dead = db
        .open_with(StoreOptions {
            owner: Owner {
                pid: dead_pid,
                ..Owner::current()
            },
            heartbeat: Duration::from_secs(3600),
        })
        .await;
    dead.begin_run(&start("dead-process")).await.unwrap();
    let reader = db.open().await;
    let (status, reason) = state(&reader, "dead-process").await;
    assert_eq!(status, RunState::Interrupted);
    assert!(reason.unwrap().contains(&format!("process {dead_pid}")));

    // On another host the process cannot be seen: its heartbeat tells. A long heartbeat is fresh...
    let elsewhere = |every| StoreOptions {
        owner: Owner {
            host: "elsewhere.example".into(),
            pid: 1,
        },
        heartbeat: every,
    };
    let alive = db.open_with(elsewhere(Duration::from_secs(3600))).await;
    alive.begin_run(&start("alive")).await.unwrap();
    assert_eq!(state(&reader, "alive").await.0, RunState::Running);
    // ...and a heartbeat that stops (its process gone) goes stale after a few beats.
    let stopped = db.open_with(elsewhere(Duration::from_millis(10))).await;
    stopped.begin_run(&start("stopped")).await.unwrap();
    stopped.close().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, reason) = state(&reader, "stopped").await;
        if status == RunState::Interrupted {
            assert!(
                reason
                    .unwrap()
                    .contains("no heartbeat from process 1 on elsewhere.example")
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "`stopped` never read as interrupted"
        );
        // Waiting for time to pass is what this checks; the deadline only bounds a failure.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let interrupted = ListFilter {
        state: Some(RunState::Interrupted),
        ..ListFilter::default()
    };
    let listed = reader.list(&interrupted).await.unwrap();
    let mut ids: Vec<&str> = listed.iter().map(|r| r.run_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["dead-process", "stopped"]);
    // The report of an interrupted run says so, and still validates as a run report (`running`).
    let shown = reader.show("stopped").await.unwrap();
    assert_eq!(shown.report.status, Status::Running);
    assert!(shown.report.reason.unwrap().starts_with("interrupted:"));
}

const V1: &str = include_str!("../fixtures/schema-v1.sql");

pub async fn an_older_schema_is_migrated(db: Db) {
    db.execute(V1).await;
    // A run as keyflow with schema version 1 wrote it: no owner, no heartbeat.
    db.execute(
        "INSERT INTO runs (id, root_run_id, flow, source, params, status, started_at, started_ms, ended_at, duration_ms, outputs, step_order) \
         VALUES ('v1-run', 'v1-run', 'rotate', 'rotate.yaml', '{}', 'succeeded', '2025-12-01T00:00:00.000Z', 1764547200000, '2025-12-01T00:00:01.000Z', 1000, '{\"key\":\"k-1\"}', '[\"s\"]');
         INSERT INTO steps (run_id, step, block, status, attempts, duration_ms, output, ended_ms) \
         VALUES ('v1-run', 's', 'core.set', 'succeeded', 1, 3, '{\"v\":1}', 1764547201000)",
    )
    .await;
    let store = db.open().await;
    let old = store.show("v1-run").await.unwrap();
    assert_eq!(old.summary.status, RunState::Succeeded);
    assert_eq!(old.report.outputs["key"], json!("k-1"));
    assert_eq!(old.report.steps[0].output, Some(json!({ "v": 1 })));
    // Migrated: new runs record their owner, and a reopened store is current.
    store.begin_run(&start("v2-run")).await.unwrap();
    let listed = store.list(&ListFilter::default()).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["v2-run", "v1-run"]);
    drop(store);
    let again = db.open().await;
    assert_eq!(again.list(&ListFilter::default()).await.unwrap().len(), 2);
}

pub async fn a_newer_schema_is_refused(db: Db) {
    let store = db.open().await;
    store.begin_run(&start("kept")).await.unwrap();
    store.close().await;
    db.execute("INSERT INTO keyflow_schema (version, applied_ms) VALUES (99, 0)")
        .await;
    match Store::open(&db.location).await {
        Err(StoreError::Incompatible(message)) => {
            assert!(message.contains("schema version 99"), "{message}");
            assert!(
                message.contains(&format!("up to {SCHEMA_VERSION}")),
                "{message}"
            );
            assert!(message.contains("upgrade keyflow"), "{message}");
        }
        other => panic!("a newer store opened: {other:?}"),
    }
}

/// A step's report line for [`reads_are_written_in_batches_and_before_any_effect`].
fn ended(id: &str, block: &str) -> StepReport {
    StepReport {
        id: id.into(),
        block: block.into(),
        status: Status::Succeeded,
        attempts: 1,
        duration_ms: 1,
        output: Some(json!({ "v": 1 })),
        error: None,
        reason: None,
        items: None,
        runs: None,
        reused: false,
    }
}

async fn steps_on_file(reader: &Store, run_id: &str) -> Vec<String> {
    let shown = reader.show(run_id).await.unwrap();
    shown.report.steps.iter().map(|s| s.id.clone()).collect()
}

pub async fn reads_are_written_in_batches_and_before_any_effect(db: Db) {
    let writer = db.open().await;
    let reader = db.open().await;
    writer.begin_run(&start("batched")).await.unwrap();
    // A read: it waits for its batch, which comes by itself within FLUSH_AFTER (the deadline only bounds
    // a failure).
    writer
        .finish_step("batched", &ended("read", "aws-kms.describe-key"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while steps_on_file(&reader, "batched").await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "a deferred record was never written"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another read waits; an intent that follows it is written with it, after it, at once.
    writer
        .finish_step("batched", &ended("again", "aws-kms.describe-key"))
        .await
        .unwrap();
    let intent = Intent {
        run_id: "batched".into(),
        step: "create".into(),
        item: None,
        attempt: 1,
        block: "aws-kms.create-key".into(),
        effect: Effect::Create,
        started_at: "2026-12-01T10:00:00.000Z".into(),
        input: json!({}),
    };
    writer.record_intent(&intent).await.unwrap();
    let shown = reader.show("batched").await.unwrap();
    assert_eq!(shown.intents, vec![intent]);
    assert_eq!(steps_on_file(&reader, "batched").await, ["read", "again"]);
    // The step that made the call is on file as soon as it ends.
    writer
        .finish_step("batched", &ended("create", "aws-kms.create-key"))
        .await
        .unwrap();
    assert_eq!(
        steps_on_file(&reader, "batched").await,
        ["read", "again", "create"]
    );
}
