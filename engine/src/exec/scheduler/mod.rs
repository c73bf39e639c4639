//! The coordinating loop: which step starts when, what happens to it, and what the run reports.

mod admission;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;
use serde_json::Value;
use tokio::task::JoinSet;

use super::Shared;
use super::events::RunEvent;
use super::outcome::StepOutcome;
use super::report::{RunReport, Status, StepReport};
use super::step::StepRun;
use crate::context::StepEntries;
use crate::expr::Scope;
use crate::model::OnError;
use crate::redact::SecretFields;

/// The coordinating loop's state.
pub(super) struct Scheduler {
    shared: Arc<Shared>,
    allow_destructive: bool,
    seed: u64,
    started: Instant,
    /// How each step ended, by index: the record the report is made from.
    outcomes: Vec<Option<StepOutcome>>,
    /// The same outcomes as the run context shows them (`$.steps.<id>`), by id: what step tasks read.
    entries: StepEntries,
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
            outcomes: vec![None; steps.len()],
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
        let mut tasks: JoinSet<(usize, StepOutcome)> = JoinSet::new();
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
                    Some(Ok((i, outcome))) => self.finish(i, outcome).await,
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
    async fn start(&mut self, i: usize, tasks: &mut JoinSet<(usize, StepOutcome)>) {
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
        let seed = self.seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
        let task_shared = shared.clone();
        tasks.spawn(async move {
            let cancel = &task_shared.cancel;
            let run = StepRun::new(&task_shared, &task_shared.plan.steps[i], entries, seed);
            // Cancellation first: a block that watches it too (as long waits should) may end with its own
            // error, and the step must still be reported `cancelled`, not `failed`. The token can fire on
            // another thread between the two branches' polls, so a failure once it has fired counts as
            // cancelled too; a success stands (the work was done).
            let outcome = tokio::select! {
                biased;
                () = cancel.cancelled() => None,
                outcome = run.run() => Some(outcome),
            };
            let outcome = match outcome {
                Some(outcome) if !(outcome.status == Status::Failed && cancel.is_cancelled()) => {
                    outcome
                }
                _ => run.cancelled(),
            };
            (i, outcome)
        });
    }

    async fn finish(&mut self, index: usize, outcome: StepOutcome) {
        let failed = outcome.status == Status::Failed;
        self.settle(index, outcome).await;
        let step = &self.shared.plan.steps[index];
        if failed && step.on_error == OnError::Fail {
            let reason = format!("step `{}` failed", step.id);
            self.stop(Status::Failed, reason);
        }
    }

    /// Records how a step ended and releases the steps waiting for it.
    async fn settle(&mut self, i: usize, outcome: StepOutcome) {
        let shared = self.shared.clone();
        let step = &shared.plan.steps[i];
        if let Some(output) = &outcome.output {
            let fields = SecretFields::of(step.call.spec().secret_outputs);
            shared
                .secrets
                .add_fields(output, fields.each(step.for_each.is_some()));
        }
        let report = outcome.report(step, &shared.secrets);
        if let Err(e) = shared.store.finish_step(&shared.run_id, &report).await {
            self.stop(Status::Failed, e.to_string());
        }
        shared.observer.event(&RunEvent::StepFinished { report });
        self.entries
            .insert(step.id.clone(), Arc::new(outcome.entry().to_value()));
        self.outcomes[i] = Some(outcome);
        for k in 0..self.dependents[i].len() {
            let dependent = self.dependents[i][k];
            self.waiting[dependent] -= 1;
            if self.waiting[dependent] == 0 {
                self.ready.insert(dependent);
            }
        }
    }

    pub(super) fn report(mut self, started_at: String) -> RunReport {
        let plan = &self.shared.plan;
        let secrets = &self.shared.secrets;
        let scope = Scope {
            params: &self.shared.params,
            run: &self.shared.run,
            steps: &self.entries,
            item: None,
            output: None,
        };
        // The flow's outputs are shown as the steps' outputs are: every secret the run learned masked.
        let mut notes = Vec::new();
        let outputs: IndexMap<String, Value> = plan
            .outputs
            .iter()
            .map(|(name, expr)| {
                let mut value = expr.resolve(&scope).unwrap_or_else(|e| {
                    notes.push(format!("output `{name}` is null: {e}"));
                    Value::Null
                });
                secrets.mask(&mut value);
                (name.clone(), value)
            })
            .collect();
        // The context's copy of the outputs is not read again: it goes before the report takes the outcomes'
        // own, redacted in place, so that the end of a run holds one copy of every output, not three (a
        // 10,000-item `for_each` step's output is megabytes).
        drop(std::mem::take(&mut self.entries));
        let steps: Vec<StepReport> = std::mem::take(&mut self.outcomes)
            .into_iter()
            .zip(&plan.steps)
            .map(|(outcome, step)| {
                outcome
                    .unwrap_or_else(|| {
                        StepOutcome::not_run(Status::Cancelled, "not started".into())
                    })
                    .into_report(step, secrets)
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
