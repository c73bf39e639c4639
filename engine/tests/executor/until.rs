//! 5. Until.

use super::*;

#[tokio::test(start_paused = true)]
async fn until_polls_until_the_condition_holds() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: until
        steps:
          - id: migrate
            block: test.poll
            with: { key: m }
            until:
              condition: { path: $.output.state, equals: Completed }
              every: 1s
              timeout: 1m
          - id: after
            block: test.work
            with: { label: after, value: $.steps.migrate.output.progress }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(
        out.output("migrate"),
        &json!({ "progress": 100, "state": "Completed" })
    );
    assert_eq!(probe.calls("m"), 3);
    assert_eq!(out.step("migrate").attempts, 3);
    assert_eq!(out.records("migrate").len(), 3);
    assert_eq!(
        out.polls("migrate"),
        [
            (1, Some("state=New progress=0".to_string())),
            (2, Some("state=InProgress progress=50".to_string())),
        ]
    );
    // One `every` between calls.
    let starts = probe.started("m");
    assert_eq!(starts[1] - starts[0], Duration::from_secs(1));
    assert_eq!(starts[2] - starts[1], Duration::from_secs(1));
    assert_eq!(out.output("after")["value"], 100);
}

#[tokio::test(start_paused = true)]
async fn an_until_that_never_holds_fails_with_until_timeout() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: until_timeout
        steps:
          - id: migrate
            block: test.poll
            with: { key: m }
            until:
              condition: { path: $.output.state, equals: Failed }
              every: 1s
              timeout: 10s
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    let error = out.error("migrate");
    assert_eq!(error.code, "UntilTimeout");
    let calls = probe.calls("m");
    // A call at 0s, 1s… while another still fits in the 10s.
    assert!((10..=11).contains(&calls), "{calls} calls");
    assert!(
        error.message.contains(&format!("after {calls} calls")),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("state=Completed"),
        "{}",
        error.message
    );
    assert!(
        out.took <= Duration::from_secs(10),
        "polled for {:?}",
        out.took
    );
}
