//! Benchmarks of the run store, printed as figures against their targets (`cargo bench --bench store`).
//!
//! 1. engine overhead per step on the 10,000-step `core.set` chain recording into a SQLite store
//!    (target ≤ 40 µs median; the same chain with no store, and with a store that keeps nothing, is
//!    measured beside it: the engine's own cost of making records is the difference of those two);
//! 2. the same into PostgreSQL on loopback, when `KEYFLOW_POSTGRES_URL` names a server (a fresh
//!    database is made on it);
//! 3. one durable record on its own (an intent), committed into SQLite: what every call that changes
//!    something pays before it goes out;
//! 4. `runs list` (the newest 20; by flow; by status) over a store holding 100,000 runs (target ≤ 50 ms).
//!
//! A figure that misses its target is reported loudly, but the bench still exits 0: it is a measurement,
//! not a test.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

#[path = "store/list.rs"]
mod list;
#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/runs.rs"]
mod runs;

use postgres::fresh_database;

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;

use keyflow_engine::block::Effect;
use keyflow_engine::exec::report::{RunReport, Status, StepReport};
use keyflow_engine::exec::store::{AttemptRecord, Intent, NoStore, RunStart, RunStore, StoreError};
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::plan::Plan;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use keyflow_store::{ListFilter, Location, Store};
use tokio_util::sync::CancellationToken;

const STEPS: usize = 10_000;

/// `steps` `core.set` steps, each reading the previous one (as `spine`'s chain).
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

fn plan_of(yaml: String) -> Plan {
    check(
        SourceFile::new("bench.yaml", yaml),
        &keyflow_blocks::registry(),
    )
    .unwrap_or_else(|_| panic!("invalid bench flow"))
}

/// Takes every record and keeps none: the executor makes its records (redacted inputs, attempts, step
/// lines) as for a real store, which [`NoStore`] spares it.
struct Discard;

/// What the engine's `#[async_trait]` methods return (written out: the bench does not depend on
/// `async-trait`).
type Done<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

fn done<'a>() -> Done<'a> {
    Box::pin(async { Ok(()) })
}

impl RunStore for Discard {
    fn begin_run<'s, 'r, 'a>(&'s self, _: &'r RunStart) -> Done<'a>
    where
        's: 'a,
        'r: 'a,
    {
        done()
    }
    fn record_intent<'s, 'r, 'a>(&'s self, _: &'r Intent) -> Done<'a>
    where
        's: 'a,
        'r: 'a,
    {
        done()
    }
    fn record_attempt<'s, 'r, 'a>(&'s self, _: &'r AttemptRecord) -> Done<'a>
    where
        's: 'a,
        'r: 'a,
    {
        done()
    }
    fn finish_step<'s, 'i, 'r, 'a>(&'s self, _: &'i str, _: &'r StepReport) -> Done<'a>
    where
        's: 'a,
        'i: 'a,
        'r: 'a,
    {
        done()
    }
    fn finish_run<'s, 'r, 'a>(&'s self, _: &'r RunReport) -> Done<'a>
    where
        's: 'a,
        'r: 'a,
    {
        done()
    }
}

fn median(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    (
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
    )
}

struct Figure {
    name: String,
    value: f64,
    unit: &'static str,
    target: Option<f64>,
    detail: String,
}

/// Per-step time of the chain recording into `store`, median of `rounds`.
fn chain_per_step(
    runtime: &tokio::runtime::Runtime,
    plan: &Arc<Plan>,
    store: Arc<dyn RunStore>,
    rounds: usize,
) -> (Duration, Duration, Duration) {
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let params = plan.bind_params(&IndexMap::new()).unwrap();
        let executor = Executor::new(ExecOptions::default()).with_store(store.clone());
        let started = Instant::now();
        let report = runtime.block_on(executor.run(plan.clone(), params, CancellationToken::new()));
        let elapsed = started.elapsed();
        assert_eq!(report.status, Status::Succeeded, "{:?}", report.reason);
        assert_eq!(report.steps.len(), STEPS);
        samples.push(elapsed / STEPS as u32);
    }
    median(samples)
}

fn chain_figures(runtime: &tokio::runtime::Runtime, postgres: Option<&str>) -> Vec<Figure> {
    let plan = Arc::new(plan_of(chain_flow(STEPS)));
    let mut figures = Vec::new();
    let (none, ..) = chain_per_step(runtime, &plan, Arc::new(NoStore), 5);
    let (discarded, ..) = chain_per_step(runtime, &plan, Arc::new(Discard), 5);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Location::Sqlite(dir.path().join("runs.db"));
    let store = Arc::new(runtime.block_on(Store::open(&sqlite)).unwrap());
    let (median, min, max) = chain_per_step(runtime, &plan, store.clone(), 5);
    let shown = runtime
        .block_on(
            store.show(
                &runtime
                    .block_on(store.list(&ListFilter::default()))
                    .unwrap()[0]
                    .run_id,
            ),
        )
        .unwrap();
    assert_eq!(shown.attempts.len(), STEPS, "every attempt is on record");
    figures.push(Figure {
        name: "engine overhead per step, SQLite store".into(),
        value: median.as_secs_f64() * 1e6,
        unit: "µs",
        target: Some(40.0),
        detail: format!(
            "10,000-step core.set chain, 5 runs; min {min:.1?}, max {max:.1?}; per step without a store {none:.1?}, \
             with a store that keeps nothing {discarded:.1?}"
        ),
    });
    if let Some(url) = postgres {
        let location = Location::Postgres(url.to_string());
        let store = Arc::new(runtime.block_on(Store::open(&location)).unwrap());
        let (median, min, max) = chain_per_step(runtime, &plan, store, 3);
        figures.push(Figure {
            name: "engine overhead per step, PostgreSQL store".into(),
            value: median.as_secs_f64() * 1e6,
            unit: "µs",
            target: None,
            detail: format!("same chain, 3 runs, server on loopback; min {min:.1?}, max {max:.1?}"),
        });
    }
    figures
}

