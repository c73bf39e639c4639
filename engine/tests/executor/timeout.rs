//! 4. Timeout.

use super::*;

#[tokio::test(start_paused = true)]
async fn an_attempt_longer_than_the_timeout_fails_with_a_retryable_timeout() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: timeout
        steps:
          - id: slow
            block: test.flaky
            timeout: 1s
            with: { key: slow, fail_times: 1, hang_ms: 60000 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    let error = out.error("slow");
    assert_eq!(error.code, "Timeout");
    assert!(error.retryable);
    assert!(error.message.contains("1s"), "{}", error.message);
    assert_eq!(out.step("slow").attempts, 1);
    // The call was cut at the timeout, not waited out.
    assert_eq!(out.took, Duration::from_secs(1));
    assert_eq!(
        probe.current.load(Ordering::SeqCst),
        0,
        "the timed-out call is still running"
    );
    assert!(lock(&probe.spans).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_attempt_is_retried() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: timeout_retry
        steps:
          - id: once_slow
            block: test.flaky
            timeout: 1s
            retry: { attempts: 3, backoff: 100ms }
            with: { key: once, fail_times: 1, hang_ms: 60000 }
          - id: always_slow
            block: test.flaky
            timeout: 1s
            retry: { attempts: 2, backoff: 100ms }
            on_error: continue
            with: { key: always, fail_times: 99, hang_ms: 60000 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(
        out.status("once_slow"),
        Status::Succeeded,
        "{:#?}",
        out.report
    );
    assert_eq!(out.step("once_slow").attempts, 2);
    let records = out.records("once_slow");
    assert_eq!(
        records[0].error.as_ref().map(|e| e.code.as_str()),
        Some("Timeout")
    );
    assert_eq!(records[1].output, Some(json!({ "calls": 2 })));
    assert_eq!(out.status("always_slow"), Status::Failed);
    assert_eq!(out.error("always_slow").code, "Timeout");
    assert_eq!(out.step("always_slow").attempts, 2);
    assert_eq!(probe.calls("always"), 2);
}
