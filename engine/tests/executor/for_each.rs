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
    assert_eq!(error.message, "item 1: `b` was told to fail");
    assert_eq!(out.step("each").output, None);
    // With one item at a time, no item starts after the failure.
    assert!(probe.started("c").is_empty());
    assert_eq!(out.status("later"), Status::Cancelled);
}
