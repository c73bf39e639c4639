//! What the executor hands the store comes back as it went in: records, reports, template runs.

use std::sync::Arc;

use keyflow_engine::block::{BlockError, Effect};
use keyflow_engine::exec::report::{RunReport, Status, StepReport};
use keyflow_engine::exec::store::StoreError;
use keyflow_engine::exec::store::{AttemptRecord, Intent, ParentStep, RunStart, RunStore};
use keyflow_store::RunState;
use serde_json::json;

use crate::{Db, run};

fn start(run_id: &str, parent: Option<ParentStep>) -> RunStart {
    RunStart {
        run_id: run_id.into(),
        parent,
        flow: "rotate".into(),
        source: "flows/rotate.yaml".into(),
        params: json!({ "tenant": "acme", "api_key": "<redacted>" }),
        started_at: "2026-12-01T10:00:00.000Z".into(),
        definitions: Default::default(),
        resumed: false,
    }
}

fn step(id: &str, status: Status) -> StepReport {
    StepReport {
        id: id.into(),
        block: "aws-kms.create-key".into(),
        status,
        attempts: 2,
        duration_ms: 41,
        output: Some(json!({ "KeyMetadata": { "KeyId": "k-1" }, "Plaintext": "<redacted>" })),
        error: None,
        reason: None,
        items: None,
        runs: None,
        reused: false,
    }
}

pub async fn records_round_trip(db: Db) {
    let store = db.open().await;
    store.begin_run(&start("r1", None)).await.unwrap();
    let intent = Intent {
        run_id: "r1".into(),
        step: "create".into(),
        item: Some(3),
        attempt: 1,
        block: "aws-kms.create-key".into(),
        effect: Effect::Create,
        started_at: "2026-12-01T10:00:00.010Z".into(),
        input: json!({ "description": "cmk", "tags": { "team": "data" } }),
    };
    store.record_intent(&intent).await.unwrap();
    let failed = AttemptRecord {
        run_id: "r1".into(),
        step: "create".into(),
        item: Some(3),
        attempt: 1,
        started_at: "2026-12-01T10:00:00.010Z".into(),
        duration_ms: 7,
        input: intent.input.clone(),
        output: None,
        error: Some(BlockError::retryable(
            "ThrottlingException",
            "Rate exceeded",
        )),
    };
    let succeeded = AttemptRecord {
        attempt: 2,
        started_at: "2026-12-01T10:00:00.030Z".into(),
        output: Some(json!({ "KeyMetadata": { "KeyId": "k-1" } })),
        error: None,
        ..failed.clone()
    };
    store.record_attempt(&failed).await.unwrap();
    store.record_attempt(&succeeded).await.unwrap();
    let mut failing = step("policy", Status::Failed);
    failing.error = Some(BlockError::fatal("MalformedPolicyDocumentException", "bad"));
    failing.output = None;
    store
        .finish_step("r1", &step("create", Status::Succeeded))
        .await
        .unwrap();
    store.finish_step("r1", &failing).await.unwrap();

    // A step that changed something is on file as soon as it ends; one that only read may wait for the
    // next batch (at most `FLUSH_AFTER`), which a flush writes at once.
    let before = store.show("r1").await.unwrap();
    let ids: Vec<&str> = before.report.steps.iter().map(|s| s.id.as_str()).collect();
    assert!(ids.contains(&"create"), "{ids:?}");
    store.flush().await.unwrap();

    // Before the run ends: running, with the steps that ended.
    let open = store.show("r1").await.unwrap();
    assert_eq!(open.summary.status, RunState::Running);
    assert_eq!(open.report.status, Status::Running);
    assert_eq!(open.report.steps.len(), 2);
    assert_eq!(open.params, start("r1", None).params);
    assert_eq!(open.intents, vec![intent]);
    assert_eq!(open.attempts, vec![failed, succeeded]);

    let report = RunReport {
        run_id: "r1".into(),
        flow: "rotate".into(),
        status: Status::Failed,
        started_at: "2026-12-01T10:00:00.000Z".into(),
        duration_ms: 120,
        outputs: [("key".to_string(), json!("k-1"))].into_iter().collect(),
        // File order differs from the order the steps ended in; `later` never started.
        steps: vec![
            failing.clone(),
            step("create", Status::Succeeded),
            StepReport {
                reason: Some("not started".into()),
                attempts: 0,
                output: None,
                ..step("later", Status::Cancelled)
            },
        ],
        reason: Some("step `policy` failed".into()),
    };
    store.finish_run(&report).await.unwrap();
    let shown = store.show("r1").await.unwrap();
    assert_eq!(shown.report, report);
    assert_eq!(shown.summary.status, RunState::Failed);
    assert_eq!(shown.summary.duration_ms, Some(120));
    assert_eq!(shown.summary.source, "flows/rotate.yaml");
    assert!(matches!(
        store.show("nope").await,
        Err(StoreError::NotFound(_))
    ));
}

