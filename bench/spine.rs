//! Benchmarks of the engine spine, printed as figures against their targets (`cargo bench --bench spine`).
//!
//! 1. validate + plan of a generated 1,000-step flow (target ≤ 50 ms, median);
//! 2. engine overhead per step on a 10,000-step chain of `core.set` (target ≤ 20 µs, median of runs);
//! 3. peak memory of a 10,000-item `for_each` (target ≤ 64 MB), measured in a child process of its own.
//!
//! A figure that misses its target is reported loudly, but the bench still exits 0: it is a measurement,
//! not a test.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use keyflow_engine::exec::report::Status;
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::plan::Plan;
use keyflow_engine::plan::preview::preview;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use tokio_util::sync::CancellationToken;

const CHILD: &str = "KEYFLOW_BENCH_CHILD";

/// A 1,000-step flow mixing what real flows hold: references to earlier steps, templates, conditions,
/// `after:`, `for_each` over a parameter and over an earlier step's output.
fn wide_flow(steps: usize) -> String {
    let mut yaml = String::from(
        "name: generated\nparams:\n  tenant: { type: string, default: t-1 }\n  regions: { type: array, default: [eu-west-1, eu-west-3] }\n  loud: { type: boolean, default: false }\nsteps:\n  - id: s0\n    block: core.set\n    with: { v: 0, name: \"tenant-{{params.tenant}}\" }\n",
    );
    // Plain `core.set` steps with `v` and `name`, which later steps read.
    let mut sets = vec![0usize];
    let mut fan_out = None;
    for i in 1..steps {
        let last = *sets.last().unwrap_or(&0);
        let far = sets[sets.len() / 2];
        let step = match i % 5 {
            0 => format!(
                "  - id: s{i}\n    block: core.set\n    with:\n      v: $.steps.s{last}.output.v\n      name: \"{{{{steps.s{far}.output.name}}}}-{i}\"\n"
            ),
            1 => {
                fan_out = Some(i);
                format!(
                    "  - id: s{i}\n    block: core.set\n    for_each: $.params.regions\n    concurrency: 2\n    with:\n      v: $.steps.s{last}.output.v\n      region: $.item\n      label: \"{{{{item}}}}-{i}\"\n"
                )
            }
            2 => format!(
                "  - id: s{i}\n    block: core.set\n    after: [s{far}]\n    with:\n      v: $.steps.s{far}.output.v\n      name: $.steps.s{far}.output.name\n"
            ),
            3 => format!(
                "  - id: s{i}\n    block: core.log\n    if: {{ path: $.params.loud, equals: true }}\n    with:\n      message: \"step {i} of {{{{params.tenant}}}}\"\n"
            ),
            _ => format!(
                "  - id: s{i}\n    block: core.set\n    with:\n      v: $.steps.s{last}.output.v\n      name: \"{{{{params.tenant}}}}\"\n      regions: $.steps.s{}.output[*].region\n",
                fan_out.unwrap_or(1)
            ),
        };
        if matches!(i % 5, 0 | 2 | 4) {
            sets.push(i);
        }
        yaml.push_str(&step);
    }
    yaml
}

/// `steps` `core.set` steps, each reading the previous one.
fn chain_flow(steps: usize) -> String {
    let mut yaml = String::from(
        "name: chain\nsteps:\n  - id: s0\n    block: core.set\n    with: { v: 0, n: 0 }\n",
    );
    for i in 1..steps {
        let _ = write!(
            yaml,
            "  - id: s{i}\n    block: core.set\n    with: {{ v: $.steps.s{}.output.v, n: {i} }}\n",
            i - 1
        );
    }
    yaml
}

/// One `core.set` over `items` small objects.
fn fan_out_flow() -> String {
    "name: fan-out\nparams:\n  tenants: { type: array }\nsteps:\n  - id: each\n    block: core.set\n    for_each: $.params.tenants\n    concurrency: 64\n    with:\n      tenant: $.item.id\n      alias: \"alias/qlik-{{item.id}}\"\n      region: $.item.region\n      position: $.index\n"
        .to_string()
}

fn plan_of(yaml: String) -> Plan {
    let source = SourceFile::new("bench.yaml", yaml);
    check(source.clone(), &keyflow_blocks::registry()).unwrap_or_else(|diagnostics| {
        let rendered = keyflow_engine::diagnostic::render_all(&diagnostics, &source, false);
        panic!(
            "invalid bench flow ({} problems):\n{}",
            diagnostics.len(),
            &rendered[..rendered.len().min(3000)]
        )
    })
}