/// Records on their own, 5,000 in a row into SQLite, without the engine around them: intents, each
/// committed before the next (what a call that changes something pays before it goes out), or step
/// rows of reads, handed over to wait for their batch (what a chain step pays twice, the batches'
/// writing included).
fn record_figure(runtime: &tokio::runtime::Runtime, durable: bool) -> Figure {
    const RECORDS: u32 = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let store = runtime
        .block_on(Store::open(&Location::Sqlite(dir.path().join("runs.db"))))
        .unwrap();
    let elapsed = runtime.block_on(async {
        let start = RunStart {
            run_id: "r".into(),
            parent: None,
            flow: "f".into(),
            source: "f.yaml".into(),
            params: serde_json::json!({}),
            started_at: "2026-12-01T00:00:00.000Z".into(),
            definitions: Default::default(),
            resumed: false,
        };
        store.begin_run(&start).await.unwrap();
        let started = Instant::now();
        for i in 0..RECORDS {
            if durable {
                let intent = Intent {
                    run_id: "r".into(),
                    step: format!("s{i}"),
                    item: None,
                    attempt: 1,
                    block: "aws-kms.create-key".into(),
                    effect: Effect::Create,
                    started_at: "2026-12-01T00:00:00.000Z".into(),
                    input: serde_json::json!({ "description": "cmk", "v": i }),
                };
                store.record_intent(&intent).await.unwrap();
            } else {
                let step = StepReport {
                    id: format!("s{i}"),
                    block: "core.set".into(),
                    status: Status::Succeeded,
                    attempts: 1,
                    duration_ms: 1,
                    output: Some(serde_json::json!({ "v": i })),
                    error: None,
                    reason: None,
                    items: None,
                    runs: None,
                    reused: false,
                };
                store.finish_step("r", &step).await.unwrap();
            }
        }
        // The last batch is part of the cost.
        store.flush().await.unwrap();
        started.elapsed()
    });
    let (name, detail) = if durable {
        (
            "one durable record committed, SQLite",
            "an intent, committed on its own before the next, 5,000 in a row (mean)",
        )
    } else {
        (
            "one read record handed over, SQLite",
            "a read step's row, waiting for its batch, 5,000 in a row (mean, the batches' writing included); a chain step hands over two",
        )
    };
    Figure {
        name: name.into(),
        value: (elapsed / RECORDS).as_secs_f64() * 1e6,
        unit: "µs",
        target: None,
        detail: detail.into(),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let postgres = std::env::var("KEYFLOW_POSTGRES_URL").ok();
    println!(
        "keyflow run store benchmarks ({} cores){}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if postgres.is_some() {
            ""
        } else {
            "; PostgreSQL skipped: KEYFLOW_POSTGRES_URL is not set"
        }
    );
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    let mut figures = Vec::new();
    let pid = std::process::id();
    if wanted("chain") {
        let url = postgres
            .as_ref()
            .map(|url| fresh_database(&runtime, url, &format!("kf_bench_chain_{pid}")));
        figures.extend(chain_figures(&runtime, url.as_deref()));
    }
    if wanted("record") {
        figures.push(record_figure(&runtime, true));
        figures.push(record_figure(&runtime, false));
    }
    if wanted("list") {
        let dir = tempfile::tempdir().unwrap();
        figures.push(list::list_figure(
            &runtime,
            &Location::Sqlite(dir.path().join("runs.db")),
            "SQLite",
        ));
        if let Some(url) = &postgres {
            let url = fresh_database(&runtime, url, &format!("kf_bench_list_{pid}"));
            figures.push(list::list_figure(
                &runtime,
                &Location::Postgres(url),
                "PostgreSQL",
            ));
        }
    }
    println!(
        "\n{:<52} {:>12} {:>10}  verdict",
        "figure", "median", "target"
    );
    let mut missed = 0;
    for figure in &figures {
        let verdict = match figure.target {
            Some(target) if figure.value <= target => {
                format!("PASS ({:.2}x of target)", figure.value / target)
            }
            Some(_) => {
                missed += 1;
                "MISS <<<<<<<<<<".to_string()
            }
            None => "(no target)".to_string(),
        };
        let target = figure.target.map_or("-".to_string(), |t| format!("{t}"));
        println!(
            "{:<52} {:>9.2} {:<2} {:>7} {:<2}  {verdict}",
            figure.name, figure.value, figure.unit, target, figure.unit
        );
        println!("    {}", figure.detail);
    }
    if missed > 0 {
        println!("\n{missed} figure(s) MISSED their target");
    }
}
