//! The harness.

use super::*;

/// Keeps every event.
#[derive(Default)]
pub(crate) struct Recorder(pub(crate) Mutex<Vec<RunEvent>>);

impl RunObserver for Recorder {
    fn event(&self, event: &RunEvent) {
        lock(&self.0).push(event.clone());
    }
}

/// Removes the indentation common to every non-blank line, so that flows can be written indented.
pub(crate) fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

pub(crate) fn plan(yaml: &str, probe: &Arc<Probe>) -> Arc<Plan> {
    let registry = Registry::new()
        .block(Work(probe.clone()))
        .block(Flaky(probe.clone()))
        .block(Poll(probe.clone()))
        .block(Destroy(probe.clone()))
        .block(Policy(probe.clone()))
        .block(Secret)
        .block(Consume(probe.clone()))
        .block(CancelRun(probe.clone()));
    let source = SourceFile::new("t.yaml", dedent(yaml));
    let plan = check(source.clone(), &registry).unwrap_or_else(|d| {
        panic!(
            "invalid flow:\n{}\n{}",
            source.text,
            render_all(&d, &source, false)
        )
    });
    Arc::new(plan)
}

pub(crate) fn options() -> ExecOptions {
    ExecOptions {
        seed: Some(7),
        run_id: Some("run-1".into()),
        ..ExecOptions::default()
    }
}

/// A finished run and everything it left behind.
pub(crate) struct Outcome {
    pub(crate) report: RunReport,
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) events: Vec<RunEvent>,
    /// Virtual time the run took.
    pub(crate) took: Duration,
}

impl Outcome {
    pub(crate) fn step(&self, id: &str) -> &StepReport {
        self.report
            .steps
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step `{id}` in {:#?}", self.report))
    }

    pub(crate) fn status(&self, id: &str) -> Status {
        self.step(id).status
    }

    pub(crate) fn reason(&self, id: &str) -> &str {
        self.step(id).reason.as_deref().unwrap_or("")
    }

    pub(crate) fn error(&self, id: &str) -> &BlockError {
        self.step(id)
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("step `{id}` has no error: {:#?}", self.step(id)))
    }

    pub(crate) fn output(&self, id: &str) -> &Value {
        self.step(id)
            .output
            .as_ref()
            .unwrap_or_else(|| panic!("step `{id}` has no output: {:#?}", self.step(id)))
    }

    pub(crate) fn records(&self, step: &str) -> Vec<AttemptRecord> {
        lock(&self.store.attempts)
            .iter()
            .filter(|r| r.step == step)
            .cloned()
            .collect()
    }

    /// The `Retrying` events of a step: (failed attempt, delay).
    pub(crate) fn retries(&self, step: &str) -> Vec<(u32, Duration)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RunEvent::Retrying {
                    step: s,
                    attempt,
                    delay,
                    ..
                } if s == step => Some((*attempt, *delay)),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn polls(&self, step: &str) -> Vec<(u32, Option<String>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RunEvent::Polling {
                    step: s,
                    polls,
                    summary,
                    ..
                } if s == step => Some((*polls, summary.clone())),
                _ => None,
            })
            .collect()
    }
}

pub(crate) async fn run_with(
    yaml: &str,
    probe: &Arc<Probe>,
    options: ExecOptions,
    cancel: CancellationToken,
) -> Outcome {
    let plan = plan(yaml, probe);
    let params = plan
        .bind_params(&IndexMap::new())
        .unwrap_or_else(|e| panic!("params: {e:?}"));
    let store = Arc::new(MemoryStore::default());
    let recorder = Arc::new(Recorder::default());
    let start = Instant::now();
    let report = Executor::new(options)
        .with_store(store.clone())
        .with_observer(recorder.clone())
        .run(plan, params, cancel)
        .await;
    let took = start.elapsed();
    let events = lock(&recorder.0).clone();
    Outcome {
        report,
        store,
        events,
        took,
    }
}

pub(crate) async fn run(yaml: &str, probe: &Arc<Probe>) -> Outcome {
    run_with(yaml, probe, options(), CancellationToken::new()).await
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
