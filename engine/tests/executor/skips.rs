//! 7. if: and skip propagation.

use super::*;

#[tokio::test(start_paused = true)]
async fn if_skips_and_the_skip_propagates_through_outputs_but_not_through_after() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: skips
        params:
          go: { type: boolean, default: false }
        steps:
          - id: gated
            block: test.work
            if: { path: $.params.go, equals: true }
            with: { label: gated }
          - id: reads_gated
            block: test.work
            with: { label: reads_gated, value: $.steps.gated.output.label }
          - id: reads_reader
            block: test.work
            with: { label: reads_reader, value: "{{steps.reads_gated.output.label}}" }
          - id: after_gated
            block: test.work
            after: gated
            with: { label: after_gated, value: $.steps.gated.status }
          - id: open
            block: test.work
            if: { not: { path: $.params.go, equals: true } }
            with: { label: open }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(out.status("gated"), Status::Skipped);
    assert_eq!(out.reason("gated"), "its `if:` condition is false");
    assert_eq!(out.status("reads_gated"), Status::Skipped);
    assert_eq!(
        out.reason("reads_gated"),
        "it reads the output of step `gated`, which skipped"
    );
    assert_eq!(out.status("reads_reader"), Status::Skipped);
    assert!(
        out.reason("reads_reader").contains("`reads_gated`"),
        "{}",
        out.reason("reads_reader")
    );
    assert_eq!(out.status("after_gated"), Status::Succeeded);
    assert_eq!(out.output("after_gated")["value"], "skipped");
    assert_eq!(out.status("open"), Status::Succeeded);
    let mut called = probe.finished_labels();
    called.sort();
    assert_eq!(called, ["after_gated", "open"]);
    for id in ["gated", "reads_gated", "reads_reader"] {
        assert_eq!(out.step(id).attempts, 0, "{id}");
        assert_eq!(out.step(id).output, None, "{id}");
        assert!(out.records(id).is_empty(), "{id}");
    }
}
