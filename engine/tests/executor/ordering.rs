//! 1. Ordering.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_step_waits_for_what_it_references_and_its_after_steps_and_independent_steps_overlap() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: order
        steps:
          - id: a
            block: test.work
            with: { label: a, ms: 100 }
          - id: b
            block: test.work
            with: { label: b, ms: 300 }
          - id: by_ref_and_after
            block: test.work
            after: b
            with: { label: by_ref_and_after, value: $.steps.a.output.label }
          - id: by_template
            block: test.work
            with: { label: by_template, ms: 50, value: "from {{steps.a.output.label}}" }
          - id: by_condition
            block: test.work
            if: { path: $.steps.b.output.label, equals: b }
            with: { label: by_condition }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    let (a, b) = (probe.span("a"), probe.span("b"));
    let by_ref = probe.span("by_ref_and_after");
    let by_template = probe.span("by_template");
    let by_condition = probe.span("by_condition");
    // Independent steps run at the same time.
    assert!(
        a.start < b.end && b.start < a.end,
        "a and b did not overlap: {a:?} {b:?}"
    );
    // A reference and `after:` both count.
    assert!(
        by_ref.start >= a.end && by_ref.start >= b.end,
        "{by_ref:?} started before a or b ended"
    );
    // A template reference counts, and only it: the step does not wait for b.
    assert!(
        by_template.start >= a.end,
        "{by_template:?} started before a ended"
    );
    assert!(
        by_template.start < b.end,
        "{by_template:?} waited for b, which it does not reference"
    );
    // A condition's reference counts too (and the condition held).
    assert!(
        by_condition.start >= b.end,
        "{by_condition:?} started before b ended"
    );
    assert_eq!(out.status("by_condition"), Status::Succeeded);
    assert_eq!(out.output("by_ref_and_after")["value"], "a");
    assert_eq!(out.output("by_template")["value"], "from a");
    // Nothing waited more than it had to: b (300ms) then the last step, with no idle gap.
    assert_eq!(out.took, ms(300));
}
