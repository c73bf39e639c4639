//! 10. Destructive steps.

use super::*;

const DESTRUCTIVE_FLOW: &str = r#"
    name: destroy
    steps:
      - id: find
        block: test.work
        with: { label: k-1 }
      - id: delete_key
        block: test.destroy
        confirm: true
        with: { key_id: $.steps.find.output.label }
      - id: report
        block: test.work
        after: delete_key
        with: { label: report }
"#;

#[tokio::test(start_paused = true)]
async fn a_destructive_step_is_refused_without_allow_destructive_saying_what_it_would_do() {
    let probe = Arc::new(Probe::default());
    let out = run(DESTRUCTIVE_FLOW, &probe).await;
    assert_eq!(out.report.status, Status::Failed);
    assert_eq!(out.status("find"), Status::Succeeded);
    assert_eq!(out.status("delete_key"), Status::Failed);
    let error = out.error("delete_key");
    assert_eq!(error.code, "DestructiveNotAllowed");
    assert!(!error.retryable);
    assert_eq!(
        error.message,
        r#"step `delete_key` would call `test.destroy` (Destroy Key) with {"key_id":"k-1"}; re-run with `--allow-destructive` to let it"#
    );
    assert_eq!(
        probe.calls("destroy"),
        0,
        "the destructive block was called"
    );
    assert_eq!(out.step("delete_key").attempts, 0);
    assert!(out.records("delete_key").is_empty());
    assert_eq!(out.status("report"), Status::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn a_destructive_step_runs_with_allow_destructive() {
    let probe = Arc::new(Probe::default());
    let options = ExecOptions {
        allow_destructive: true,
        ..options()
    };
    let out = run_with(DESTRUCTIVE_FLOW, &probe, options, CancellationToken::new()).await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(
        out.output("delete_key"),
        &json!({ "key_id": "k-1", "state": "PendingDeletion" })
    );
    assert_eq!(probe.calls("destroy"), 1);
    assert_eq!(out.status("report"), Status::Succeeded);
}

/// Checks a flow against the test blocks and gives its rendered diagnostics (empty when valid).
fn problems(yaml: &str) -> String {
    let probe = Arc::new(Probe::default());
    let registry = Registry::new().block(Policy(probe));
    let source = SourceFile::new("t.yaml", dedent(yaml));
    match check(source.clone(), &registry) {
        Ok(_) => String::new(),
        Err(d) => render_all(&d, &source, false),
    }
}

#[test]
fn an_escalating_input_needs_confirm_unless_it_is_literally_false() {
    let flow = |force: &str, confirm: &str| {
        format!(
            "name: p\nparams:\n  force: {{ type: boolean, default: false }}\nsteps:\n  - id: put\n    block: test.policy\n{confirm}    with: {{ key_id: k, {force} }}\n"
        )
    };
    let literal_true = problems(&flow("force: true", ""));
    assert!(
        literal_true.contains("step `put` sets `force` of `test.policy`, which makes the call destructive, without `confirm: true`"),
        "{literal_true}"
    );
    assert!(problems(&flow("force: $.params.force", "")).contains("missing-confirm"));
    assert_eq!(problems(&flow("force: false", "")), "");
    assert_eq!(
        problems(&flow("key_id2: x", "").replace(", key_id2: x", "")),
        ""
    );
    assert_eq!(problems(&flow("force: true", "    confirm: true\n")), "");
}

#[tokio::test(start_paused = true)]
async fn an_escalating_input_is_decided_by_its_value_at_run_time() {
    let flow = |force: bool| {
        format!(
            r#"
            name: p
            params:
              force: {{ type: boolean, default: {force} }}
            steps:
              - id: put
                block: test.policy
                confirm: true
                with: {{ key_id: k-1, force: $.params.force }}
            "#
        )
    };
    let probe = Arc::new(Probe::default());
    let out = run(&flow(false), &probe).await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(out.output("put")["state"], "forced=false");
    let out = run(&flow(true), &probe).await;
    assert_eq!(out.status("put"), Status::Failed);
    assert_eq!(out.error("put").code, "DestructiveNotAllowed");
    assert_eq!(
        probe.calls("policy"),
        1,
        "the forced call must not have been made"
    );
    let options = ExecOptions {
        allow_destructive: true,
        ..options()
    };
    let out = run_with(&flow(true), &probe, options, CancellationToken::new()).await;
    assert_eq!(out.output("put")["state"], "forced=true");
}
