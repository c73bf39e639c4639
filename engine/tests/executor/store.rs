//! 11. The run store.

use super::*;

#[tokio::test(start_paused = true)]
async fn the_store_gets_one_record_per_call_with_the_resolved_input() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: store
        params:
          who: { type: string, default: ops }
        steps:
          - id: flaky
            block: test.flaky
            retry: { attempts: 3, backoff: 10ms }
            with: { key: "{{params.who}}-flaky", fail_times: 1 }
          - id: each
            block: test.work
            for_each: [a, b]
            with: { label: "{{params.who}}-{{item}}", value: $.steps.flaky.output.calls }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    let records = lock(&out.store.attempts).clone();
    assert_eq!(records.len(), 4, "{records:#?}");
    assert!(records.iter().all(|r| r.run_id == "run-1"));
    assert_eq!(out.report.run_id, "run-1");
    let flaky = out.records("flaky");
    assert_eq!(flaky.len(), 2);
    for record in &flaky {
        assert_eq!(record.input, json!({ "key": "ops-flaky", "fail_times": 1 }));
        assert_eq!(record.item, None);
    }
    let mut each = out.records("each");
    each.sort_by_key(|r| r.item);
    assert_eq!(each[0].item, Some(0));
    assert_eq!(each[0].input, json!({ "label": "ops-a", "value": 2 }));
    assert_eq!(each[1].item, Some(1));
    assert_eq!(each[1].input, json!({ "label": "ops-b", "value": 2 }));
    // A step's records come before the records of the steps after it.
    let last_flaky = records
        .iter()
        .rposition(|r| r.step == "flaky")
        .expect("flaky");
    let first_each = records.iter().position(|r| r.step == "each").expect("each");
    assert!(last_flaky < first_each);
    assert_eq!(
        lock(&out.store.steps)
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>(),
        ["flaky", "each"]
    );
    assert_eq!(
        lock(&out.store.runs).as_slice(),
        std::slice::from_ref(&out.report)
    );
}