fn median(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    (
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

struct Figure {
    name: &'static str,
    value: f64,
    unit: &'static str,
    target: f64,
    detail: String,
}

fn validate_and_plan() -> Figure {
    let yaml = wide_flow(1_000);
    let mut samples = Vec::new();
    let mut steps = 0;
    for _ in 0..15 {
        let started = Instant::now();
        let plan = plan_of(yaml.clone());
        let params = plan.bind_params(&IndexMap::new()).expect("params");
        let previews = preview(&plan, &params);
        samples.push(started.elapsed());
        steps = previews.len();
    }
    let (median, min, max) = median(samples);
    Figure {
        name: "validate + plan, 1,000-step flow",
        value: median.as_secs_f64() * 1e3,
        unit: "ms",
        target: 50.0,
        detail: format!(
            "{steps} steps, {} KB of YAML; min {min:.1?}, max {max:.1?}, 15 runs",
            yaml.len() / 1024
        ),
    }
}

fn chain_overhead() -> Figure {
    const STEPS: usize = 10_000;
    let plan = Arc::new(plan_of(chain_flow(STEPS)));
    let runtime = runtime();
    let mut samples = Vec::new();
    for _ in 0..7 {
        let params = plan.bind_params(&IndexMap::new()).expect("params");
        let executor = Executor::new(ExecOptions::default());
        let started = Instant::now();
        let report = runtime.block_on(executor.run(plan.clone(), params, CancellationToken::new()));
        let elapsed = started.elapsed();
        assert_eq!(report.status, Status::Succeeded);
        assert_eq!(
            report
                .steps
                .iter()
                .filter(|s| s.status == Status::Succeeded)
                .count(),
            STEPS
        );
        assert_eq!(
            report.steps[STEPS - 1]
                .output
                .as_ref()
                .map(|o| o["n"].clone()),
            Some((STEPS - 1).into())
        );
        samples.push(elapsed / STEPS as u32);
    }
    let (median, min, max) = median(samples);
    Figure {
        name: "engine overhead per step, 10,000-step chain",
        value: median.as_secs_f64() * 1e6,
        unit: "µs",
        target: 20.0,
        detail: format!("core.set chain, 7 runs; min {min:.1?}, max {max:.1?} per step"),
    }
}

/// In the child: runs the fan-out and prints `peak_kb run_ms`.
fn fan_out_child(items: usize) {
    let plan = Arc::new(plan_of(fan_out_flow()));
    let tenants: Vec<serde_json::Value> = (0..items)
        .map(|i| serde_json::json!({ "id": format!("tenant-{i:05}"), "region": if i % 2 == 0 { "eu-west-1" } else { "us-east-1" } }))
        .collect();
    let given = IndexMap::from([(
        "tenants".to_string(),
        keyflow_engine::plan::ParamValue::Json(tenants.into()),
    )]);
    let params = plan.bind_params(&given).expect("params");
    let started = Instant::now();
    let report = runtime().block_on(Executor::new(ExecOptions::default()).run(
        plan,
        params,
        CancellationToken::new(),
    ));
    let elapsed = started.elapsed();
    assert_eq!(report.status, Status::Succeeded);
    assert_eq!(report.steps[0].items, Some(items));
    let output = report.steps[0]
        .output
        .as_ref()
        .and_then(|o| o.as_array())
        .map_or(0, Vec::len);
    assert_eq!(output, items);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    println!("{peak_kb} {}", elapsed.as_millis());
}

fn fan_out_memory() -> Figure {
    const ITEMS: usize = 10_000;
    let output = std::process::Command::new(std::env::current_exe().expect("bench binary"))
        .env(CHILD, ITEMS.to_string())
        .output()
        .expect("run the child");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace();
    let peak_kb: f64 = fields
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    let run_ms = fields.next().unwrap_or("?").to_string();
    Figure {
        name: "peak memory, 10,000-item for_each",
        value: peak_kb / 1024.0,
        unit: "MB",
        target: 64.0,
        detail: format!(
            "peak RSS of a process that only runs it (VmHWM); the run took {run_ms} ms"
        ),
    }
}

fn main() {
    if let Ok(items) = std::env::var(CHILD) {
        fan_out_child(items.parse().expect("item count"));
        return;
    }
    // `cargo bench` passes `--bench`; any other argument selects nothing special.
    println!(
        "keyflow engine spine benchmarks ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    // `cargo bench --bench spine -- validate` (or `chain`, `memory`) runs one figure.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    let mut figures = Vec::new();
    if wanted("validate") {
        figures.push(validate_and_plan());
    }
    if wanted("chain") {
        figures.push(chain_overhead());
    }
    if wanted("memory") {
        figures.push(fan_out_memory());
    }
    println!(
        "\n{:<46} {:>12} {:>10}  verdict",
        "figure", "median", "target"
    );
    let mut missed = 0;
    for figure in &figures {
        let ok = figure.value <= figure.target;
        missed += usize::from(!ok);
        println!(
            "{:<46} {:>9.2} {:<2} {:>7} {:<2}  {}",
            figure.name,
            figure.value,
            figure.unit,
            figure.target,
            figure.unit,
            if ok {
                format!("PASS ({:.2}x of target)", figure.value / figure.target)
            } else {
                "MISS <<<<<<<<<<".to_string()
            }
        );
        println!("    {}", figure.detail);
    }
    if missed > 0 {
        println!("\n{missed} figure(s) MISSED their target");
    }
}
