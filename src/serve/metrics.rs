//! The daemon's counters, served at `/metrics` in Prometheus' text format: runs by flow and status,
//! step durations by flow and block (a histogram), firings by flow, trigger and outcome, missed fire
//! times, throttled calls, runs under way and firings waiting.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use keyflow_engine::exec::events::{RunEvent, RunObserver};
use keyflow_engine::exec::report::RunReport;
use keyflow_store::FiringStatus;

/// The upper bounds of the step duration histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// Error codes that mean the service throttled a call.
const THROTTLED: [&str; 4] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequests",
    "RateLimited",
];

#[derive(Default)]
pub struct Metrics {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    runs: BTreeMap<(String, String), u64>,
    firings: BTreeMap<(String, String, &'static str), u64>,
    missed: BTreeMap<(String, String), u64>,
    throttled: BTreeMap<(String, String), u64>,
    steps: BTreeMap<(String, String), Histogram>,
}

#[derive(Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, n) in BUCKETS.iter().zip(self.buckets.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// A firing recorded: started (`pending`), queued or skipped.
    pub fn firing(&self, flow: &str, trigger: Option<&str>, status: FiringStatus) {
        let trigger = trigger.unwrap_or("").to_string();
        self.with(|m| {
            *m.firings
                .entry((flow.to_string(), trigger, status.name()))
                .or_default() += 1;
        });
    }

    /// Fire times missed while no daemon ran the trigger, that its catch-up policy did not run.
    pub fn missed(&self, flow: &str, trigger: &str, n: u64) {
        self.with(|m| *m.missed.entry((flow.into(), trigger.into())).or_default() += n);
    }

    /// A run ended.
    pub fn run_ended(&self, report: &RunReport) {
        self.with(|m| {
            *m.runs
                .entry((report.flow.clone(), report.status.name().to_string()))
                .or_default() += 1;
        });
    }

    /// What counts a run's steps and throttled calls as they happen.
    pub fn observer(&self, flow: &str) -> Arc<dyn RunObserver> {
        Arc::new(Observer {
            flow: flow.to_string(),
            inner: self.inner.clone(),
        })
    }

    /// The text `/metrics` serves, with the gauges read now.
    pub fn render(&self, running: usize, waiting: u64) -> String {
        let m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        let label = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        };
        let _ = writeln!(
            out,
            "# HELP keyflow_runs_total Runs ended, by flow and status."
        );
        let _ = writeln!(out, "# TYPE keyflow_runs_total counter");
        for ((flow, status), n) in &m.runs {
            let _ = writeln!(
                out,
                "keyflow_runs_total{{flow=\"{}\",status=\"{status}\"}} {n}",
                label(flow)
            );
        }
        let _ = writeln!(
            out,
            "# HELP keyflow_firings_total Firings recorded, by flow, trigger and outcome (pending: started)."
        );
        let _ = writeln!(out, "# TYPE keyflow_firings_total counter");
        for ((flow, trigger, status), n) in &m.firings {
            let _ = writeln!(
                out,
                "keyflow_firings_total{{flow=\"{}\",trigger=\"{}\",status=\"{status}\"}} {n}",
                label(flow),
                label(trigger)
            );
        }
        let _ = writeln!(
            out,
            "# HELP keyflow_firings_missed_total Fire times missed while no daemon ran the trigger and not caught up."
        );
        let _ = writeln!(out, "# TYPE keyflow_firings_missed_total counter");
        for ((flow, trigger), n) in &m.missed {
            let _ = writeln!(
                out,
                "keyflow_firings_missed_total{{flow=\"{}\",trigger=\"{}\"}} {n}",
                label(flow),
                label(trigger)
            );
        }
        let _ = writeln!(
            out,
            "# HELP keyflow_throttled_calls_total Calls a service throttled (retried), by flow and block."
        );
        let _ = writeln!(out, "# TYPE keyflow_throttled_calls_total counter");
        for ((flow, block), n) in &m.throttled {
            let _ = writeln!(
                out,
                "keyflow_throttled_calls_total{{flow=\"{}\",block=\"{}\"}} {n}",
                label(flow),
                label(block)
            );
        }
        let _ = writeln!(
            out,
            "# HELP keyflow_step_duration_seconds Step durations, by flow and block."
        );
        let _ = writeln!(out, "# TYPE keyflow_step_duration_seconds histogram");
        for ((flow, block), h) in &m.steps {
            let labels = format!("flow=\"{}\",block=\"{}\"", label(flow), label(block));
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "keyflow_step_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "keyflow_step_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "keyflow_step_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "keyflow_step_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP keyflow_runs_running Runs under way in this daemon."
        );
        let _ = writeln!(out, "# TYPE keyflow_runs_running gauge");
        let _ = writeln!(out, "keyflow_runs_running {running}");
        let _ = writeln!(
            out,
            "# HELP keyflow_firings_waiting Firings pending or queued in the store (all daemons)."
        );
        let _ = writeln!(out, "# TYPE keyflow_firings_waiting gauge");
        let _ = writeln!(out, "keyflow_firings_waiting {waiting}");
        out
    }
}

struct Observer {
    flow: String,
    inner: Arc<Mutex<Inner>>,
}

impl RunObserver for Observer {
    fn event(&self, event: &RunEvent) {
        match event {
            RunEvent::StepFinished { report } if !report.reused => {
                let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                m.steps
                    .entry((self.flow.clone(), report.block.clone()))
                    .or_default()
                    .observe(report.duration_ms as f64 / 1000.0);
            }
            RunEvent::Retrying { step, error, .. }
                if THROTTLED.iter().any(|code| error.starts_with(code)) =>
            {
                let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                *m.throttled
                    .entry((self.flow.clone(), step.clone()))
                    .or_default() += 1;
            }
            _ => {}
        }
    }
}
