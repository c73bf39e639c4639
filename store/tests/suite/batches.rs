//! Batches of deferred records: many at once, written while the run goes on, a step written twice in
//! one batch, and more rows than one statement can bind.

use keyflow_engine::block::Effect;
use keyflow_engine::exec::report::{RunReport, Status, StepReport};
use keyflow_engine::exec::store::{AttemptRecord, Intent, RunStart, RunStore};
use serde_json::json;

use crate::Db;

fn start(run_id: &str) -> RunStart {
    RunStart {
        run_id: run_id.into(),
        parent: None,
        flow: "chain".into(),
        source: "chain.yaml".into(),
        params: json!({}),
        started_at: "2026-12-01T10:00:00.000Z".into(),
        definitions: Default::default(),
        resumed: false,
    }
}

fn read_step(id: &str, v: usize) -> StepReport {
    StepReport {
        id: id.into(),
        block: "core.set".into(),
        status: Status::Succeeded,
        attempts: 1,
        duration_ms: 0,
        output: Some(json!({ "v": v })),
        error: None,
        reason: None,
        items: None,
        runs: None,
        reused: false,
    }
}

fn read_attempt(run_id: &str, step: &str, v: usize) -> AttemptRecord {
    AttemptRecord {
        run_id: run_id.into(),
        step: step.into(),
        item: None,
        attempt: 1,
        started_at: "2026-12-01T10:00:00.001Z".into(),
        duration_ms: 0,
        input: json!({ "v": v }),
        output: Some(json!({ "v": v })),
        error: None,
    }
}

fn intent(run_id: &str) -> Intent {
    Intent {
        run_id: run_id.into(),
        step: "create".into(),
        item: None,
        attempt: 1,
        block: "aws-kms.create-key".into(),
        effect: Effect::Create,
        started_at: "2026-12-01T10:00:01.000Z".into(),
        input: json!({}),
    }
}

/// Thousands of reads handed over as fast as they come, so that batches are written while more arrive
/// (and steps wait for them): an intent that follows them finds every one of them on file, at once.
pub async fn every_read_is_on_file_before_the_effect_that_follows(db: Db) {
    const STEPS: usize = 3_000;
    let writer = db.open().await;
    let reader = db.open().await;
    writer.begin_run(&start("many")).await.unwrap();
    for i in 0..STEPS {
        let id = format!("s{i}");
        writer
            .record_attempt(&read_attempt("many", &id, i))
            .await
            .unwrap();
        writer
            .finish_step("many", &read_step(&id, i))
            .await
            .unwrap();
    }
    writer.record_intent(&intent("many")).await.unwrap();
    let shown = reader.show("many").await.unwrap();
    assert_eq!(shown.attempts.len(), STEPS);
    assert_eq!(shown.report.steps.len(), STEPS);
    assert_eq!(shown.intents, vec![intent("many")]);
    let mut values: Vec<u64> = shown
        .report
        .steps
        .iter()
        .map(|s| s.output.as_ref().unwrap()["v"].as_u64().unwrap())
        .collect();
    values.sort_unstable();
    assert!(values.iter().enumerate().all(|(i, &v)| v == i as u64));
}

/// A template step retried runs its template again under the same run id: its steps end twice, and
/// both may wait in one batch, even in one statement (four rows are). The row is the latest's, as if
/// each had been written in turn.
pub async fn a_step_ended_twice_in_one_batch_keeps_the_latest(db: Db) {
    let writer = db.open().await;
    let reader = db.open().await;
    writer.begin_run(&start("twice")).await.unwrap();
    for (id, v) in [("s0", 0), ("t", 1), ("t", 2), ("s1", 1)] {
        writer
            .finish_step("twice", &read_step(id, v))
            .await
            .unwrap();
    }
    // The intent writes what waits, in its transaction.
    writer.record_intent(&intent("twice")).await.unwrap();
    let shown = reader.show("twice").await.unwrap();
    assert_eq!(shown.report.steps.len(), 3);
    let t = shown.report.steps.iter().find(|s| s.id == "t").unwrap();
    assert_eq!(t.output, Some(json!({ "v": 2 })));
}

/// A run that stops early records the steps that never started when it ends: more of them than one
/// statement can bind values for.
pub async fn a_run_end_records_thousands_of_steps_that_never_started(db: Db) {
    const STEPS: usize = 3_000;
    let store = db.open().await;
    store.begin_run(&start("stopped")).await.unwrap();
    let steps: Vec<StepReport> = (0..STEPS)
        .map(|i| StepReport {
            status: Status::Cancelled,
            output: None,
            reason: Some("the run stopped before it started".into()),
            ..read_step(&format!("s{i}"), i)
        })
        .collect();
    store
        .finish_run(&RunReport {
            run_id: "stopped".into(),
            flow: "chain".into(),
            status: Status::Cancelled,
            started_at: "2026-12-01T10:00:00.000Z".into(),
            duration_ms: 5,
            outputs: Default::default(),
            steps: steps.clone(),
            reason: Some("cancelled".into()),
        })
        .await
        .unwrap();
    let shown = store.show("stopped").await.unwrap();
    assert_eq!(shown.report.steps, steps);
}
