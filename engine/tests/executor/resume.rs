//! 12. Resuming a recorded run: what succeeded stands, the rest runs, attempts number on, a call that
//!     went out unanswered is settled first, and a changed step is refused unless it is run again.

use std::collections::HashMap;

use keyflow_engine::exec::resume::{Continuation, Recorded, Resume, ResumeError};

use super::*;

/// `keyflow resume` of run-1.
const CONTINUES: Continuation<'static> = Continuation {
    run_id: "run-1",
    recorded_id: "run-1",
    continues: true,
    same_params: true,
};

const FLOW: &str = r#"
    name: resumable
    steps:
      - id: a
        block: test.work
        with: { label: a, value: 41 }
      - id: b
        block: test.flaky
        retry: { attempts: 2, backoff: 10ms }
        with: { key: b, fail_times: 2 }
      - id: c
        block: test.work
        with: { label: c, value: $.steps.a.output.value }
        after: b
    outputs:
      a: $.steps.a.output.value
      b: $.steps.b.output.calls
    "#;

/// The record of `out`'s run, as the store reads it back for a resume.
fn recorded(out: &Outcome) -> Recorded {
    let started = lock(&out.store.started).clone();
    let definitions = started
        .iter()
        .map(|s| (s.run_id.clone(), s.definitions.clone()))
        .collect::<HashMap<_, _>>();
    Recorded::of(
        &out.report,
        &definitions,
        &lock(&out.store.attempts),
        &lock(&out.store.intents),
    )
}

async fn resumed(yaml: &str, probe: &Arc<Probe>, resume: Resume) -> Outcome {
    let options = ExecOptions {
        resume: Some(Arc::new(resume)),
        ..options()
    };
    run_with(yaml, probe, options, CancellationToken::new()).await
}

#[tokio::test(start_paused = true)]
async fn a_resumed_run_reuses_what_succeeded_and_runs_the_rest_numbering_attempts_on() {
    let probe = Arc::new(Probe::default());
    let first = run(FLOW, &probe).await;
    assert_eq!(first.report.status, Status::Failed, "{:#?}", first.report);
    assert_eq!(first.status("c"), Status::Cancelled);
    assert_eq!(first.step("b").attempts, 2);
    let plan = plan(FLOW, &probe);
    let resume = Resume::plan(&plan, CONTINUES, &recorded(&first), &[]).expect("resume");
    let again = resumed(FLOW, &probe, resume).await;
    assert_eq!(
        again.report.status,
        Status::Succeeded,
        "{:#?}",
        again.report
    );
    assert_eq!(again.report.run_id, "run-1", "the same run goes on");
    // `a` did not run again: its recorded output stands, and later steps read it.
    assert_eq!(probe.started("a").len(), 1);
    assert!(again.step("a").reused);
    assert_eq!(again.output("a"), first.output("a"));
    assert_eq!(again.report.outputs["a"], 41);
    assert_eq!(again.output("c")["value"], 41);
    // `b` ran again, its third call (the first of this run) succeeded, numbered on from the record.
    assert!(!again.step("b").reused);
    assert_eq!(again.step("b").attempts, 3);
    assert_eq!(again.records("b").last().map(|r| r.attempt), Some(3));
    assert_eq!(again.report.outputs["b"], 3);
    assert!(
        again.records("a").is_empty(),
        "no call of `a` was made or recorded"
    );
}

#[tokio::test(start_paused = true)]
async fn a_step_changed_since_the_run_is_refused_unless_run_again_with_what_depends_on_it() {
    let probe = Arc::new(Probe::default());
    let first = run(FLOW, &probe).await;
    let record = recorded(&first);
    let changed = FLOW.replace("value: 41", "value: 42");
    let plan = plan(&changed, &probe);
    assert_eq!(
        Resume::plan(&plan, CONTINUES, &record, &[]).err(),
        Some(ResumeError::Changed(vec!["a".into()]))
    );
    assert_eq!(
        Resume::plan(&plan, CONTINUES, &record, &["nope".into()]).err(),
        Some(ResumeError::UnknownStep("nope".into()))
    );
    let resume = Resume::plan(&plan, CONTINUES, &record, &["a".into()]).expect("rerun a");
    let again = resumed(&changed, &probe, resume).await;
    assert_eq!(
        again.report.status,
        Status::Succeeded,
        "{:#?}",
        again.report
    );
    assert_eq!(probe.started("a").len(), 2, "`a` ran again");
    assert_eq!(
        again.output("c")["value"],
        42,
        "and `c`, which reads it, saw the new value"
    );
}

