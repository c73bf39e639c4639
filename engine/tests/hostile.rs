//! Hostile and pathological flows: the checker refuses what would not run, says where, and takes time in
//! proportion to the size of what it reads.

use std::sync::Arc;

use indexmap::IndexMap;
use keyflow_engine::diagnostic::render_all;
use keyflow_engine::exec::report::Status;
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::expr::template::limits::MAX_NESTING;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use tokio_util::sync::CancellationToken;

mod common;
use common::service::registry;

/// A flow whose one output is `template`.
fn with_output(template: &str) -> Arc<SourceFile> {
    SourceFile::new(
        "hostile.yaml",
        format!(
            "name: x\nparams:\n  a: {{ type: boolean, default: true }}\nsteps:\n  - id: s\n    block: core.noop\noutputs:\n  out: \"{template}\"\n"
        ),
    )
}

/// The rendered diagnostics of a flow, or `None` when it is valid.
fn errors(source: &Arc<SourceFile>) -> Option<String> {
    check(source.clone(), &registry(Arc::default()))
        .err()
        .map(|d| render_all(&d, source, false))
}

fn nested_ifs(depth: usize) -> String {
    format!(
        "{}deep{}",
        "{{#if params.a}}".repeat(depth),
        "{{/if}}".repeat(depth)
    )
}

#[test]
fn blocks_nested_beyond_the_limit_are_refused_at_the_template() {
    for depth in [MAX_NESTING + 1, 2_000, 5_000] {
        let found = errors(&with_output(&nested_ifs(depth))).expect("too deep");
        assert!(
            found.starts_with("error[invalid-template]: invalid template: blocks or subexpressions nested more than 32 deep"),
            "{found}"
        );
        // The caret is under the block that goes one level too deep.
        assert!(
            found.contains(&format!("hostile.yaml:8:{}", 9 + 16 * MAX_NESTING)),
            "{found}"
        );
    }
}

#[tokio::test]
async fn the_deepest_nesting_the_checker_accepts_runs() {
    let source = with_output(&nested_ifs(MAX_NESTING));
    let plan = check(source.clone(), &registry(Arc::default()))
        .unwrap_or_else(|d| panic!("{}", render_all(&d, &source, false)));
    let params = plan.bind_params(&IndexMap::new()).expect("params");
    let report = Executor::new(ExecOptions::default())
        .run(Arc::new(plan), params, CancellationToken::new())
        .await;
    assert_eq!(report.status, Status::Succeeded);
    assert_eq!(report.outputs["out"], "deep");
}
