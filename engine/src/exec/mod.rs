//! The executor: runs a validated [`Plan`] as a DAG on tokio.
//!
//! One coordinating loop owns the run context. It starts a step when every step it waits for is done —
//! up to the run's parallelism, independent steps at the same time — first deciding whether the step is
//! skipped (its `if:`, or an upstream output it reads does not exist) or refused (destructive without
//! `--allow-destructive`). Each started step runs in its own task with a snapshot of the results it
//! depends on, and hands back its result; the loop records it and releases the steps waiting for it.
//! A failure stops new steps from starting (steps already running finish); Ctrl-C cancels the steps in
//! flight. Every attempt goes to the [`store::RunStore`] before its result is used.

mod connections;
pub mod events;
mod outcome;
pub mod report;
pub mod resume;
pub mod sandbox;
mod scheduler;
mod step;
pub mod store;
mod template;

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use self::connections::Connections;
use self::events::{MaskingObserver, ObserverLogs, RunObserver, Silent};
use self::report::{RunReport, Status};
use self::sandbox::Sandbox;
use self::scheduler::Scheduler;
use self::store::{NoStore, ParentStep, RunStart, RunStore};
use crate::block::LogSink;
use crate::context::RunFacts;
use crate::plan::Plan;
use crate::redact::Secrets;

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Block calls at the same time across the whole run (independent steps and `for_each` items).
    pub parallelism: usize,
    /// Let destructive steps run (`--allow-destructive`).
    pub allow_destructive: bool,
    /// Seed for retry jitter (tests fix it; runs draw one).
    pub seed: Option<u64>,
    /// The run's id (a fresh UUID v7 when not given).
    pub run_id: Option<String>,
    /// Point every connection at its connector's twin instead (`--sandbox`).
    pub sandbox: Option<Arc<Sandbox>>,
    /// Continue a recorded run (`keyflow resume`): reuse what it recorded (give `run_id` its id).
    pub resume: Option<Arc<resume::Resume>>,
}

impl Default for ExecOptions {
    fn default() -> ExecOptions {
        ExecOptions {
            parallelism: 8,
            allow_destructive: false,
            seed: None,
            run_id: None,
            sandbox: None,
            resume: None,
        }
    }
}

/// Runs plans.
pub struct Executor {
    options: ExecOptions,
    store: Arc<dyn RunStore>,
    observer: Arc<dyn RunObserver>,
}

/// What the step tasks share.
pub(crate) struct Shared {
    plan: Arc<Plan>,
    params: Value,
    /// For a template's run: the step that runs it.
    parent: Option<ParentStep>,
    /// `$.run`, as the context shows it.
    run: Value,
    run_id: Arc<str>,
    options: ExecOptions,
    store: Arc<dyn RunStore>,
    records: bool,
    observer: Arc<dyn RunObserver>,
    /// Where blocks' log messages go: `observer`.
    logs: Arc<dyn LogSink>,
    /// Block calls at the same time, shared with the runs of the templates this run uses.
    permits: Arc<Semaphore>,
    cancel: CancellationToken,
    connections: Connections,
    secrets: Arc<Secrets>,
    /// The flow file's folder, for blocks that read files beside it.
    flow_dir: Arc<std::path::Path>,
}

impl Executor {
    /// An executor with these options, no store and no observer.
    pub fn new(options: ExecOptions) -> Executor {
        Executor {
            options,
            store: Arc::new(NoStore),
            observer: Arc::new(Silent),
        }
    }

    /// Records attempts and results in `store`.
    pub fn with_store(mut self, store: Arc<dyn RunStore>) -> Executor {
        self.store = store;
        self
    }