#[tokio::test(start_paused = true)]
async fn secret_outputs_are_redacted_in_records_and_report_but_usable_by_later_steps() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: secrets
        steps:
          - id: mint
            block: test.secret
            with: { name: alpha }
          - id: use_token
            block: test.consume
            with: { token: $.steps.mint.output.token }
          - id: use_in_template
            block: test.consume
            with: { token: "Bearer {{steps.mint.output.token}}" }
        outputs:
          name: $.steps.mint.output.name
          token: { value: $.steps.mint.output.token, reveal: true }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    // Later steps got the real value.
    let seen: Vec<Value> = lock(&probe.seen).iter().map(|(_, v)| v.clone()).collect();
    assert!(seen.contains(&json!("s3cr3t-alpha")), "{seen:?}");
    assert!(seen.contains(&json!("Bearer s3cr3t-alpha")), "{seen:?}");
    assert_eq!(out.output("use_token"), &json!({ "length": 12 }));
    // The report and the records do not show it.
    assert_eq!(
        out.output("mint"),
        &json!({ "name": "alpha", "token": REDACTED })
    );
    let mint = out.records("mint");
    assert_eq!(
        mint[0].output,
        Some(json!({ "name": "alpha", "token": REDACTED }))
    );
    assert_eq!(
        out.records("use_token")[0].input,
        json!({ "token": REDACTED })
    );
    assert_eq!(
        out.records("use_in_template")[0].input,
        json!({ "token": REDACTED })
    );
    assert_eq!(out.report.outputs["name"], "alpha");
    // An output marked `reveal: true` is still masked: reveal lets the flow wire it, not show it.
    assert_eq!(out.report.outputs["token"], REDACTED);
    let everything = format!(
        "{}\n{:?}\n{:?}\n{:?}",
        serde_json::to_string(&out.report).expect("json"),
        lock(&out.store.attempts),
        lock(&out.store.steps),
        out.events,
    );
    assert!(
        !everything.contains("s3cr3t"),
        "a secret leaked:\n{everything}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_secret_copied_by_later_steps_is_masked_by_value_everywhere() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: copies
        steps:
          - id: mint
            block: test.secret
            with: { name: beta }
          - id: copy
            block: test.work
            reveal: true
            with:
              label: copy
              log: "using {{steps.mint.output.token}} now"
              value: { copied: $.steps.mint.output.token, note: "token is {{steps.mint.output.token}}" }
          - id: echo_fail
            block: test.work
            on_error: continue
            reveal: true
            with: { label: "{{steps.mint.output.token}}", fail: true }
        outputs:
          copied: $.steps.copy.output.value.copied
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(
        out.output("copy")["value"],
        json!({ "copied": REDACTED, "note": format!("token is {REDACTED}") })
    );
    assert_eq!(out.report.outputs["copied"], REDACTED);
    let failed = out
        .report
        .steps
        .iter()
        .find(|s| s.id == "echo_fail")
        .expect("step");
    assert_eq!(
        failed.error.as_ref().map(|e| e.message.as_str()),
        Some("`<redacted>` was told to fail")
    );
    let logged: Vec<&RunEvent> = out
        .events
        .iter()
        .filter(|e| matches!(e, RunEvent::Log { .. }))
        .collect();
    assert!(
        matches!(logged.as_slice(), [RunEvent::Log { message, .. }] if message == "using <redacted> now"),
        "{logged:?}"
    );
    let everything = format!(
        "{}\n{:?}\n{:?}\n{:?}",
        serde_json::to_string(&out.report).expect("json"),
        lock(&out.store.attempts),
        lock(&out.store.steps),
        out.events,
    );
    assert!(
        !everything.contains("s3cr3t"),
        "a secret leaked:\n{everything}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_secret_given_to_a_template_is_masked_in_its_run_record() {
    // The template passes its param on only to an input that takes secrets, so it may be given one.
    let dir = std::env::temp_dir().join(format!("keyflow-secret-param-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let template = dir.join("consume.yaml");
    std::fs::write(
        &template,
        "name: consume\nversion: \"1\"\nparams:\n  token: { type: string }\nsteps:\n  - id: use\n    block: test.consume\n    with: { token: $.params.token }\n",
    )
    .expect("write template");
    let probe = Arc::new(Probe::default());
    let out = run(
        &format!(
            r#"
            name: secret-param
            steps:
              - id: mint
                block: test.secret
                with: {{ name: gamma }}
              - id: child
                uses: {}
                with: {{ token: $.steps.mint.output.token }}
            "#,
            template.display()
        ),
        &probe,
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert!(lock(&probe.seen).contains(&("consume".into(), json!("s3cr3t-gamma"))));
    let started = lock(&out.store.started).clone();
    assert_eq!(started.len(), 2, "{started:#?}");
    assert_eq!(started[1].params, json!({ "token": REDACTED }));
}

#[tokio::test(start_paused = true)]
async fn an_input_that_takes_secrets_is_recorded_redacted_whatever_gives_it() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: literal-secret-input
        params:
          token: { type: string, default: from-a-param }
        steps:
          - id: literal
            block: test.consume
            with: { token: written-in-the-flow }
          - id: param
            block: test.consume
            with: { token: $.params.token }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    for step in ["literal", "param"] {
        assert_eq!(out.records(step)[0].input, json!({ "token": REDACTED }));
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_that_changes_something_is_announced_before_it_goes_out() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: intents
        steps:
          - id: read
            block: test.work
            with: { label: r }
          - id: update
            block: test.policy
            with: { key_id: $.steps.read.output.label }
          - id: read_again
            block: test.work
            with: { label: $.steps.update.output.state }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    let intents = lock(&out.store.intents).clone();
    assert_eq!(intents.len(), 1, "reads are not announced: {intents:#?}");
    assert_eq!(intents[0].step, "update");
    assert_eq!(intents[0].block, "test.policy");
    assert_eq!(intents[0].effect, Effect::Update);
    assert_eq!(intents[0].attempt, 1);
    assert_eq!(intents[0].input, json!({ "key_id": "r" }));
    let started = lock(&out.store.started).clone();
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].run_id, "run-1");
    assert_eq!(started[0].flow, "intents");
    assert_eq!(started[0].parent, None);
}
