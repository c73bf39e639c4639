//! Live updates over real HTTP: the event streams of a run and of the runs list read from a real SQLite
//! store while runs are recorded into it (by hand, step by step, where the test needs to know what changed
//! between two readings; by the real executor otherwise), the bound on streams, and a client that leaves.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use indexmap::IndexMap;
use keyflow_engine::exec::report::{RunReport, Status, StepReport};
use keyflow_engine::exec::store::{AttemptRecord, RunStart, RunStore};
use serde_json::json;

use super::tests::{SLOW, fixture, get, run, serve};
use super::tests_client::{PATIENCE, events_of, open, streams_closed};
use crate::serve::MAX_STREAMS;

fn start(id: &str) -> RunStart {
    RunStart {
        run_id: id.into(),
        parent: None,
        flow: "slow".into(),
        source: "slow.yaml".into(),
        params: json!({}),
        started_at: chrono::Utc::now().to_rfc3339(),
        definitions: IndexMap::new(),
        resumed: false,
    }
}

fn step(id: &str, block: &str) -> StepReport {
    StepReport {
        id: id.into(),
        block: block.into(),
        status: Status::Succeeded,
        attempts: 1,
        duration_ms: 3,
        output: Some(json!({ "n": 1 })),
        error: None,
        reason: None,
        items: None,
        runs: None,
        reused: false,
    }
}