const TEMPLATE: &str = r#"name: tenant
version: "1.0"
params:
  tenant: { type: string }
steps:
  - id: name
    block: core.set
    with: { alias: "alias/{{params.tenant}}" }
  - id: shout
    block: core.log
    with: { message: "made {{steps.name.output.alias}}" }
outputs:
  alias: $.steps.name.output.alias
"#;

pub async fn a_run_is_rebuilt_as_its_report(db: Db) {
    let path = db.write(
        "flow.yaml",
        "name: shapes\nsteps:\n  - id: a\n    block: core.set\n    with: { v: 1 }\n  - id: b\n    block: core.set\n    for_each: [x, y]\n    with: { v: $.steps.a.output.v, item: $.item }\n  - id: skipped\n    block: core.log\n    if: { path: $.steps.a.output.v, equals: 2 }\n    with: { message: never }\n  - id: c\n    block: core.fail\n    after: [b]\n    on_error: continue\n    with: { message: planned failure }\noutputs:\n  items: $.steps.b.output[*].item\n",
    );
    let store = Arc::new(db.open().await);
    let report = run(&path, store.clone()).await;
    assert_eq!(report.status, Status::Succeeded);
    let shown = store.show(&report.run_id).await.unwrap();
    assert_eq!(shown.report, report);
    assert_eq!(shown.summary.status, RunState::Succeeded);
    // Every call is on record: a once, b per item, c once (read-only blocks leave no intent).
    assert_eq!(shown.attempts.len(), 4);
    assert!(shown.intents.is_empty());
    assert_eq!(
        serde_json::to_value(&shown.report).unwrap()["outputs"],
        json!({ "items": ["x", "y"] })
    );
}

pub async fn template_runs_are_under_their_step(db: Db) {
    db.write("templates/tenant.yaml", TEMPLATE);
    let path = db.write(
        "flow.yaml",
        "name: onboard\nsteps:\n  - id: each\n    uses: ./templates/tenant.yaml\n    for_each: [acme, globex]\n    with: { tenant: $.item }\n  - id: one\n    uses: ./templates/tenant.yaml\n    with: { tenant: solo }\noutputs:\n  aliases: $.steps.each.output[*].alias\n",
    );
    let store = Arc::new(db.open().await);
    let report = run(&path, store.clone()).await;
    assert_eq!(report.status, Status::Succeeded, "{report:#?}");
    let shown = store.show(&report.run_id).await.unwrap();
    assert_eq!(shown.report, report);
    let runs = shown.report.steps[0].runs.as_ref().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].run_id, format!("{}/each/1", report.run_id));
    assert_eq!(runs[1].outputs["alias"], json!("alias/globex"));
    // The template runs' calls are the run's too; they are not top-level runs.
    assert_eq!(shown.attempts.len(), 6);
    let listed = store.list(&Default::default()).await.unwrap();
    assert_eq!(listed.len(), 1);
    // A template run shows on its own, with its parent.
    let child = store
        .show(&format!("{}/each/0", report.run_id))
        .await
        .unwrap();
    assert_eq!(child.report, runs[0]);
    assert_eq!(
        child.summary.parent,
        Some(ParentStep {
            run_id: report.run_id.clone(),
            step: "each".into(),
            item: Some(0),
        })
    );
    assert_eq!(child.attempts.len(), 2);
}

pub async fn a_prefix_names_a_run(db: Db) {
    let store = db.open().await;
    for id in ["0193aa-one", "0193ab-two", "0193ab-three"] {
        store.begin_run(&start(id, None)).await.unwrap();
    }
    assert_eq!(
        store.show("0193aa").await.unwrap().summary.run_id,
        "0193aa-one"
    );
    match store.show("0193ab").await {
        Err(StoreError::Failed(message)) => {
            assert!(message.contains("several runs"), "{message}");
        }
        other => panic!("an ambiguous prefix: {other:?}"),
    }
    // `%` and `_` are not wildcards.
    assert!(matches!(
        store.show("0193a_").await,
        Err(StoreError::NotFound(_))
    ));
}
