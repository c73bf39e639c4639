//! 6. on_error.

use super::*;

#[tokio::test(start_paused = true)]
async fn on_error_continue_keeps_the_run_going_and_leaves_the_error_for_later_steps() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: continue
        steps:
          - id: denied
            block: test.flaky
            on_error: continue
            with: { key: d, fail_times: 1, retryable: false }
          - id: inspect
            block: test.work
            with:
              label: inspect
              value: { code: $.steps.denied.error.code, status: $.steps.denied.status }
          - id: handle
            block: test.work
            if: { path: $.steps.denied.status, equals: failed }
            with: { label: handle }
          - id: needs_output
            block: test.work
            with: { label: needs_output, value: $.steps.denied.output.calls }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(out.report.reason, None);
    assert_eq!(out.status("denied"), Status::Failed);
    assert_eq!(out.error("denied").code, "AccessDeniedException");
    assert_eq!(
        out.output("inspect")["value"],
        json!({ "code": "AccessDeniedException", "status": "failed" })
    );
    assert_eq!(out.status("handle"), Status::Succeeded);
    assert_eq!(out.status("needs_output"), Status::Skipped);
    assert_eq!(
        out.reason("needs_output"),
        "it reads the output of step `denied`, which failed"
    );
    assert!(probe.started("needs_output").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failure_fails_the_run_and_steps_not_started_are_cancelled() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: fail
        steps:
          - id: denied
            block: test.flaky
            with: { key: d, fail_times: 1, retryable: false }
          - id: running
            block: test.work
            with: { label: running, ms: 1000 }
          - id: after_running
            block: test.work
            after: running
            with: { label: after_running }
          - id: after_denied
            block: test.work
            after: denied
            with: { label: after_denied }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    assert_eq!(out.report.reason.as_deref(), Some("step `denied` failed"));
    assert_eq!(out.status("denied"), Status::Failed);
    // A step already running when the failure came finishes.
    assert_eq!(out.status("running"), Status::Succeeded);
    for id in ["after_running", "after_denied"] {
        assert_eq!(out.status(id), Status::Cancelled, "{id}");
        assert_eq!(out.reason(id), "not started: step `denied` failed", "{id}");
        assert!(probe.started(id).is_empty(), "{id} was called");
    }
}
