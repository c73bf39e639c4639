//! `runs list` and `runs prune` over runs written through the store's own interface.

use std::time::Duration;

use indexmap::IndexMap;
use keyflow_engine::exec::report::{RunReport, Status, StepReport};
use keyflow_engine::exec::store::{AttemptRecord, ParentStep, RunStart, RunStore, StoreError};
use keyflow_store::{ListFilter, RunState, Store};
use serde_json::json;

use crate::Db;

/// `days` days ago, plus `ms`, as RFC 3339.
fn ago(days: i64, ms: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days) + chrono::Duration::milliseconds(ms))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Records a whole run (one step, one attempt, and a template run under it when `child`).
async fn record(
    store: &Store,
    id: &str,
    flow: &str,
    started_at: &str,
    status: Option<Status>,
    child: bool,
) {
    let start = RunStart {
        run_id: id.into(),
        parent: None,
        flow: flow.into(),
        source: format!("{flow}.yaml"),
        params: json!({}),
        started_at: started_at.into(),
        definitions: Default::default(),
        resumed: false,
    };
    store.begin_run(&start).await.unwrap();
    let child_id = format!("{id}/t");
    if child {
        store
            .begin_run(&RunStart {
                run_id: child_id.clone(),
                parent: Some(ParentStep {
                    run_id: id.into(),
                    step: "t".into(),
                    item: None,
                }),
                ..start.clone()
            })
            .await
            .unwrap();
    }
    let attempt = AttemptRecord {
        run_id: if child { child_id.clone() } else { id.into() },
        step: "s".into(),
        item: None,
        attempt: 1,
        started_at: started_at.into(),
        duration_ms: 1,
        input: json!({ "v": 1 }),
        output: Some(json!({ "v": 1 })),
        error: None,
    };
    store.record_attempt(&attempt).await.unwrap();
    let Some(status) = status else { return };
    let step = StepReport {
        id: "s".into(),
        block: "core.set".into(),
        status,
        attempts: 1,
        duration_ms: 1,
        output: None,
        error: None,
        reason: None,
        items: None,
        runs: None,
        reused: false,
    };
    let report = |run_id: &str| RunReport {
        run_id: run_id.into(),
        flow: flow.into(),
        status,
        started_at: started_at.into(),
        duration_ms: 5,
        outputs: IndexMap::new(),
        steps: vec![step.clone()],
        reason: None,
    };
    if child {
        store.finish_step(&child_id, &step).await.unwrap();
        store.finish_run(&report(&child_id)).await.unwrap();
    }
    store.finish_step(id, &step).await.unwrap();
    store.finish_run(&report(id)).await.unwrap();
}

fn ids(runs: &[keyflow_store::RunSummary]) -> Vec<&str> {
    runs.iter().map(|r| r.run_id.as_str()).collect()
}

pub async fn list_filters_and_order(db: Db) {
    let store = db.open().await;
    record(
        &store,
        "old",
        "rotate",
        &ago(10, 0),
        Some(Status::Succeeded),
        true,
    )
    .await;
    record(
        &store,
        "mid",
        "onboard",
        &ago(3, 0),
        Some(Status::Failed),
        false,
    )
    .await;
    record(
        &store,
        "new",
        "rotate",
        &ago(1, 0),
        Some(Status::Cancelled),
        false,
    )
    .await;
    record(&store, "now", "rotate", &ago(0, 0), None, false).await;

    let all = store.list(&ListFilter::default()).await.unwrap();
    assert_eq!(
        ids(&all),
        ["now", "new", "mid", "old"],
        "newest first, top-level only"
    );
    assert_eq!(all[0].status, RunState::Running);
    assert_eq!(all[1].status, RunState::Cancelled);
    assert_eq!(all[3].duration_ms, Some(5));

    let rotate = ListFilter {
        flow: Some("rotate".into()),
        ..ListFilter::default()
    };
    assert_eq!(
        ids(&store.list(&rotate).await.unwrap()),
        ["now", "new", "old"]
    );
    let failed = ListFilter {
        state: Some(RunState::Failed),
        ..ListFilter::default()
    };
    assert_eq!(ids(&store.list(&failed).await.unwrap()), ["mid"]);
    let running = ListFilter {
        state: Some(RunState::Running),
        ..ListFilter::default()
    };
    assert_eq!(ids(&store.list(&running).await.unwrap()), ["now"]);
    let week = ListFilter {
        since_ms: Some((chrono::Utc::now() - chrono::Duration::days(7)).timestamp_millis()),
        ..ListFilter::default()
    };
    assert_eq!(
        ids(&store.list(&week).await.unwrap()),
        ["now", "new", "mid"]
    );
    let two = ListFilter {
        limit: Some(2),
        flow: Some("rotate".into()),
        ..ListFilter::default()
    };
    assert_eq!(ids(&store.list(&two).await.unwrap()), ["now", "new"]);
    let children = ListFilter {
        children: true,
        ..ListFilter::default()
    };
    let with_children = store.list(&children).await.unwrap();
    assert_eq!(ids(&with_children), ["now", "new", "mid", "old/t", "old"]);
    assert_eq!(
        with_children[3].parent.as_ref().map(|p| p.step.as_str()),
        Some("t")
    );
}

pub async fn prune_removes_old_runs_with_their_records(db: Db) {
    let store = db.open().await;
    record(
        &store,
        "ancient",
        "rotate",
        &ago(100, 0),
        Some(Status::Succeeded),
        true,
    )
    .await;
    record(
        &store,
        "old-failed",
        "rotate",
        &ago(91, 0),
        Some(Status::Failed),
        false,
    )
    .await;
    record(
        &store,
        "recent",
        "rotate",
        &ago(89, 0),
        Some(Status::Succeeded),
        true,
    )
    .await;
    // Started long ago and still running (its heartbeat is this process's): kept.
    record(&store, "long-running", "rotate", &ago(95, 0), None, false).await;

    let pruned = store
        .prune(Duration::from_secs(90 * 24 * 3600))
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    let children = ListFilter {
        children: true,
        ..ListFilter::default()
    };
    assert_eq!(
        ids(&store.list(&children).await.unwrap()),
        ["recent/t", "recent", "long-running"]
    );
    for gone in ["ancient", "ancient/t", "old-failed"] {
        assert!(
            matches!(store.show(gone).await, Err(StoreError::NotFound(_))),
            "{gone} is gone"
        );
    }
    // The records of what is kept are whole.
    assert_eq!(store.show("recent").await.unwrap().attempts.len(), 1);
    assert_eq!(
        store
            .prune(Duration::from_secs(90 * 24 * 3600))
            .await
            .unwrap(),
        0
    );
    // Nothing of a pruned run is left behind: a new run under its id has only its own records.
    record(
        &store,
        "ancient",
        "rotate",
        &ago(0, 0),
        Some(Status::Succeeded),
        true,
    )
    .await;
    let again = store.show("ancient").await.unwrap();
    assert_eq!(again.attempts.len(), 1);
    assert_eq!(again.report.steps.len(), 1);
}
