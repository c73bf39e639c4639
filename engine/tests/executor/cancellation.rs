//! 9. Cancellation.

use super::*;

#[tokio::test(start_paused = true)]
async fn cancelling_stops_steps_in_flight_and_reports_every_step() {
    // Several rounds: whether a block that watches the cancellation itself ends before the executor sees
    // the cancellation must not matter.
    for round in 0..16 {
        let probe = Arc::new(Probe::default());
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            trigger.cancel();
        });
        let out = run_with(
            r#"
            name: cancel
            steps:
              - id: quick
                block: test.work
                with: { label: quick, ms: 10 }
              - id: slow
                block: test.work
                with: { label: slow, ms: 60000, value: $.steps.quick.output.label }
              - id: polite_1
                block: test.work
                with: { label: polite_1, ms: 60000, cooperative: true }
              - id: polite_2
                block: test.work
                with: { label: polite_2, ms: 60000, cooperative: true }
              - id: polite_3
                block: test.work
                with: { label: polite_3, ms: 60000, cooperative: true }
              - id: items
                block: test.work
                for_each: [1, 2, 3]
                concurrency: 1
                with: { label: "item-{{item}}", ms: 60000 }
              - id: later
                block: test.work
                with: { label: later, value: $.steps.slow.output.label }
              - id: last
                block: test.work
                after: later
                with: { label: last }
            "#,
            &probe,
            options(),
            cancel,
        )
        .await;
        assert_eq!(
            out.report.status,
            Status::Cancelled,
            "round {round}: {:#?}",
            out.report
        );
        assert_eq!(
            out.report.reason.as_deref(),
            Some("cancelled by the operator")
        );
        assert_eq!(out.status("quick"), Status::Succeeded, "round {round}");
        for id in ["slow", "polite_1", "polite_2", "polite_3", "items"] {
            assert_eq!(
                out.status(id),
                Status::Cancelled,
                "round {round}, step {id}: {:#?}",
                out.step(id)
            );
            assert_eq!(
                out.reason(id),
                "cancelled by the operator while running",
                "{id}"
            );
            assert_eq!(out.step(id).error, None, "round {round}, step {id}");
        }
        assert_eq!(out.step("slow").attempts, 1);
        assert_eq!(
            out.step("items").attempts,
            1,
            "one item at a time, the first in flight"
        );
        for id in ["later", "last"] {
            assert_eq!(out.status(id), Status::Cancelled, "{id}");
            assert!(
                out.reason(id).starts_with("not started"),
                "{id}: {}",
                out.reason(id)
            );
            assert_eq!(out.step(id).attempts, 0, "{id}");
        }
        assert!(probe.started("later").is_empty() && probe.started("last").is_empty());
        // The calls in flight were stopped (dropped), not waited for.
        assert_eq!(out.took, Duration::from_secs(5));
        assert_eq!(probe.current.load(Ordering::SeqCst), 0);
        assert_eq!(probe.finished_labels(), ["quick"]);
        // The store saw the same.
        let stored = lock(&out.store.steps).clone();
        assert_eq!(stored.len(), out.report.steps.len());
        assert_eq!(lock(&out.store.runs)[0].status, Status::Cancelled);
    }
}

#[tokio::test(start_paused = true)]
async fn steps_waiting_for_a_step_that_ends_as_the_run_is_cancelled_are_not_started() {
    // The step that cancels finishes in the same instant: whichever the executor notices first, what
    // waited for it must not start (rounds, because the order in which it notices them varies).
    for round in 0..16 {
        let probe = Arc::new(Probe::default());
        let out = run_with(
            r#"
            name: cancel_at_the_end
            steps:
              - id: trigger
                block: test.cancel-run
                with: { key: trigger }
              - id: next
                block: test.work
                with: { label: next, value: $.steps.trigger.output.calls }
            "#,
            &probe,
            options(),
            probe.cancel.clone(),
        )
        .await;
        assert_eq!(out.report.status, Status::Cancelled, "round {round}");
        assert_eq!(out.status("trigger"), Status::Succeeded, "round {round}");
        assert_eq!(out.status("next"), Status::Cancelled, "round {round}");
        assert_eq!(
            out.reason("next"),
            "not started: cancelled by the operator",
            "round {round}"
        );
        assert!(probe.started("next").is_empty(), "round {round}");
    }
}

#[tokio::test]
async fn a_block_that_fails_because_the_run_was_cancelled_is_reported_cancelled() {
    // The cancellation fires while the block is being polled, after the executor looked at it: the
    // block's own "cancelled" error must not turn into a failed step (this raced in CI under load).
    let probe = Arc::new(Probe::default());
    let out = run_with(
        r#"
        name: cancel_inside
        steps:
          - id: trigger
            block: test.cancel-run
            with: { key: trigger, fail: true }
        "#,
        &probe,
        options(),
        probe.cancel.clone(),
    )
    .await;
    assert_eq!(out.report.status, Status::Cancelled, "{:#?}", out.report);
    assert_eq!(out.status("trigger"), Status::Cancelled);
    assert_eq!(
        out.reason("trigger"),
        "cancelled by the operator while running"
    );
    assert_eq!(out.step("trigger").error, None);
}
