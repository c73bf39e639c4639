//! 8. for_each.

use super::*;

#[tokio::test(start_paused = true)]
async fn for_each_outputs_follow_item_order_whatever_order_items_finish_in() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: fan_out
        steps:
          - id: each
            block: test.work
            for_each:
              - { name: x, ms: 300 }
              - { name: y, ms: 100 }
              - { name: z, ms: 200 }
            with: { label: $.item.name, ms: $.item.ms, value: $.index }
          - id: names
            block: test.work
            with:
              label: names
              value: $.steps.each.output[*].label
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    // They finished y, z, x...
    assert_eq!(probe.finished_labels()[..3], ["y", "z", "x"]);
    // ...and the output keeps x, y, z.
    assert_eq!(
        out.output("each"),
        &json!([
            { "label": "x", "value": 0 },
            { "label": "y", "value": 1 },
            { "label": "z", "value": 2 },
        ])
    );
    assert_eq!(out.output("names")["value"], json!(["x", "y", "z"]));
    assert_eq!(out.step("each").items, Some(3));
    let mut items: Vec<Option<usize>> = out.records("each").iter().map(|r| r.item).collect();
    items.sort();
    assert_eq!(items, [Some(0), Some(1), Some(2)]);
}

#[tokio::test(start_paused = true)]
async fn a_failing_item_fails_the_step() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: fan_out_fail
        steps:
          - id: each
            block: test.work
            for_each: [{ n: a, fail: false }, { n: b, fail: true }, { n: c, fail: false }]
            concurrency: 1
            with: { label: $.item.n, fail: $.item.fail }
          - id: later
            block: test.work
            with: { label: later, value: $.steps.each.output }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    assert_eq!(out.status("each"), Status::Failed);
    let error = out.error("each");
    assert_eq!(error.code, "Boom");
    assert_eq!(
        error.message,
        "item 1: `b` was told to fail (1 item not started)"
    );
    assert_eq!(out.step("each").output, None);
    // With one item at a time, no item starts after the failure.
    assert!(probe.started("c").is_empty());
    assert_eq!(out.status("later"), Status::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn under_on_error_continue_every_item_runs_and_those_that_succeeded_keep_their_output() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: fan_out_continue
        steps:
          - id: each
            block: test.work
            for_each: [{ n: a, fail: false }, { n: b, fail: true }, { n: c, fail: false }, { n: d, fail: true }]
            concurrency: 1
            on_error: continue
            with: { label: $.item.n, fail: $.item.fail, value: $.item.n }
          - id: reads_output
            block: test.work
            with: { label: reads, value: $.steps.each.output }
          - id: reads_error
            block: test.work
            with: { label: error, value: $.steps.each.error.message }
        outputs:
          done: $.steps.each.output[*].value
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(out.status("each"), Status::Failed);
    // Every item ran, one at a time, in spite of the failures.
    for label in ["a", "b", "c", "d"] {
        assert_eq!(probe.started(label).len(), 1, "{label}");
    }
    assert_eq!(out.step("each").attempts, 4);
    let error = out.error("each");
    assert_eq!(error.code, "Boom");
    assert_eq!(
        error.message,
        "2 of 4 items failed: item 1: `b` was told to fail; item 3: `d` was told to fail"
    );
    // The items that succeeded keep their output, in item order; the failed ones are null.
    let output = out.step("each").output.clone().expect("the items' outputs");
    let labels: Vec<Value> = output
        .as_array()
        .expect("an array")
        .iter()
        .map(|o| o.get("label").cloned().unwrap_or(Value::Null))
        .collect();
    assert_eq!(labels, [json!("a"), Value::Null, json!("c"), Value::Null]);
    assert_eq!(out.report.outputs["done"], json!(["a", "c"]));
    // A step that reads the output of a failed step is skipped; its error is there to read.
    assert_eq!(out.status("reads_output"), Status::Skipped);
    assert_eq!(out.status("reads_error"), Status::Succeeded);
}
