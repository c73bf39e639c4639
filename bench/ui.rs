//! Benchmarks of the web UI, the release `keyflow serve` asked for its pages over loopback as a browser
//! asks (one kept-alive connection), printed as figures against their targets (`cargo bench --bench ui`):
//!
//! 1. the run page of a 1,000-step run (a `core.set` chain recorded by `keyflow run` into a SQLite store,
//!    its flow served so the graph is drawn): the whole response, median of [`SAMPLES`] (target ≤ 100 ms),
//!    with the page's `Server-Timing` parts (the store's answer, drawing the page);
//! 2. the runs list over 100,000 stored runs: `/ui/runs`, `?flow=flow-3` and `?status=failed`, median of
//!    [`SAMPLES`] each, the slowest of the three against the target (≤ 50 ms); on SQLite, and on
//!    PostgreSQL when `KEYFLOW_POSTGRES_URL` names a server or `scripts/postgres start` can start one.
//!
//! `cargo bench --bench ui -- run` (or `list`) runs one figure. A figure that misses its target is
//! reported loudly, but the bench still exits 0: it is a measurement, not a test.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/runs.rs"]
mod runs;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use keyflow_store::{ListFilter, Location, Store};

const KEYFLOW: &str = env!("CARGO_BIN_EXE_keyflow");
/// Requests timed per page, after [`WARM_UP`] untimed ones.
const SAMPLES: usize = 21;
const WARM_UP: usize = 3;
const STEPS: usize = 1_000;
const RUNS: usize = 100_000;

/// A `keyflow serve` started for a figure, stopped when dropped.
struct Daemon {
    child: Child,
    addr: String,
}