#[tokio::test(start_paused = true)]
async fn an_output_with_a_redacted_secret_is_not_reused_and_its_readers_run_again() {
    let yaml = r#"
        name: secret
        steps:
          - id: mint
            block: test.secret
            with: { name: alpha }
          - id: use_token
            block: test.consume
            with: { token: $.steps.mint.output.token }
          - id: stop
            block: test.work
            with: { label: stop, fail: true }
            after: use_token
        "#;
    let probe = Arc::new(Probe::default());
    let first = run(yaml, &probe).await;
    assert_eq!(first.report.status, Status::Failed);
    let plan = plan(yaml, &probe);
    let resume = Resume::plan(&plan, CONTINUES, &recorded(&first), &[]).expect("resume");
    let again = resumed(yaml, &probe, resume).await;
    assert!(
        !again.step("mint").reused,
        "its recorded token is `<redacted>`"
    );
    assert!(!again.step("use_token").reused);
    let tokens: Vec<Value> = lock(&probe.seen)
        .iter()
        .filter(|(label, _)| label == "consume")
        .map(|(_, v)| v.clone())
        .collect();
    assert_eq!(tokens, [json!("s3cr3t-alpha"), json!("s3cr3t-alpha")]);
}

#[tokio::test(start_paused = true)]
async fn a_call_that_went_out_unanswered_is_settled_by_its_first_attempt_on_resume() {
    let probe = Arc::new(Probe::default());
    let plan = plan(FLOW, &probe);
    let record = Recorded {
        runs: HashMap::new(),
        unanswered: vec![("run-1".into(), "b".into(), None)],
    };
    let resume = Resume::plan(&plan, CONTINUES, &record, &[]).expect("resume");
    let again = resumed(FLOW, &probe, resume).await;
    assert_eq!(again.report.status, Status::Failed);
    let seen = lock(&probe.seen).clone();
    let recovering = |label: &str| {
        seen.iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v["recovering"].clone())
    };
    assert_eq!(recovering("b call 1"), Some(json!(true)));
}

#[tokio::test(start_paused = true)]
async fn a_call_answered_before_its_step_was_recorded_stands_and_a_skipped_step_stays_skipped() {
    let flow = r#"
    name: answered
    params:
      off: { type: boolean, default: false }
    steps:
      - id: a
        block: test.work
        with: { label: a, value: 1 }
      - id: maybe
        block: test.work
        if: { path: $.params.off, equals: true }
        with: { label: maybe, value: 2 }
      - id: b
        block: test.work
        with: { label: b, value: $.steps.a.output.value }
        after: maybe
    "#;
    let probe = Arc::new(Probe::default());
    let first = run(flow, &probe).await;
    assert_eq!(first.report.status, Status::Succeeded);
    assert_eq!(first.status("maybe"), Status::Skipped);
    // The process died after `b`'s call was answered and recorded, before its step's end was: the
    // record has its attempt but not its row.
    let attempts = lock(&first.store.attempts).clone();
    let mut cut = first.report.clone();
    cut.steps.retain(|s| s.id != "b");
    let record = Recorded::of(
        &cut,
        &lock(&first.store.started)
            .iter()
            .map(|s| (s.run_id.clone(), s.definitions.clone()))
            .collect(),
        &attempts,
        &lock(&first.store.intents),
    );
    let to = Continuation {
        run_id: &first.report.run_id,
        recorded_id: &first.report.run_id,
        ..CONTINUES
    };
    let resume = Resume::plan(&plan(flow, &probe), to, &record, &[]).expect("resume");
    let calls_before = probe.started("b").len();
    let options = ExecOptions {
        run_id: Some(first.report.run_id.clone()),
        resume: Some(Arc::new(resume)),
        ..options()
    };
    let again = run_with(flow, &probe, options, CancellationToken::new()).await;
    assert_eq!(
        again.report.status,
        Status::Succeeded,
        "{:#?}",
        again.report
    );
    assert!(again.step("b").reused, "b's answer is its result");
    assert_eq!(
        probe.started("b").len(),
        calls_before,
        "b is not called again"
    );
    assert_eq!(again.step("b").output, first.step("b").output);
    assert_eq!(again.status("maybe"), Status::Skipped);
    assert!(again.step("maybe").reused);
}
