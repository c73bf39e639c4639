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
pub mod report;
mod secrets;
mod step;
pub mod store;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use indexmap::IndexMap;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use self::connections::Connections;
use self::events::{RunEvent, RunObserver, Silent};
use self::report::{RunReport, Status, StepReport, redact};
use self::secrets::{MaskingObserver, Secrets};
use self::step::{StepResult, StepRun};
use self::store::{NoStore, RunStore};
use crate::block::{BlockError, Effect};
use crate::expr::{Scope, StepEntries, step_entry};
use crate::model::OnError;
use crate::plan::Plan;

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
}

impl Default for ExecOptions {
    fn default() -> ExecOptions {
        ExecOptions {
            parallelism: 8,
            allow_destructive: false,
            seed: None,
            run_id: None,
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
    run: Value,
    run_id: Arc<str>,
    store: Arc<dyn RunStore>,
    records: bool,
    observer: Arc<dyn RunObserver>,
    permits: Semaphore,
    cancel: CancellationToken,
    connections: Connections,
    secrets: Arc<Secrets>,
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
        let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let run_id: Arc<str> = self
            .options
            .run_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
            .into();
        let secrets = Arc::new(Secrets::default());
        let shared = Arc::new(Shared {
            run: json!({ "id": &*run_id, "flow": plan.name, "started_at": started_at }),
            connections: Connections::new(&plan),
            plan,
            params,
            run_id,
            store: self.store.clone(),
            records: self.store.records_attempts(),
            observer: Arc::new(MaskingObserver {
                inner: self.observer.clone(),
                secrets: secrets.clone(),
            }),
            secrets,
            permits: Semaphore::new(self.options.parallelism.max(1)),
            cancel,
        });
        tracing::info!(
            run_id = &*shared.run_id,
            flow = shared.plan.name,
            steps = shared.plan.steps.len(),
            "run started"
        );
        let mut scheduler = Scheduler::new(shared.clone(), &self.options);
        if let Err(e) = shared
            .store
            .begin_run(&shared.run_id, &shared.plan.name, &started_at)
            .await
        {
            scheduler.stop(Status::Failed, e.to_string());
        }
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
}

/// The coordinating loop's state.
struct Scheduler {
    shared: Arc<Shared>,
    allow_destructive: bool,
    seed: u64,
    started: Instant,
    entries: StepEntries,
    reports: Vec<Option<StepReport>>,
    waiting: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    ready: BTreeSet<usize>,
    /// Set when the run must start no new step: the final status and why.
    stopping: Option<(Status, String)>,
}

/// What a finished step task hands back.
struct Finished {
    index: usize,
    result: Option<StepResult>,
    items: Option<usize>,
    attempts: u32,
    started: Instant,
}

impl Scheduler {
    fn new(shared: Arc<Shared>, options: &ExecOptions) -> Scheduler {
        let steps = &shared.plan.steps;
        let mut dependents = vec![Vec::new(); steps.len()];
        for step in steps {
            for &d in &step.deps {
                dependents[d].push(step.index);
            }
        }
        let waiting: Vec<usize> = steps.iter().map(|s| s.deps.len()).collect();
        Scheduler {
            ready: (0..steps.len()).filter(|&i| waiting[i] == 0).collect(),
            reports: vec![None; steps.len()],
            entries: StepEntries::with_capacity(steps.len()),
            seed: options.seed.unwrap_or_else(|| fastrand::u64(..)),
            allow_destructive: options.allow_destructive,
            started: Instant::now(),
            waiting,
            dependents,
            shared,
            stopping: None,
        }
    }

    fn stop(&mut self, status: Status, reason: String) {
        self.stopping.get_or_insert((status, reason));
    }

    /// The operator cancelled: the run ends `cancelled`, whatever stopped it before.
    fn cancelled(&mut self) {
        self.stopping = Some((Status::Cancelled, "cancelled by the operator".into()));
    }

    async fn run(&mut self) {
        let mut tasks: JoinSet<Finished> = JoinSet::new();
        let cancel = self.shared.cancel.clone();
        loop {
            // A step that ended as the run was cancelled may be joined before the cancellation branch below
            // runs: the steps it releases are then `cancelled` (not started, nor skipped for its output).
            if cancel.is_cancelled() {
                self.cancelled();
            }
            while let Some(i) = self.ready.pop_first() {
                self.start(i, &mut tasks).await;
            }
            if tasks.is_empty() {
                break;
            }
            tokio::select! {
                finished = tasks.join_next() => match finished {
                    Some(Ok(finished)) => self.finish(finished).await,
                    Some(Err(e)) => {
                        tracing::error!("a step task ended abnormally: {e}");
                        self.stop(Status::Failed, format!("a step task ended abnormally: {e}"));
                    }
                    None => break,
                },
                () = cancel.cancelled(), if self.stopping.as_ref().is_none_or(|(s, _)| *s != Status::Cancelled) => {
                    self.cancelled();
                }
            }
        }
    }

    /// Decides what happens to a step whose dependencies are done, and starts it if it runs.
    async fn start(&mut self, i: usize, tasks: &mut JoinSet<Finished>) {
        let shared = self.shared.clone();
        let step = &shared.plan.steps[i];
        if let Some((_, why)) = &self.stopping {
            let reason = format!("not started: {why}");
            self.settle(
                i,
                Status::Cancelled,
                None,
                None,
                Some(reason),
                0,
                None,
                Instant::now(),
            )
            .await;
            return;
        }
        let scope = Scope {
            params: &shared.params,
            run: &shared.run,
            steps: &self.entries,
            item: None,
            output: None,
        };
        let missing = step.output_deps.iter().find_map(|&d| {
            let status = self.reports[d].as_ref().map(|r| r.status)?;
            (status != Status::Succeeded).then(|| (shared.plan.steps[d].id.clone(), status))
        });
        if let Some((id, status)) = missing {
            let reason = format!(
                "it reads the output of step `{id}`, which {}",
                status.name()
            );
            self.settle(
                i,
                Status::Skipped,
                None,
                None,
                Some(reason),
                0,
                None,
                Instant::now(),
            )
            .await;
            return;
        }
        if step.condition.as_ref().is_some_and(|c| !c.holds(&scope)) {
            let reason = "its `if:` condition is false".to_string();
            self.settle(
                i,
                Status::Skipped,
                None,
                None,
                Some(reason),
                0,
                None,
                Instant::now(),
            )
            .await;
            return;
        }
        if step.effect() == Effect::Destructive && !self.allow_destructive {
            let error = self.refusal(i, &scope);
            self.settle(
                i,
                Status::Failed,
                None,
                Some(error),
                None,
                0,
                None,
                Instant::now(),
            )
            .await;
            self.stop(
                Status::Failed,
                format!(
                    "step `{}` is destructive and the run was not allowed to",
                    step.id
                ),
            );
            return;
        }
        let entries: StepEntries = step
            .deps
            .iter()
            .filter_map(|&d| {
                let id = &shared.plan.steps[d].id;
                self.entries.get(id).map(|e| (id.clone(), e.clone()))
            })
            .collect();
        let attempts = Arc::new(AtomicU32::new(0));
        let seed = self.seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
        let task_shared = shared.clone();
        tasks.spawn(async move {
            let started = Instant::now();
            let step = &task_shared.plan.steps[i];
            let run = StepRun {
                shared: &task_shared,
                step,
                entries,
                attempts: attempts.clone(),
                seed,
            };
            // Cancellation first: a block that watches it too (as long waits should) may end in the same
            // poll with its own error, and the step must still be reported `cancelled`, not `failed`.
            let outcome = tokio::select! {
                biased;
                () = task_shared.cancel.cancelled() => None,
                outcome = run.run() => Some(outcome),
            };
            let (result, items) = match outcome {
                Some((result, items)) => (Some(result), items),
                None => (None, None),
            };
            Finished {
                index: i,
                result,
                items,
                attempts: attempts.load(Ordering::Relaxed),
                started,
            }
        });
    }

    /// The error of a destructive step the run may not start, saying exactly what it would have done.
    fn refusal(&self, i: usize, scope: &Scope<'_>) -> BlockError {
        let step = &self.shared.plan.steps[i];
        let mut input = serde_json::Map::new();
        for (key, expr) in &step.with {
            let value = match expr.resolve(scope) {
                Ok(_) if step.secret_inputs.contains(key) => Value::String(report::REDACTED.into()),
                Ok(value) => value,
                Err(_) => Value::String(format!("<{}>", key)),
            };
            input.insert(key.clone(), value);
        }
        let each = if step.for_each.is_some() {
            " for each item"
        } else {
            ""
        };
        let message = format!(
            "step `{}` would call `{}` ({}){each} with {}; re-run with `--allow-destructive` to let it",
            step.id,
            step.block.spec.id,
            step.block.spec.title,
            Value::Object(input)
        );
        BlockError::fatal(
            "DestructiveNotAllowed",
            self.shared.secrets.mask_str(&message),
        )
    }

    async fn finish(&mut self, finished: Finished) {
        let Finished {
            index,
            result,
            items,
            attempts,
            started,
        } = finished;
        let step_on_error = self.shared.plan.steps[index].on_error;
        let id = self.shared.plan.steps[index].id.clone();
        match result {
            Some(Ok(output)) => {
                self.settle(
                    index,
                    Status::Succeeded,
                    Some(output),
                    None,
                    None,
                    attempts,
                    items,
                    started,
                )
                .await;
            }
            Some(Err(error)) => {
                self.settle(
                    index,
                    Status::Failed,
                    None,
                    Some(error),
                    None,
                    attempts,
                    items,
                    started,
                )
                .await;
                if step_on_error == OnError::Fail {
                    self.stop(Status::Failed, format!("step `{id}` failed"));
                }
            }
            None => {
                let reason = Some("cancelled by the operator while running".to_string());
                self.settle(
                    index,
                    Status::Cancelled,
                    None,
                    None,
                    reason,
                    attempts,
                    items,
                    started,
                )
                .await;
            }
        }
    }

    /// Records a step's final status and releases the steps waiting for it.
    #[allow(clippy::too_many_arguments)]
    async fn settle(
        &mut self,
        i: usize,
        status: Status,
        output: Option<Value>,
        error: Option<BlockError>,
        reason: Option<String>,
        attempts: u32,
        items: Option<usize>,
        started: Instant,
    ) {
        let shared = self.shared.clone();
        let step = &shared.plan.steps[i];
        let secret_fields = step.block.spec.secret_outputs;
        if let Some(output) = &output {
            shared
                .secrets
                .add_fields(output, secret_fields, step.for_each.is_some());
        }
        let mut shown = output.clone();
        if let Some(shown) = &mut shown {
            redact(shown, secret_fields, step.for_each.is_some());
            shared.secrets.mask(shown);
        }
        let mut shown_error = error.clone();
        if let Some(shown_error) = &mut shown_error {
            shared.secrets.mask_error(shown_error);
        }
        let report = StepReport {
            id: step.id.clone(),
            block: step.block.spec.id.to_string(),
            status,
            attempts,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            output: shown,
            error: shown_error,
            reason,
            items,
        };
        if let Err(e) = self
            .shared
            .store
            .finish_step(&self.shared.run_id, &report)
            .await
        {
            self.stop(Status::Failed, e.to_string());
        }
        self.shared.observer.event(&RunEvent::StepFinished {
            report: report.clone(),
        });
        self.entries.insert(
            step.id.clone(),
            Arc::new(step_entry(
                status.name(),
                output,
                error.as_ref().map(BlockError::to_value),
            )),
        );
        self.reports[i] = Some(report);
        for k in 0..self.dependents[i].len() {
            let dependent = self.dependents[i][k];
            self.waiting[dependent] -= 1;
            if self.waiting[dependent] == 0 {
                self.ready.insert(dependent);
            }
        }
    }

    fn report(self, started_at: String) -> RunReport {
        let plan = &self.shared.plan;
        // The flow's outputs read the steps' outputs as the report shows them: secret fields redacted.
        let mut shown = self.entries.clone();
        for (step, report) in plan.steps.iter().zip(&self.reports) {
            if let Some(report) = report
                && !step.block.spec.secret_outputs.is_empty()
            {
                let entry = step_entry(
                    report.status.name(),
                    report.output.clone(),
                    report.error.as_ref().map(BlockError::to_value),
                );
                shown.insert(step.id.clone(), Arc::new(entry));
            }
        }
        let scope = Scope {
            params: &self.shared.params,
            run: &self.shared.run,
            steps: &shown,
            item: None,
            output: None,
        };
        let mut notes = Vec::new();
        let outputs: IndexMap<String, Value> = plan
            .outputs
            .iter()
            .map(|(name, expr)| {
                let mut value = expr.resolve(&scope).unwrap_or_else(|e| {
                    notes.push(format!("output `{name}` is null: {e}"));
                    Value::Null
                });
                self.shared.secrets.mask(&mut value);
                (name.clone(), value)
            })
            .collect();
        let steps: Vec<StepReport> = self
            .reports
            .into_iter()
            .zip(&plan.steps)
            .map(|(report, step)| {
                report.unwrap_or_else(|| StepReport {
                    id: step.id.clone(),
                    block: step.block.spec.id.to_string(),
                    status: Status::Cancelled,
                    attempts: 0,
                    duration_ms: 0,
                    output: None,
                    error: None,
                    reason: Some("not started".into()),
                    items: None,
                })
            })
            .collect();
        let (status, reason) = match self.stopping {
            Some((status, reason)) => (status, Some(reason)),
            None => (Status::Succeeded, None),
        };
        let reason = match (reason, notes.is_empty()) {
            (Some(reason), _) => Some(reason),
            (None, false) => Some(notes.join("; ")),
            (None, true) => None,
        };
        RunReport {
            run_id: self.shared.run_id.to_string(),
            flow: plan.name.clone(),
            status,
            started_at,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            outputs,
            steps,
            reason,
        }
    }
}