impl Daemon {
    /// Serves `flows` over `store` on a free loopback port; returns once its API listens.
    fn start(flows: &Path, store: &str) -> Daemon {
        let mut child = Command::new(KEYFLOW)
            .args(["serve", flows.to_str().unwrap(), "--store", store])
            .args(["--listen", "127.0.0.1:0"])
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some((_, rest)) = line.split_once("API at http://") {
                    let addr = rest.split(|c: char| c == ';' || c.is_whitespace()).next();
                    let _ = tx.send(addr.unwrap_or_default().to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the daemon says where it listens");
        Daemon { child, addr }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// One page's figure: the median whole response, and the medians of its `Server-Timing` parts.
struct Timed {
    median_ms: f64,
    store_ms: f64,
    render_ms: f64,
    bytes: usize,
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// `name;dur=X` of a `Server-Timing` value.
fn part(timing: &str, name: &str) -> f64 {
    timing
        .split(',')
        .find_map(|p| {
            p.trim()
                .strip_prefix(name)?
                .strip_prefix(";dur=")?
                .parse()
                .ok()
        })
        .unwrap_or(f64::NAN)
}

/// Asks for `path` [`WARM_UP`] + [`SAMPLES`] times over one connection.
fn time(runtime: &tokio::runtime::Runtime, daemon: &Daemon, path: &str) -> Timed {
    let client = reqwest::Client::new();
    let url = format!("http://{}{path}", daemon.addr);
    runtime.block_on(async {
        let (mut whole, mut store, mut render, mut bytes) = (vec![], vec![], vec![], 0);
        for n in 0..WARM_UP + SAMPLES {
            let started = Instant::now();
            let response = client.get(&url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{url}");
            let timing = response
                .headers()
                .get("server-timing")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let body = response.bytes().await.unwrap();
            let took = started.elapsed().as_secs_f64() * 1e3;
            if n >= WARM_UP {
                whole.push(took);
                store.push(part(&timing, "store"));
                render.push(part(&timing, "render"));
                bytes = body.len();
            }
        }
        Timed {
            median_ms: median(whole),
            store_ms: median(store),
            render_ms: median(render),
            bytes,
        }
    })
}

fn verdict(value: f64, target: f64) -> String {
    if value <= target {
        format!("ok ({:.2}x of target)", value / target)
    } else {
        "MISS <<<<<<<<<<".to_string()
    }
}

/// 1. The run page of a 1,000-step run.
fn run_page(runtime: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    let mut flow =
        String::from("name: chain\nsteps:\n  - id: s0\n    block: core.set\n    with: { n: 0 }\n");
    for i in 1..STEPS {
        let _ = write!(
            flow,
            "  - id: s{i}\n    block: core.set\n    with: {{ n: $.steps.s{}.output.n, label: \"step {i} of the chain\" }}\n",
            i - 1
        );
    }
    std::fs::write(flows.join("chain.yaml"), flow).unwrap();
    let store = dir.path().join("runs.db");
    let ran = Command::new(KEYFLOW)
        .args(["run", flows.join("chain.yaml").to_str().unwrap()])
        .args(["--store", store.to_str().unwrap(), "-q"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let id = runtime.block_on(async {
        let store = Store::open(&Location::Sqlite(store.clone())).await.unwrap();
        let runs = store.list(&ListFilter::default()).await.unwrap();
        store.close().await;
        runs[0].run_id.clone()
    });
    let daemon = Daemon::start(&flows, store.to_str().unwrap());
    let page = time(runtime, &daemon, &format!("/ui/runs/{id}"));
    println!(
        "run page, {STEPS}-step run, SQLite: median {:.1} ms (store {:.1} ms, render {:.1} ms; {} kB) — target ≤ 100 ms: {}",
        page.median_ms,
        page.store_ms,
        page.render_ms,
        page.bytes / 1_000,
        verdict(page.median_ms, 100.0)
    );
}

/// 2. The runs list over 100,000 runs, in the store `store` names (emptied first).
fn runs_list(runtime: &tokio::runtime::Runtime, location: &Location, store: &str, what: &str) {
    let started = Instant::now();
    runtime.block_on(async {
        let store = Store::open(location).await.unwrap();
        runs::fill(&store, RUNS).await;
        store.close().await;
    });
    let filled = started.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(dir.path(), store);
    let mut worst: f64 = 0.0;
    let mut details = Vec::new();
    for (name, path) in [
        ("newest 50", "/ui/runs"),
        ("flow", "/ui/runs?flow=flow-3"),
        ("failed", "/ui/runs?status=failed"),
    ] {
        let page = time(runtime, &daemon, path);
        worst = worst.max(page.median_ms);
        details.push(format!(
            "{name} {:.1} ms (store {:.1}, render {:.1})",
            page.median_ms, page.store_ms, page.render_ms
        ));
    }
    println!(
        "runs list over {RUNS} runs, {what}: slowest median {worst:.1} ms — target ≤ 50 ms: {}\n    {}; filling took {filled:.1?}",
        verdict(worst, 50.0),
        details.join(", ")
    );
}

/// A PostgreSQL server's URL: `KEYFLOW_POSTGRES_URL`, else one `scripts/postgres` starts (and whether
/// it did, to stop it after).
fn postgres_url() -> Option<(String, bool)> {
    if let Ok(url) = std::env::var("KEYFLOW_POSTGRES_URL") {
        return Some((url, false));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres");
    let out = Command::new(&script).arg("start").output().ok()?;
    if !out.status.success() {
        eprintln!(
            "PostgreSQL skipped: KEYFLOW_POSTGRES_URL is not set and scripts/postgres start failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Some((url, true))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    println!(
        "keyflow web UI benchmarks ({} cores; medians of {SAMPLES} requests over loopback)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if wanted("run") {
        run_page(&runtime);
    }
    if wanted("list") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.db");
        runs_list(
            &runtime,
            &Location::Sqlite(path.clone()),
            path.to_str().unwrap(),
            "SQLite",
        );
        if let Some((server, started)) = postgres_url() {
            let name = format!("kf_bench_ui_{}", std::process::id());
            let url = postgres::fresh_database(&runtime, &server, &name);
            runs_list(
                &runtime,
                &Location::Postgres(url.clone()),
                &url,
                "PostgreSQL",
            );
            if started {
                let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres");
                let _ = Command::new(script).arg("stop").status();
            }
        }
    }
}