fn attempt(run_id: &str, step: &str) -> AttemptRecord {
    AttemptRecord {
        run_id: run_id.into(),
        step: step.into(),
        item: None,
        attempt: 1,
        started_at: chrono::Utc::now().to_rfc3339(),
        duration_ms: 3,
        input: json!({ "n": "<b>1</b>" }),
        output: Some(json!({ "n": 1 })),
        error: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_page_follows_its_run_from_the_state_it_shows_until_the_run_ends() {
    let fixture = fixture().await;
    let daemon = fixture.daemon.clone();
    let store = daemon.store.clone();
    let addr = serve(daemon.clone()).await;
    store.begin_run(&start("live-1")).await.unwrap();
    store.flush().await.unwrap();

    // A page of a run that goes on names its stream, with the state it shows, and loads the script.
    let (code, page) = get(addr, "/ui/runs/live-1").await;
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("aria-live=\"polite\""), "{page}");
    assert!(
        page.contains("<script src=\"/ui/assets/live.js?v="),
        "{page}"
    );
    let events = events_of(&page);
    assert!(
        events.starts_with("/ui/runs/live-1/events?seen="),
        "{events}"
    );
    let mut stream = open(addr, &events, "").await;
    assert_eq!(stream.code, 200, "{}", stream.head);
    assert!(
        stream.head.contains("content-type: text/event-stream"),
        "{}",
        stream.head
    );
    assert_eq!(daemon.streams.available_permits(), MAX_STREAMS - 1);

    // The stream read the run before answering; what changes after is sent, and only that: the first
    // step, not the steps the page already shows as they are.
    store
        .record_attempt(&attempt("live-1", "first"))
        .await
        .unwrap();
    store
        .finish_step("live-1", &step("first", "core.set"))
        .await
        .unwrap();
    store.flush().await.unwrap();
    let update = stream.expect().await;
    assert_eq!(update.name, "update", "{update:?}");
    assert_eq!(update.data["status"], "running");
    assert_eq!(update.data["ended"], false);
    assert_eq!(update.data["steps"], json!({ "first": "succeeded" }));
    let details = update.data["html"]["steps"]["first"].as_str().unwrap();
    assert!(
        details.starts_with("<details id=\"step-first\" class=\"step\" data-step=\"first\" data-status=\"succeeded\">"),
        "{details}"
    );
    // Drawn by the page's code: escaped as on the page.
    assert!(
        details.contains("&lt;b&gt;1&lt;/b&gt;") && !details.contains("<b>"),
        "{details}"
    );
    assert!(
        update.data["html"]["timeline"]
            .as_str()
            .unwrap()
            .contains(">first #1<")
    );
    assert!(update.data["html"].get("header").is_none(), "{update:?}");
    let first_id = update.id.unwrap();

    // A client that reconnects says what it last got; nothing changed since, so nothing is sent until
    // the run ends. Then the final event: everything, so the page shows the ended run whole.
    let mut again = open(
        addr,
        "/ui/runs/live-1/events",
        &format!("Last-Event-ID: {first_id}\r\n"),
    )
    .await;
    store
        .record_attempt(&attempt("live-1", "wait"))
        .await
        .unwrap();
    store
        .finish_step("live-1", &step("wait", "core.sleep"))
        .await
        .unwrap();
    store
        .finish_run(&RunReport {
            run_id: "live-1".into(),
            flow: "slow".into(),
            status: Status::Failed,
            started_at: chrono::Utc::now().to_rfc3339(),
            duration_ms: 1_500,
            outputs: IndexMap::new(),
            steps: vec![step("first", "core.set"), step("wait", "core.sleep")],
            reason: Some("step `last` <never> ran".into()),
        })
        .await
        .unwrap();
    store.flush().await.unwrap();
    for stream in [&mut stream, &mut again] {
        // The records may be read in two polls: the step's end first, then the run's.
        let last = loop {
            let event = stream.expect().await;
            if event.data["ended"] == true {
                break event;
            }
            assert_eq!(
                event.data["steps"],
                json!({ "wait": "succeeded" }),
                "{event:?}"
            );
        };
        assert_eq!(last.data["status"], "failed");
        assert_eq!(last.data["duration_ms"], 1_500);
        let steps = &last.data["steps"];
        assert_eq!(steps["wait"], "succeeded", "{last:?}");
        assert_eq!(steps["last"], "pending");
        let html = &last.data["html"];
        assert_eq!(html["steps"].as_object().unwrap().len(), 3, "{last:?}");
        let header = html["header"].as_str().unwrap();
        assert!(
            header.contains("<dd id=\"run-status\" data-status=\"failed\">"),
            "{header}"
        );
        assert!(header.contains("`last` &lt;never&gt; ran"), "{header}");
        // The buttons follow the run: the ended run's header no longer offers to cancel it (it says
        // whether it can be resumed: not this one, whose steps were recorded without their digests), and
        // each step's details offer to re-run from it, with the browser's CSRF token, as the page would.
        assert!(
            !header.contains("/cancel") && header.contains("resumed"),
            "{header}"
        );
        let wait = html["steps"]["wait"].as_str().unwrap();
        assert!(
            wait.contains("<form class=\"rerun\"") && wait.contains("name=\"csrf\""),
            "{wait}"
        );
        assert!(
            stream.event().await.is_none(),
            "the stream ends with the run"
        );
    }
    streams_closed(&daemon).await;

    // A run that has ended is not followed: its page has no stream, and its stream says so at once.
    let (_, page) = get(addr, "/ui/runs/live-1").await;
    assert!(
        !page.contains("data-events") && !page.contains("<script"),
        "{page}"
    );
    let mut ended = open(addr, "/ui/runs/live-1/events?seen=whatever", "").await;
    assert_eq!(ended.expect().await.data["ended"], true);
    assert!(ended.event().await.is_none());

    // Unknown runs: the 404 page, no stream.
    let unknown = open(addr, "/ui/runs/no-such-run/events", "").await;
    assert_eq!(unknown.code, 404);
    assert!(unknown.head.contains("text/html"), "{}", unknown.head);
    streams_closed(&daemon).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_of_the_executor_is_followed_to_its_end() {
    let fixture = fixture().await;
    let daemon = fixture.daemon.clone();
    let addr = serve(daemon.clone()).await;
    assert!(SLOW.contains("core.sleep"));
    let id = uuid::Uuid::now_v7().to_string();
    let going = tokio::spawn({
        let (daemon, id) = (daemon.clone(), id.clone());
        async move { run(&daemon, "slow", Some(id)).await }
    });
    // The run's start is committed before its first step.
    tokio::time::timeout(PATIENCE, async {
        while daemon.store.show(&id).await.is_err() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    let mut stream = open(addr, &format!("/ui/runs/{id}/events"), "").await;
    let mut seen = Vec::new();
    while let Some(event) = stream.event().await {
        seen.push(event.data);
    }
    let last = seen.last().expect("at least the final event");
    assert_eq!(last["status"], "succeeded", "{seen:?}");
    assert_eq!(last["ended"], true);
    assert!(seen[..seen.len() - 1].iter().all(|e| e["ended"] == false));
    for step in ["first", "wait", "last"] {
        assert_eq!(last["steps"][step], "succeeded", "{last}");
        let details = last["html"]["steps"][step].as_str().unwrap();
        assert!(details.contains("data-status=\"succeeded\""), "{details}");
        assert!(details.contains("<pre class=\"output\">"), "{details}");
    }
    assert_eq!(going.await.unwrap().status, Status::Succeeded);
    streams_closed(&daemon).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_bounded_and_end_when_their_client_leaves() {
    let fixture = fixture().await;
    let daemon = fixture.daemon.clone();
    let addr = serve(daemon.clone()).await;
    daemon.store.begin_run(&start("live-2")).await.unwrap();
    daemon.store.flush().await.unwrap();

    // A client that goes away: the server drops its stream, and the stream's polling with it.
    let stream = open(addr, "/ui/runs/live-2/events", "").await;
    assert_eq!(stream.code, 200);
    assert_eq!(daemon.streams.available_permits(), MAX_STREAMS - 1);
    drop(stream);
    streams_closed(&daemon).await;

    // Every place taken: one more stream is refused with 503 and when to try again.
    let all = daemon
        .streams
        .clone()
        .acquire_many_owned(u32::try_from(MAX_STREAMS).unwrap())
        .await
        .unwrap();
    let refused = open(addr, "/ui/runs/live-2/events", "").await;
    assert_eq!(refused.code, 503, "{}", refused.head);
    assert!(refused.head.contains("retry-after: 30"), "{}", refused.head);
    let refused = open(addr, "/ui/runs/events", "").await;
    assert_eq!(refused.code, 503);
    drop(all);
    let mut list = open(addr, "/ui/runs/events", "").await;
    assert_eq!(list.code, 200);
    // Without a revision, the list is sent whole at once.
    let whole = list.expect().await;
    assert_eq!(whole.name, "runs");
    assert_eq!(whole.data["order"][0], "live-2", "{whole:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runs_list_follows_new_runs_and_their_ends() {
    let fixture = fixture().await;
    let daemon = fixture.daemon.clone();
    let addr = serve(daemon.clone()).await;
    let (code, page) = get(addr, "/ui/runs?flow=slow").await;
    assert_eq!(code, 200);
    assert!(
        page.contains("<p id=\"no-runs\">No runs match.</p>"),
        "{page}"
    );
    assert!(page.contains("<table id=\"runs\">"), "{page}");
    let events = events_of(&page);
    assert!(
        events.starts_with("/ui/runs/events?limit=50&flow=slow&seen="),
        "{events}"
    );
    let mut stream = open(addr, &events, "").await;
    assert_eq!(stream.code, 200);

    daemon.store.begin_run(&start("live-3")).await.unwrap();
    daemon.store.flush().await.unwrap();
    let new = stream.expect().await;
    assert_eq!(new.name, "runs");
    assert_eq!(new.data["order"], json!(["live-3"]), "{new:?}");
    let row = new.data["rows"]["live-3"].as_str().unwrap();
    assert!(
        row.starts_with("<tr id=\"run-live-3\" data-run=\"live-3\" data-status=\"running\">"),
        "{row}"
    );

    let report = RunReport {
        run_id: "live-3".into(),
        flow: "slow".into(),
        status: Status::Succeeded,
        started_at: chrono::Utc::now().to_rfc3339(),
        duration_ms: 20,
        outputs: IndexMap::new(),
        steps: vec![],
        reason: None,
    };
    daemon.store.finish_run(&report).await.unwrap();
    daemon.store.flush().await.unwrap();
    let ended = stream.expect().await;
    let row = ended.data["rows"]["live-3"].as_str().unwrap();
    assert!(row.contains("data-status=\"succeeded\""), "{row}");
    assert!(row.contains("20 ms"), "{row}");

    // A run of another flow is not this list's.
    let mut other = start("live-4");
    other.flow = "shown".into();
    daemon.store.begin_run(&other).await.unwrap();
    daemon.store.begin_run(&start("live-5")).await.unwrap();
    daemon.store.flush().await.unwrap();
    let next = stream.expect().await;
    assert_eq!(next.data["order"], json!(["live-5", "live-3"]), "{next:?}");
    assert_eq!(
        next.data["rows"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["live-5"]
    );
    drop(stream);
    streams_closed(&daemon).await;
}
