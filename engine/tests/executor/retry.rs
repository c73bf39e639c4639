//! 3. Retry.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_retryable_failure_is_retried_until_it_succeeds_and_every_attempt_is_recorded() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: retry
        steps:
          - id: flaky
            block: test.flaky
            retry: { attempts: 5, backoff: 100ms }
            with: { key: f, fail_times: 2 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(out.step("flaky").attempts, 3);
    assert_eq!(out.output("flaky"), &json!({ "calls": 3 }));
    assert_eq!(probe.calls("f"), 3);
    let records = out.records("flaky");
    assert_eq!(
        records.iter().map(|r| r.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    for record in &records[..2] {
        let error = record
            .error
            .as_ref()
            .expect("a failed attempt has its error");
        assert_eq!(error.code, "ThrottlingException");
        assert!(error.retryable);
        assert_eq!(record.output, None);
    }
    assert_eq!(records[2].error, None);
    assert_eq!(records[2].output, Some(json!({ "calls": 3 })));
    assert_eq!(
        out.retries("flaky")
            .iter()
            .map(|(a, _)| *a)
            .collect::<Vec<_>>(),
        [1, 2]
    );
}

#[tokio::test(start_paused = true)]
async fn a_non_retryable_failure_is_not_retried() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: fatal
        steps:
          - id: denied
            block: test.flaky
            retry: { attempts: 5, backoff: 100ms }
            with: { key: d, fail_times: 2, retryable: false }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    assert_eq!(out.status("denied"), Status::Failed);
    assert_eq!(out.step("denied").attempts, 1);
    assert_eq!(probe.calls("d"), 1);
    assert_eq!(out.error("denied").code, "AccessDeniedException");
    assert!(!out.error("denied").retryable);
    assert!(out.retries("denied").is_empty());
    assert_eq!(out.records("denied").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_attempts_limit() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: limit
        steps:
          - id: flaky
            block: test.flaky
            retry: { attempts: 3, backoff: 100ms }
            with: { key: f, fail_times: 10 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    assert_eq!(out.step("flaky").attempts, 3);
    assert_eq!(probe.calls("f"), 3);
    assert_eq!(out.error("flaky").code, "ThrottlingException");
    assert_eq!(out.error("flaky").message, "call 3 throttled");
    assert_eq!(out.retries("flaky").len(), 2);
    assert_eq!(out.records("flaky").len(), 3);
}

const BACKOFF_FLOW: &str = r#"
    name: backoff
    steps:
      - id: flaky
        block: test.flaky
        retry: { attempts: 7, backoff: 1s, max_delay: 5s }
        with: { key: f, fail_times: 6 }
"#;

#[tokio::test(start_paused = true)]
async fn backoff_delays_are_jittered_below_the_doubling_cap_and_are_actually_waited() {
    let mut by_seed = Vec::new();
    for seed in 0..16 {
        let probe = Arc::new(Probe::default());
        let options = ExecOptions {
            seed: Some(seed),
            ..options()
        };
        let out = run_with(BACKOFF_FLOW, &probe, options, CancellationToken::new()).await;
        assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
        let retries = out.retries("flaky");
        assert_eq!(
            retries.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        for &(attempt, delay) in &retries {
            // backoff 1s doubled per retry, capped at 5s: 1, 2, 4, 5, 5, 5.
            let cap = Duration::from_secs(1 << (attempt - 1)).min(Duration::from_secs(5));
            assert!(
                delay <= cap,
                "seed {seed}: retry {attempt} waits {delay:?} > {cap:?}"
            );
        }
        // The executor waits each delay between the calls: the calls take no time on the paused clock.
        let starts = probe.started("f");
        assert_eq!(starts.len(), 7);
        for (k, &(_, delay)) in retries.iter().enumerate() {
            assert_eq!(
                starts[k + 1] - starts[k],
                delay,
                "seed {seed}: gap after call {}",
                k + 1
            );
        }
        by_seed.push(retries.into_iter().map(|(_, d)| d).collect::<Vec<_>>());
    }
    // Full jitter: delays differ from seed to seed and reach past the previous cap.
    let distinct: std::collections::HashSet<_> = by_seed.iter().collect();
    assert!(
        distinct.len() > 8,
        "delays barely vary with the seed: {by_seed:?}"
    );
    assert!(
        by_seed
            .iter()
            .any(|delays| delays[2] > Duration::from_secs(2)),
        "the third delay never went past 2s (its cap is 4s): {by_seed:?}"
    );
    // The same seed gives the same delays.
    let probe = Arc::new(Probe::default());
    let options = ExecOptions {
        seed: Some(3),
        ..options()
    };
    let again = run_with(BACKOFF_FLOW, &probe, options, CancellationToken::new()).await;
    let again: Vec<Duration> = again.retries("flaky").into_iter().map(|(_, d)| d).collect();
    assert_eq!(again, by_seed[3]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_raises_the_delay() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: retry_after
        steps:
          - id: flaky
            block: test.flaky
            retry: { attempts: 3, backoff: 100ms, max_delay: 10s }
            with: { key: f, fail_times: 2, retry_after_ms: 7000 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    let retries = out.retries("flaky");
    assert_eq!(retries.len(), 2);
    for (attempt, delay) in retries {
        assert!(
            delay >= ms(7000),
            "retry {attempt} waits {delay:?}, under the Retry-After"
        );
    }
    let starts = probe.started("f");
    assert!(starts[1] - starts[0] >= ms(7000));
    assert!(starts[2] - starts[1] >= ms(7000));
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_longer_than_the_step_allows_is_not_waited_for() {
    // A hostile or confused server asking for decades: the run neither waits nor hides why it stopped.
    for (controls, limit) in [
        (
            "retry: { attempts: 3, backoff: 100ms, max_delay: 5s }",
            "`retry.max_delay` of 5s",
        ),
        (
            "retry: { attempts: 3, backoff: 100ms, max_delay: 1m }\n            timeout: 2s",
            "`timeout` of 2s",
        ),
    ] {
        let probe = Arc::new(Probe::default());
        let flow = format!(
            r#"
        name: retry_after_too_long
        steps:
          - id: flaky
            block: test.flaky
            {controls}
            with: {{ key: f, fail_times: 2, retry_after_ms: 999999999999 }}
        "#
        );
        let out = run(&flow, &probe).await;
        assert_eq!(out.status("flaky"), Status::Failed, "{:#?}", out.report);
        assert_eq!(out.step("flaky").attempts, 1, "no retry was made");
        assert!(out.retries("flaky").is_empty());
        let error = out.error("flaky");
        assert!(!error.retryable);
        assert!(
            error
                .message
                .contains("not retried: the service asked to wait")
                && error.message.contains(limit),
            "{limit}: {}",
            error.message
        );
        assert!(
            out.took < Duration::from_secs(1),
            "it waited {:?}",
            out.took
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_attempt_after_one_that_may_have_taken_effect_is_told_so() {
    // A call that timed out went out: the next attempt settles it first (a create finds what it made).
    // A throttled call was refused: the attempt after it has nothing to settle.
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: in_doubt
        steps:
          - id: hangs
            block: test.flaky
            retry: { attempts: 3, backoff: 10ms }
            timeout: 1s
            with: { key: h, fail_times: 1, hang_ms: 5000 }
          - id: throttled
            block: test.flaky
            for_each: [a]
            retry: { attempts: 3, backoff: 10ms }
            with: { key: t, fail_times: 1 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    let seen = lock(&probe.seen).clone();
    let said = |label: &str| {
        seen.iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no call `{label}`: {seen:?}"))
    };
    assert_eq!(said("h call 1")["recovering"], false);
    assert_eq!(said("h call 2")["recovering"], true);
    assert_eq!(said("t call 1")["recovering"], false);
    assert_eq!(said("t call 2")["recovering"], false);
    // The key names the call, the same for every attempt.
    assert_eq!(said("h call 1")["key"], "run-1/hangs");
    assert_eq!(said("h call 2")["key"], "run-1/hangs");
    assert_eq!(said("t call 2")["key"], "run-1/throttled/0");
}
