//! Benchmarks of `keyflow serve`, the release binary as operators run it, printed as figures against their
//! targets (`cargo bench --bench serve`):
//!
//! 1. delay from a firing's due time to its run's first step starting, on an idle daemon with a SQLite
//!    store (target median ≤ 10 ms);
//! 2. CPU of an idle daemon holding 1,000 triggers (100 flows of 10), over 30 s (target ≤ 1 % of a core);
//! 3. firings per second completed by one and by two daemons on PostgreSQL for a 3-step `core` flow, 300
//!    firings due at once, when `KEYFLOW_POSTGRES_URL` names a server (a fresh database each).
//!
//! A figure that misses its target is reported loudly, but the bench still exits 0: it is a measurement,
//! not a test.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Timelike, Utc};
use keyflow_store::{ListFilter, Location, Store};

#[path = "support/postgres.rs"]
mod postgres;

use postgres::fresh_database;

const KEYFLOW: &str = env!("CARGO_BIN_EXE_keyflow");

struct Daemon {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    fn start(flows: &Path, store: &str, extra: &[&str]) -> Daemon {
        let mut child = Command::new(KEYFLOW)
            .args(["serve", flows.to_str().unwrap(), "--store", store])
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Daemon { child, lines }
    }

    fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    fn wait_for(&self, needle: &str, n: usize) {
        let start = Instant::now();
        while self.count(needle) < n {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "waiting for {n} × {needle}:\n{}",
                self.lines.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// CPU time used so far (user + system), from /proc.
    fn cpu(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        let hz = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(100);
        Some(Duration::from_millis(ticks * 1000 / hz))
    }
}

fn once_at(at: DateTime<Utc>) -> String {
    format!(
        "{} {} {} {} {} *",
        at.second(),
        at.minute(),
        at.hour(),
        at.day(),
        at.month()
    )
}

const STEPS: &str = "steps:\n  - id: a\n    block: core.set\n    with: { n: 1 }\n  - id: b\n    block: core.set\n    with: { n: $.steps.a.output.n }\n  - id: c\n    block: core.set\n    with: { n: $.steps.b.output.n }\n";

fn median(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
    )
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets" } else { "MISSES" }
}

/// 1. Due time → first step.
fn delay(runtime: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    std::fs::write(
        flows.join("tick.yaml"),
        format!("name: tick\ntriggers:\n  - {{ id: s, cron: \"* * * * * *\" }}\n{STEPS}"),
    )
    .unwrap();
    let store = dir.path().join("runs.db");
    let daemon = Daemon::start(&flows, store.to_str().unwrap(), &["-q"]);
    // -q: no per-run lines; wait by the clock. 2 s to start, then 30 firings.
    std::thread::sleep(Duration::from_secs(33));
    daemon.stop();
    let store = runtime
        .block_on(Store::open(&Location::Sqlite(store)))
        .unwrap();
    let firings = runtime
        .block_on(store.firings(Some("tick"), 1_000))
        .unwrap();
    let mut delays = Vec::new();
    for firing in firings.iter().rev().skip(2) {
        let Ok(run) = runtime.block_on(store.show(&firing.run_id)) else {
            continue;
        };
        let Some(first) = run.attempts.first() else {
            continue;
        };
        let started = DateTime::parse_from_rfc3339(&first.started_at).unwrap();
        delays.push((started.timestamp_micros() - firing.fire_ms * 1_000) as f64 / 1_000.0);
    }
    runtime.block_on(store.close());
    let (median, min, max) = median(delays.clone());
    println!(
        "due time → first step, idle daemon, SQLite: median {median:.1} ms (min {min:.1}, max {max:.1}, n = {}) — target ≤ 10 ms: {}",
        delays.len(),
        verdict(median <= 10.0)
    );
}

/// 2. CPU of an idle daemon with 1,000 triggers.
fn idle() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    for f in 0..100 {
        let mut text = format!("name: flow{f}\ntriggers:\n");
        for t in 0..10 {
            // Once a year, at a time that is not now.
            let _ = writeln!(
                text,
                "  - {{ id: t{t}, cron: \"{t} 3 1 1 *\", timezone: Europe/Berlin }}"
            );
        }
        text.push_str(STEPS);
        std::fs::write(flows.join(format!("flow{f}.yaml")), text).unwrap();
    }
    let store = dir.path().join("runs.db");
    let daemon = Daemon::start(&flows, store.to_str().unwrap(), &[]);
    daemon.wait_for("serving flow", 100);
    std::thread::sleep(Duration::from_secs(3));
    let window = Duration::from_secs(30);
    let before = daemon.cpu();
    std::thread::sleep(window);
    let after = daemon.cpu();
    daemon.stop();
    match (before, after) {
        (Some(before), Some(after)) => {
            let share = (after - before).as_secs_f64() / window.as_secs_f64() * 100.0;
            println!(
                "idle daemon with 1,000 triggers: {share:.2} % of a core over {}s — target ≤ 1 %: {}",
                window.as_secs(),
                verdict(share <= 1.0)
            );
        }
        _ => println!("idle daemon CPU: not measured (no /proc)"),
    }
}

/// 3. Firings per second on PostgreSQL, with `workers` daemons.
fn throughput(runtime: &tokio::runtime::Runtime, url: &str, workers: usize) {
    const N: usize = 300;
    let name = format!("kf_bench_serve_{}_{workers}", std::process::id());
    let db = fresh_database(runtime, url, &name);
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    let at = Utc::now() + chrono::TimeDelta::seconds(8);
    let mut text = String::from("name: fan\ntriggers:\n");
    for i in 0..N {
        let _ = writeln!(text, "  - {{ id: t{i}, cron: \"{}\" }}", once_at(at));
    }
    text.push_str(STEPS);
    std::fs::write(flows.join("fan.yaml"), text).unwrap();
    let daemons: Vec<Daemon> = (0..workers)
        .map(|_| Daemon::start(&flows, &db, &[]))
        .collect();
    let mut done = 0;
    for daemon in &daemons {
        daemon.wait_for("serving flow `fan`", 1);
    }
    let start = Instant::now();
    while done < N && start.elapsed() < Duration::from_secs(180) {
        done = daemons.iter().map(|d| d.count("of `fan` succeeded")).sum();
        std::thread::sleep(Duration::from_millis(20));
    }
    for daemon in daemons {
        daemon.stop();
    }
    let store = runtime
        .block_on(Store::open(&Location::Postgres(db)))
        .unwrap();
    let runs = runtime
        .block_on(store.list(&ListFilter {
            flow: Some("fan".into()),
            limit: Some(10_000),
            ..ListFilter::default()
        }))
        .unwrap();
    runtime.block_on(store.close());
    let end = runs
        .iter()
        .map(|r| {
            DateTime::parse_from_rfc3339(&r.started_at)
                .unwrap()
                .timestamp_millis()
                + r.duration_ms.unwrap_or(0) as i64
        })
        .max()
        .unwrap_or(0);
    let seconds = (end - at.timestamp_millis()) as f64 / 1_000.0;
    println!(
        "{workers} daemon{} on PostgreSQL: {} runs of a 3-step core flow due at once in {seconds:.2} s: {:.0} firings/s",
        if workers == 1 { "" } else { "s" },
        runs.len(),
        runs.len() as f64 / seconds
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    delay(&runtime);
    idle();
    match std::env::var("KEYFLOW_POSTGRES_URL") {
        Ok(url) => {
            throughput(&runtime, &url, 1);
            throughput(&runtime, &url, 2);
        }
        Err(_) => println!("firings per second: skipped (KEYFLOW_POSTGRES_URL is not set)"),
    }
}
