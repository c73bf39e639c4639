//! Validate throughput (`cargo bench --bench validate`): how large a flow `keyflow validate` reads, checks
//! and reports on per second, for a realistic flow and for the pathological shapes of issue 22 (item 14),
//! each generated at about 1 MB.
//!
//! Each figure is the median of 5 runs of load + check + rendering every diagnostic, in this process with
//! the real block registry. It is a measurement, not a test: `engine/tests/hostile.rs` is what keeps the
//! checker linear (by counting work, not time).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use keyflow_engine::diagnostic::render_all;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;

/// About how large each generated flow is.
const TARGET_BYTES: usize = 1 << 20;

/// A valid flow of `core.set` steps reading earlier steps through references, templates and conditions.
fn realistic(steps: usize) -> String {
    let mut flow = String::from(
        "name: generated\nparams:\n  tenant: { type: string, default: t-1 }\nsteps:\n  - id: s0\n    block: core.set\n    with: { v: 0, name: \"tenant-{{params.tenant}}\" }\n",
    );
    for i in 1..steps {
        let (last, far) = (i - 1, i / 2);
        flow += &format!(
            "  - id: s{i}\n    block: core.set\n    if: {{ path: $.steps.s{far}.output.v, exists: true }}\n    with:\n      v: $.steps.s{last}.output.v\n      name: \"{{{{steps.s{far}.output.name}}}}-{{{{params.tenant}}}}-{i}\"\n      note: \"{{{{#if params.tenant}}}}tenant {{{{params.tenant}}}}{{{{else}}}}none{{{{/if}}}}\"\n"
        );
    }
    flow
}

fn unknown_steps(steps: usize) -> String {
    let mut flow = String::from("name: x\nsteps:\n");
    for i in 0..steps {
        flow += &format!(
            "  - id: step_{i}\n    block: core.log\n    with:\n      message: $.steps.nope_{i}.output\n"
        );
    }
    flow
}

fn one_string(body: &str) -> String {
    format!(
        "name: x\nparams:\n  a: {{ type: string, default: x }}\nsteps:\n  - id: s\n    block: core.log\n    with:\n      message: \"{body}\"\n"
    )
}

/// Repeats `unit` until the flow `wrap` makes of it is about [`TARGET_BYTES`].
fn sized(unit: &str, wrap: fn(&str) -> String) -> String {
    wrap(&unit.repeat(TARGET_BYTES / unit.len()))
}

/// The number of items of about `bytes_each` that make a flow of about [`TARGET_BYTES`].
fn count(bytes_each: usize) -> usize {
    TARGET_BYTES / bytes_each
}

fn validate(text: &str) -> usize {
    let source = SourceFile::new("bench.yaml", text);
    match check(source.clone(), &keyflow_blocks::registry()) {
        Ok(_) => 0,
        Err(found) => {
            let rendered = render_all(&found, &source, false);
            std::hint::black_box(rendered.len());
            found.len()
        }
    }
}

fn main() {
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let shapes: Vec<(&str, String)> = vec![
        ("valid flow of core.set steps", realistic(count(330))),
        ("unknown-step errors", unknown_steps(count(85))),
        (
            "plain {{a}} references in one string",
            sized("{{a}}", one_string),
        ),
        (
            "{{params.a}} references in one string",
            sized("{{params.a}}", one_string),
        ),
        (
            "{{#if}} blocks in one string",
            sized("{{#if params.a}}x{{/if}}", one_string),
        ),
        ("nested {{#if}} blocks", {
            let depth = TARGET_BYTES / 24;
            one_string(&format!(
                "{}x{}",
                "{{#if params.a}}".repeat(depth),
                "{{/if}}".repeat(depth)
            ))
        }),
        ("nested flow sequences", {
            let depth = TARGET_BYTES / 2;
            format!(
                "name: x\nsteps: {}{}\n",
                "[".repeat(depth),
                "]".repeat(depth)
            )
        }),
    ];
    println!("validate throughput: load + check + render, median of 5 runs, release build\n");
    println!(
        "{:<40} {:>9} {:>12} {:>10} {:>12}",
        "flow", "size", "diagnostics", "median", "MB/s"
    );
    for (name, text) in shapes {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let mut times: Vec<Duration> = Vec::new();
        let mut found = 0;
        for _ in 0..5 {
            let start = Instant::now();
            found = validate(&text);
            times.push(start.elapsed());
        }
        times.sort();
        let median = times[times.len() / 2];
        let mb = text.len() as f64 / 1e6;
        println!(
            "{name:<40} {:>7.2}MB {found:>12} {:>8.1}ms {:>12.1}",
            mb,
            median.as_secs_f64() * 1e3,
            mb / median.as_secs_f64()
        );
    }
}
