//! The coordinating loop: which step starts when, what happens to it, and what the run reports.

mod admission;
mod outcome;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use indexmap::IndexMap;
use serde_json::Value;
use tokio::task::JoinSet;

use self::outcome::{Finished, Outcome};
use super::Shared;
use super::events::RunEvent;
use super::report::{RunReport, Status, StepReport, redact};
use super::step::{Ran, StepRun};
use crate::block::BlockError;
use crate::expr::{Scope, StepEntries, step_entry};
use crate::model::OnError;

/// The coordinating loop's state.
pub(super) struct Scheduler {
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

impl Scheduler {
    pub(super) fn new(shared: Arc<Shared>) -> Scheduler {
        let options = &shared.options;
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

    pub(super) fn stop(&mut self, status: Status, reason: String) {
        self.stopping.get_or_insert((status, reason));
    }

    /// The operator cancelled: the run ends `cancelled`, whatever stopped it before.
    fn cancelled(&mut self) {
        self.stopping = Some((Status::Cancelled, "cancelled by the operator".into()));
    }

    pub(super) async fn run(&mut self) {
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
        if let Some(outcome) = self.admission(i) {
            let refused = outcome.error.is_some();
            self.settle(i, outcome).await;
            if refused {
                self.stop(
                    Status::Failed,
                    format!(
                        "step `{}` is destructive and the run was not allowed to",
                        step.id
                    ),
                );
            }
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
        let runs = Arc::new(Mutex::new(Vec::new()));
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
                runs: runs.clone(),
            };
            // Cancellation first: a block that watches it too (as long waits should) may end with its own
            // error, and the step must still be reported `cancelled`, not `failed`. The token can fire on
            // another thread between the two branches' polls, so a failure once it has fired counts as
            // cancelled too; a success stands (the work was done).
            let ran = tokio::select! {
                biased;
                () = task_shared.cancel.cancelled() => None,
                ran = run.run() => Some(ran),
            };
            let (result, items, partial) = match ran {
                Some(Ran { result: Err(_), .. }) if task_shared.cancel.is_cancelled() => {
                    (None, None, None)
                }
                Some(ran) => (Some(ran.result), ran.items, ran.partial),
                None => (None, None, None),
            };
            let mut runs = std::mem::take(&mut *runs.lock().unwrap_or_else(|e| e.into_inner()));
            runs.sort_by_key(|(item, _)| *item);
            let runs = step
                .block
                .template()
                .map(|_| runs.into_iter().map(|(_, report)| report).collect());
            Finished {
                index: i,
                result,
                items,
                partial,
                runs,
                attempts: attempts.load(Ordering::Relaxed),
                started,
            }
        });
    }

    async fn finish(&mut self, finished: Finished) {
        let index = finished.index;
        let outcome = Outcome::of(finished);
        let failed = outcome.status == Status::Failed;
        self.settle(index, outcome).await;
        let step = &self.shared.plan.steps[index];
        if failed && step.on_error == OnError::Fail {
            let reason = format!("step `{}` failed", step.id);
            self.stop(Status::Failed, reason);
        }
    }

    /// Records a step's final status and releases the steps waiting for it.
    async fn settle(&mut self, i: usize, outcome: Outcome) {
        let Outcome {
            status,
            output,
            error,
            reason,
            attempts,
            items,
            runs,
            started,
        } = outcome;
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
            runs,
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

    pub(super) fn report(self, started_at: String) -> RunReport {
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
                    runs: None,
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