    /// Reports progress to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn RunObserver>) -> Executor {
        self.observer = observer;
        self
    }

    /// Runs `plan` with bound parameters (see [`Plan::bind_params`]) until it ends or `cancel` fires.
    pub async fn run(
        &self,
        plan: Arc<Plan>,
        params: Value,
        cancel: CancellationToken,
    ) -> RunReport {
        let started_at = now();
        let run_id: Arc<str> = self
            .options
            .run_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
            .into();
        let secrets = Arc::new(Secrets::default());
        let observer: Arc<dyn RunObserver> = Arc::new(MaskingObserver {
            inner: self.observer.clone(),
            secrets: secrets.clone(),
        });
        let shared = Arc::new(Shared {
            run: run_facts(&run_id, &plan, &started_at),
            connections: Connections::new(&plan, self.options.sandbox.clone()),
            flow_dir: Arc::from(plan.files_dir()),
            plan,
            params,
            parent: None,
            run_id,
            options: self.options.clone(),
            store: self.store.clone(),
            records: self.store.records_attempts(),
            logs: Arc::new(ObserverLogs(observer.clone())),
            observer,
            secrets,
            permits: Arc::new(Semaphore::new(self.options.parallelism.max(1))),
            cancel,
        });
        execute(shared, started_at).await
    }
}

/// `$.run` of a run of `plan`.
fn run_facts(run_id: &str, plan: &Plan, started_at: &str) -> Value {
    RunFacts {
        id: run_id.to_string(),
        flow: plan.name.clone(),
        started_at: started_at.to_string(),
    }
    .to_value()
}

impl Shared {
    /// What this run reuses of its record, when it continues one.
    fn resumed_run(&self) -> Option<&resume::ResumedRun> {
        self.options.resume.as_ref()?.run(&self.run_id)
    }

    /// Whether this run continues a recorded one.
    fn resumed(&self) -> bool {
        self.resumed_run().is_some()
    }
}

pub(super) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs the steps of `shared`'s plan to the end and reports.
pub(super) async fn execute(shared: Arc<Shared>, started_at: String) -> RunReport {
    tracing::info!(
        run_id = &*shared.run_id,
        flow = shared.plan.name,
        steps = shared.plan.steps.len(),
        "run started"
    );
    let mut scheduler = Scheduler::new(shared.clone());
    // A template's run is given its caller's values, secrets among them: masked like any record.
    let mut params = shared.params.clone();
    shared.secrets.mask(&mut params);
    let start = RunStart {
        run_id: shared.run_id.to_string(),
        parent: shared.parent.clone(),
        flow: shared.plan.name.clone(),
        source: shared.plan.source.name.clone(),
        params,
        started_at: started_at.clone(),
        definitions: shared
            .plan
            .steps
            .iter()
            .map(|s| (s.id.clone(), s.definition.clone()))
            .collect(),
        resumed: shared.resumed(),
    };
    if let Err(e) = shared.store.begin_run(&start).await {
        scheduler.stop(Status::Failed, e.to_string());
    }
    // The record's copy of the params is the store's now; holding it through the run would keep a second
    // copy of every param (a 10,000-item list is megabytes) until the report.
    drop(start);
    // The loop runs as a task of the runtime, not on the caller's thread (often `block_on`'s), so that
    // handing a step to its task and its result back stays on one worker instead of waking threads.
    let started = started_at.clone();
    let report = match tokio::spawn(async move {
        scheduler.run().await;
        scheduler.report(started)
    })
    .await
    {
        Ok(report) => report,
        Err(e) => RunReport {
            run_id: shared.run_id.to_string(),
            flow: shared.plan.name.clone(),
            status: Status::Failed,
            started_at,
            duration_ms: 0,
            outputs: IndexMap::new(),
            steps: Vec::new(),
            reason: Some(format!("the run's scheduler ended abnormally: {e}")),
        },
    };
    tracing::info!(
        target: events::TARGET,
        run_id = report.run_id,
        status = report.status.name(),
        duration_ms = report.duration_ms,
        reason = report.reason.as_deref().unwrap_or(""),
        "run ended"
    );
    if let Err(e) = shared.store.finish_run(&report).await {
        tracing::warn!("{e}");
    }
    report
}
