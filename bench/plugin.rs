//! The cost of a plugin block over a built-in one (`cargo bench --bench plugin`): a 1,000-step chain of
//! `core.set` and the same chain of a plugin block that echoes its input, each step reading the previous
//! one's output, run through the engine with the plugin's one long-lived process. The figure is the
//! difference per call (target ≤ 100 µs): writing the request line, the plugin reading and answering it,
//! reading the answer, checking the output against the declared schema.
//!
//! The plugin is this executable: started by the plugin host (which sets `KEYFLOW_PLUGIN_PROTOCOL`), it
//! serves an echo block with the `keyflow-plugin` crate, as a plugin in Rust would.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use keyflow_engine::block::Registry;
use keyflow_engine::exec::report::Status;
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::plan::Plan;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use keyflow_plugin::{
    Block, BlockInfo, Call, ConnectorDescription, Effect, Failure, Plugin, Recovery,
};
use keyflow_plugin_host::{Graces, Host, Project};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

const STEPS: usize = 1_000;
const ROUNDS: usize = 7;

/// The echo block's input and output: what `core.set` is given in the built-in chain.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
struct Echo {
    /// Carried from step to step.
    v: serde_json::Value,
    /// The step's number.
    n: u64,
}

struct EchoBlock;
impl Block for EchoBlock {
    type Input = Echo;
    type Output = Echo;
    fn info(&self) -> BlockInfo {
        BlockInfo::new(
            "bench-echo.set",
            "Echo",
            "Answers its input.",
            Effect::Read,
            Recovery::Repeat,
        )
    }
    fn example_output(&self) -> Echo {
        Echo {
            v: serde_json::Value::Null,
            n: 0,
        }
    }
    fn call(&self, _call: &Call, input: Echo) -> Result<Echo, Failure> {
        Ok(input)
    }
}

/// `STEPS` steps of `block`, each reading the previous one's output.
fn chain_flow(block: &str, connection: &str) -> String {
    let mut yaml = format!(
        "name: chain\n{connection}steps:\n  - id: s0\n    block: {block}\n    with: {{ v: 0, n: 0 }}\n"
    );
    for i in 1..STEPS {
        let _ = write!(
            yaml,
            "  - id: s{i}\n    block: {block}\n    with: {{ v: $.steps.s{}.output.v, n: {i} }}\n",
            i - 1
        );
    }
    yaml
}

fn plan_of(yaml: String, registry: &Registry) -> Arc<Plan> {
    let source = SourceFile::new("bench.yaml", yaml);
    Arc::new(
        check(source.clone(), registry).unwrap_or_else(|diagnostics| {
            let rendered = keyflow_engine::diagnostic::render_all(&diagnostics, &source, false);
            panic!(
                "invalid bench flow:\n{}",
                &rendered[..rendered.len().min(3000)]
            )
        }),
    )
}

/// One run of `plan`: its wall time per step.
async fn per_step(plan: &Arc<Plan>) -> Duration {
    let params = plan.bind_params(&IndexMap::new()).expect("params");
    let started = Instant::now();
    let report = Executor::new(ExecOptions::default())
        .run(plan.clone(), params, CancellationToken::new())
        .await;
    let elapsed = started.elapsed();
    assert_eq!(report.status, Status::Succeeded, "{:?}", report.reason);
    assert_eq!(
        report.steps[STEPS - 1]
            .output
            .as_ref()
            .map(|o| o["n"].clone()),
        Some((STEPS - 1).into())
    );
    elapsed / STEPS as u32
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() -> std::io::Result<()> {
    if std::env::var_os("KEYFLOW_PLUGIN_PROTOCOL").is_some() {
        return Plugin::new(
            "bench-echo",
            "1.0.0",
            ConnectorDescription::new("bench-echo", "Echo", "Answers what it is given."),
        )
        .block(EchoBlock)
        .serve();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let project = Project::at(dir.path());
    let exe = std::env::current_exe()?;
    let record = runtime
        .block_on(keyflow_plugin_host::add::describe(&project, &exe))
        .map_err(std::io::Error::other)?;
    let host = Host::new(Graces::default());
    let registry = host
        .register(keyflow_blocks::registry(), &project, &[record])
        .map_err(std::io::Error::other)?;
    let built_in = plan_of(chain_flow("core.set", ""), &registry);
    let plugin = plan_of(
        chain_flow(
            "bench-echo.set",
            "connections:\n  echo: { connector: bench-echo }\n",
        ),
        &registry,
    );
    println!(
        "keyflow plugin benchmark: {STEPS}-step chains, {ROUNDS} rounds ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    // The first plugin run starts the process; it is not counted.
    runtime.block_on(per_step(&plugin));
    let (mut builtin_samples, mut plugin_samples, mut overheads) =
        (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Alternate which chain goes first, so that neither always runs on a warmer machine.
        let (b, p) = runtime.block_on(async {
            if round % 2 == 0 {
                let b = per_step(&built_in).await;
                (b, per_step(&plugin).await)
            } else {
                let p = per_step(&plugin).await;
                (per_step(&built_in).await, p)
            }
        });
        println!("  round {round}: core.set {b:>9.1?}/step, plugin {p:>9.1?}/step");
        builtin_samples.push(b);
        plugin_samples.push(p);
        overheads.push(p.saturating_sub(b));
    }
    runtime.block_on(host.shutdown());
    let overhead = median(overheads);
    let micros = overhead.as_secs_f64() * 1e6;
    println!(
        "\n{:<50} {:>9.1} µs {:>7} µs  {}",
        "plugin call overhead over a built-in block",
        micros,
        100,
        if micros <= 100.0 {
            format!("PASS ({:.2}x of target)", micros / 100.0)
        } else {
            "MISS <<<<<<<<<<".to_string()
        }
    );
    println!(
        "    median per step: core.set {:.1?}, plugin block {:.1?}; median of {ROUNDS} rounds' differences",
        median(builtin_samples),
        median(plugin_samples)
    );
    Ok(())
}
