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

/// Flows that grow along one dimension each: steps, diagnostics, template blocks, paths in one string,
/// fields in one mapping, names. `n` is the size along it.
type Shape = (&'static str, fn(usize) -> String);

const SHAPES: &[Shape] = &[
    ("valid steps in a chain", |n| {
        let mut flow = String::from(
            "name: x\nparams:\n  p: { type: string, default: v }\nsteps:\n  - id: s0\n    block: core.noop\n",
        );
        for i in 1..n {
            flow += &format!(
                "  - id: s{i}\n    block: core.noop\n    after: [s{}]\n    if: {{ path: $.params.p, equals: \"{{{{params.p}}}}-{i}\" }}\n",
                i - 1
            );
        }
        flow
    }),
    ("unknown steps, one diagnostic each", |n| {
        let mut flow = String::from("name: x\nsteps:\n");
        for i in 0..n {
            flow += &format!("  - id: step_{i}\n    block: core.noop\n    after: [nope_{i}]\n");
        }
        flow
    }),
    ("helper blocks across strings", |n| {
        let mut flow = String::from(
            "name: x\nparams:\n  a: { type: boolean }\nsteps:\n  - id: s\n    block: core.noop\noutputs:\n",
        );
        for i in 0..n / 4 {
            flow += &format!(
                "  o{i}: \"{}\"\n",
                "{{#if params.a}}x{{else}}y{{/if}}".repeat(8)
            );
        }
        flow
    }),
    ("undeclared paths in one string", |n| {
        let paths: String = (0..n / 4)
            .map(|i| format!("{{{{params.p{i}}}}} "))
            .collect();
        format!("name: x\nsteps:\n  - id: s\n    block: core.noop\noutputs:\n  o: \"{paths}\"\n")
    }),
    ("diagnostics on one long line", |n| {
        // Each diagnostic shows a window of the line, not the whole line.
        let paths: String = (0..n).map(|i| format!("{{{{params.p{i:05}}}}}")).collect();
        format!("name: x\nsteps:\n  - id: s\n    block: core.noop\noutputs:\n  o: \"{paths}\"\n")
    }),
    ("the same path repeated in one string", |n| {
        let paths = "{{params.a}}".repeat(n);
        format!(
            "name: x\nparams:\n  a: {{ type: string }}\nsteps:\n  - id: s\n    block: core.noop\noutputs:\n  o: \"{paths}\"\n"
        )
    }),
    ("unknown inputs in one mapping", |n| {
        let fields: String = (0..n).map(|i| format!("      field_{i}: {i}\n")).collect();
        format!("name: x\nsteps:\n  - id: s\n    block: core.noop\n    with:\n{fields}")
    }),
    ("unknown fields of the flow format", |n| {
        let mut flow = String::from("name: x\nsteps:\n");
        for i in 0..n {
            flow += &format!("  - id: s{i}\n    block: core.noop\n    wiht_{i}: 1\n");
        }
        flow
    }),
    ("duplicate ids", |n| {
        let mut flow = String::from("name: x\nsteps:\n");
        for _ in 0..n {
            flow += "  - id: same\n    block: core.noop\n";
        }
        flow
    }),
    ("flow collections nested", |n| {
        format!("name: x\nsteps: {}{}\n", "[".repeat(n), "]".repeat(n))
    }),
];

/// The checker's work on `text`: reading, checking and rendering what it finds.
fn work(text: &str) -> u64 {
    let source = SourceFile::new("linear.yaml", text);
    let registry = registry(Arc::default());
    let (_, units) = keyflow_engine::source::work::measure(|| {
        if let Err(found) = check(source.clone(), &registry) {
            render_all(&found, &source, false);
        }
    });
    units
}

/// A flow twice as large costs at most about twice the work, along every dimension, at two scales.
#[test]
fn validate_is_linear_in_every_dimension() {
    for (shape, flow) in SHAPES {
        for n in [200, 800] {
            let (small, large) = (work(&flow(n)), work(&flow(2 * n)));
            assert!(small > 0, "{shape}: no work counted");
            let ratio = large as f64 / small as f64;
            assert!(
                ratio <= 2.25,
                "{shape}: {n} -> {small} units, {} -> {large} units (x{ratio:.2})",
                2 * n
            );
        }
    }
}

/// 4,000 diagnostics on one 68 KB line print a window of it each: under 500 bytes a diagnostic, where
/// printing the whole line every time made 270 MB.
#[test]
fn many_diagnostics_on_one_long_line_print_a_window_each() {
    let n = 4_000;
    let paths: String = (0..n).map(|i| format!("{{{{params.p{i:05}}}}}")).collect();
    let source = SourceFile::new(
        "long.yaml",
        format!("name: x\nsteps:\n  - id: s\n    block: core.noop\noutputs:\n  o: \"{paths}\"\n"),
    );
    let found = check(source.clone(), &registry(Arc::default())).expect_err("undeclared");
    assert_eq!(found.len(), n);
    let printed = render_all(&found, &source, false);
    println!("{} bytes printed", printed.len());
    assert!(printed.len() < n * 500, "{} bytes printed", printed.len());
    let last = printed.rsplit("\n\n").next().unwrap_or_default();
    assert!(last.contains("long.yaml:6:67992"), "{last}");
    assert!(last.contains("6 | …03995}}{{params.p03996}}"), "{last}");
}
