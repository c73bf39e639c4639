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
