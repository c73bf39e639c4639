//! Running one step: its items (`for_each`), its polling (`until`), its attempts (`retry`, `timeout`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::{Map, Value};
// tokio's clock, like the `every` and backoff sleeps: the `until` deadline must agree with them (and
// follow a paused test clock).
use tokio::time::Instant;

use super::Shared;
use super::events::RunEvent;
use super::outcome::StepOutcome;
use super::report::RunReport;
use super::store::{AttemptRecord, Intent};
use crate::block::context::Slot;
use crate::block::{BlockContext, BlockError, Effect, RegisteredBlock};
use crate::context::StepEntries;
use crate::expr::Scope;
use crate::model::{DurationSpec, OnError};
use crate::plan::{Call, PlannedStep};
use crate::redact::{REDACTED, SecretFields};

/// What one call (or one item's calls) produced.
type CallResult = Result<Value, BlockError>;

/// One step's run, with the results of the steps it depends on.
pub(crate) struct StepRun<'a> {
    pub shared: &'a Shared,
    pub step: &'a PlannedStep,
    entries: StepEntries,
    seed: u64,
    /// Calls made so far, over every item.
    pub(super) attempts: AtomicU32,
    /// The runs of the step's template (`uses:`), with their item.
    pub(super) runs: Mutex<Vec<(usize, RunReport)>>,
    started: Instant,
}

impl<'a> StepRun<'a> {
    /// A run of `step` that reads `entries` (the results of the steps it depends on).
    pub fn new(
        shared: &'a Shared,
        step: &'a PlannedStep,
        entries: StepEntries,
        seed: u64,
    ) -> StepRun<'a> {
        StepRun {
            shared,
            step,
            entries,
            seed,
            // A resumed run's step numbers its attempts on from those recorded.
            attempts: AtomicU32::new(
                shared
                    .resumed_run()
                    .and_then(|r| r.attempts.get(&step.id).copied())
                    .unwrap_or(0),
            ),
            runs: Mutex::new(Vec::new()),
            started: Instant::now(),
        }
    }

    /// How the step ended when the operator cancelled it while it ran.
    pub fn cancelled(&self) -> StepOutcome {
        self.ended(StepOutcome::cancelled())
    }

    /// `outcome` with what the run counted: attempts, template runs, duration.
    fn ended(&self, outcome: StepOutcome) -> StepOutcome {
        let runs = self.step.call.template().map(|_| {
            let mut runs =
                std::mem::take(&mut *self.runs.lock().unwrap_or_else(|e| e.into_inner()));
            runs.sort_by_key(|(item, _)| *item);
            runs.into_iter().map(|(_, report)| report).collect()
        });
        StepOutcome {
            attempts: self.attempts.load(Ordering::Relaxed),
            runs,
            duration: self.started.elapsed(),
            ..outcome
        }
    }
}

impl StepRun<'_> {
    fn scope(&self) -> Scope<'_> {
        Scope {
            params: &self.shared.params,
            run: &self.shared.run,
            steps: &self.entries,
            item: None,
            output: None,
        }
    }

    /// Runs the step, once or once per item, to its end.
    pub async fn run(&self) -> StepOutcome {
        let Some(for_each) = &self.step.for_each else {
            self.started(None);
            let mut rng = fastrand::Rng::with_seed(self.seed);
            let result = self.call_once(self.scope(), None, &mut rng).await;
            return self.ended(StepOutcome::ran(result, None));
        };
        let items = match for_each.items.resolve(&self.scope()) {
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                let found = crate::schema::types::type_name(&other);
                let error =
                    BlockError::invalid_input(format!("`for_each` gave {found}, not an array"));
                return self.ended(StepOutcome::ran(Err(error), None));
            }
            Err(e) => {
                let error = BlockError::invalid_input(format!("`for_each`: {e}"));
                return self.ended(StepOutcome::ran(Err(error), None));
            }
        };
        self.started(Some(items.len()));
        let (result, partial) = self.run_items(&items, for_each.concurrency).await;
        StepOutcome {
            items: Some(items.len()),
            ..self.ended(StepOutcome::ran(result, partial))
        }
    }

    fn started(&self, items: Option<usize>) {
        self.shared.observer.event(&RunEvent::StepStarted {
            step: self.step.id.clone(),
            items,
        });
    }

    /// Runs the items, at most `concurrency` at a time; outputs in item order. After a failure no new
    /// item starts and the items already running finish, unless the step has `on_error: continue`: then
    /// every item runs, and the outputs of those that succeeded come back beside the error.
    async fn run_items(&self, items: &[Value], concurrency: usize) -> (CallResult, Option<Value>) {
        let keep_going = self.step.on_error == OnError::Continue;
        let indices: Vec<Value> = (0..items.len()).map(Value::from).collect();
        let total = items.len();
        let mut outputs: Vec<Value> = Vec::with_capacity(total);
        outputs.resize(total, Value::Null);
        let mut running = FuturesUnordered::new();
        let mut next = 0;
        let mut done = 0;
        let mut failed: Vec<(usize, BlockError)> = Vec::new();
        let launch = |k: usize| {
            let scope = self.scope().with_item(&items[k], &indices[k]);
            let mut rng = fastrand::Rng::with_seed(
                self.seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            async move { (k, self.call_once(scope, Some(k), &mut rng).await) }
        };
        while next < total && running.len() < concurrency {
            running.push(launch(next));
            next += 1;
        }
        while let Some((k, result)) = running.next().await {
            done += 1;
            self.shared.observer.event(&RunEvent::ItemsDone {
                step: self.step.id.clone(),
                done,
                total,
            });
            match result {
                Ok(output) => outputs[k] = output,
                Err(error) => failed.push((k, error)),
            }
            if (failed.is_empty() || keep_going) && next < total {
                running.push(launch(next));
                next += 1;
            }
        }
        if failed.is_empty() {
            return (Ok(Value::Array(outputs)), None);
        }
        let partial = keep_going.then_some(Value::Array(outputs));
        (Err(items_failed(failed, next, total)), partial)
    }

    /// Resolves the input in `scope`, then calls the block (polling when the step has `until`).
    async fn call_once(
        &self,
        scope: Scope<'_>,
        item: Option<usize>,
        rng: &mut fastrand::Rng,
    ) -> CallResult {
        let block = match &self.step.call {
            Call::Template(template) => return self.run_uses(template, &scope, item).await,
            Call::Block(block) => block,
        };
        let input = self.resolve_input(&scope)?;
        let Some(until) = &self.step.until else {
            return self.call(block, &input, item, rng).await;
        };
        let start = Instant::now();
        let mut polls = 0u32;
        loop {
            let output = self.call(block, &input, item, rng).await?;
            polls += 1;
            if until.condition.holds(&scope.with_output(&output)) {
                return Ok(output);
            }
            let elapsed = start.elapsed();
            let summary = self.summary(&output);
            if elapsed + until.every > until.timeout {
                return Err(BlockError::fatal(
                    "UntilTimeout",
                    format!(
                        "the `until` condition still did not hold after {polls} calls in {}; last output: {summary}",
                        DurationSpec(until.timeout)
                    ),
                ));
            }
            self.shared.observer.event(&RunEvent::Polling {
                step: self.step.id.clone(),
                item,
                polls,
                elapsed,
                summary: Some(summary),
            });
            tokio::time::sleep(until.every).await;
        }
    }

    pub(super) fn resolve_input(&self, scope: &Scope<'_>) -> Result<Value, BlockError> {
        resolve_input(self.step, scope)
    }

    /// Calls the block, retrying retryable failures with exponential backoff and full jitter.
    async fn call(
        &self,
        block: &RegisteredBlock,
        input: &Value,
        item: Option<usize>,
        rng: &mut fastrand::Rng,
    ) -> CallResult {
        let policy = self.step.retry;
        let mut tries = 0;
        // Whether an earlier attempt may have taken effect although it failed: the next one settles it.
        // On resume, a call recorded as made with no answer recorded is such an attempt.
        let mut recovering = self
            .shared
            .options
            .resume
            .as_ref()
            .is_some_and(|resume| resume.in_doubt(&self.shared.run_id, &self.step.id, item));
        loop {
            tries += 1;
            let attempt = self.attempts.fetch_add(1, Ordering::Relaxed) + 1;
            let result = self.attempt(block, input, item, attempt, recovering).await;
            if let Err(error) = &result {
                recovering |= error.in_doubt;
            }
            match result {
                Err(error) if error.retryable && tries < policy.attempts => {
                    let cap = policy.delay_cap(tries);
                    let jittered = Duration::from_millis(
                        rng.u64(0..=u64::try_from(cap.as_millis()).unwrap_or(u64::MAX)),
                    );
                    let delay = match error.retry_after {
                        Some(after) => match self.longest_wait() {
                            (longest, _) if after <= longest => jittered.max(after),
                            (longest, limit) => {
                                return Err(waits_too_long(error, after, longest, limit));
                            }
                        },
                        None => jittered,
                    };
                    self.shared.observer.event(&RunEvent::Retrying {
                        step: self.step.id.clone(),
                        item,
                        attempt: tries,
                        delay,
                        error: error.to_string(),
                    });
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }

    /// The longest wait before a retry that the step allows, and what sets it: its `retry.max_delay`, or
    /// its `timeout:` when that is shorter. A service that asks for more (`Retry-After`) is not retried.
    fn longest_wait(&self) -> (Duration, &'static str) {
        let max_delay = self.step.retry.max_delay;
        match self.step.timeout {
            Some(timeout) if timeout < max_delay => (timeout, "timeout"),
            _ => (max_delay, "retry.max_delay"),
        }
    }

    /// One call: connection, a slot of the run's parallelism, the timeout, and the record.
    async fn attempt(
        &self,
        block: &RegisteredBlock,
        input: &Value,
        item: Option<usize>,
        attempt: u32,
        recovering: bool,
    ) -> CallResult {
        let shared = self.shared;
        let client = match &self.step.connection {
            Some(name) => Some(
                shared
                    .connections
                    .get(name, &shared.params, &shared.run, &shared.secrets)
                    .await?,
            ),
            None => None,
        };
        let ctx = BlockContext::new(
            shared.run_id.clone(),
            self.step.id.as_str().into(),
            item,
            attempt,
            client,
            Some(shared.logs.clone()),
            shared.cancel.clone(),
        )
        .with_flow_dir(shared.flow_dir.clone())
        .with_recovering(recovering);
        let shown_input = shared.records.then(|| self.redacted_input(input));
        let mut started_at = chrono::Utc::now();
        let mut started = Instant::now();
        let result = {
            let permit = shared
                .permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| BlockError::fatal("Cancelled", "the run stopped"))?;
            let effect = self.step.effect();
            if let Some(shown) = shown_input.as_ref().filter(|_| effect != Effect::Read) {
                // Before the call goes out: a run that dies before its result is recorded leaves this.
                started_at = chrono::Utc::now();
                let intent = Intent {
                    run_id: shared.run_id.to_string(),
                    step: self.step.id.clone(),
                    item,
                    attempt,
                    block: block.spec.id.to_string(),
                    effect,
                    started_at: started_at.to_rfc3339(),
                    input: shown.clone(),
                };
                shared
                    .store
                    .record_intent(&intent)
                    .await
                    .map_err(|e| BlockError::fatal("StoreFailed", e.to_string()))?;
                started = Instant::now();
            }
            let ctx = ctx.with_slot(Slot::new(shared.permits.clone(), permit));
            let call = block.call(&ctx, input.clone());
            match self.step.timeout {
                // The call went out: it may have taken effect.
                Some(limit) => tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
                    Err(BlockError::retryable(
                        "Timeout",
                        format!("the call took longer than {}", DurationSpec(limit)),
                    )
                    .in_doubt())
                }),
                None => call.await,
            }
        };
        if let Ok(output) = &result {
            shared
                .secrets
                .add_fields(output, SecretFields::of(block.spec.secret_outputs));
        }
        if let Some(input) = shown_input {
            let record = AttemptRecord {
                run_id: shared.run_id.to_string(),
                step: self.step.id.clone(),
                item,
                attempt,
                started_at: started_at.to_rfc3339(),
                duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                input,
                output: result.as_ref().ok().map(|output| {
                    let fields = SecretFields::of(block.spec.secret_outputs);
                    shared.secrets.shown(output, fields)
                }),
                error: result.as_ref().err().cloned().map(|mut error| {
                    shared.secrets.mask_error(&mut error);
                    error
                }),
            };
            shared
                .store
                .record_attempt(&record)
                .await
                .map_err(|e| BlockError::fatal("StoreFailed", e.to_string()))?;
        }
        result
    }

    fn redacted_input(&self, input: &Value) -> Value {
        redacted_input(self.shared, self.step, input)
    }

    /// A short description of a poll's output: its `state`/`status` and `progress` when it has them.
    fn summary(&self, output: &Value) -> String {
        let fields = SecretFields::of(self.step.call.spec().secret_outputs);
        let output = self.shared.secrets.shown(output, fields);
        let fields: Vec<String> = ["state", "status", "progress"]
            .iter()
            .filter_map(|k| {
                output.get(*k).map(|v| {
                    format!(
                        "{k}={}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    )
                })
            })
            .collect();
        if fields.is_empty() {
            let text = output.to_string();
            match text.char_indices().nth(120) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text,
            }
        } else {
            fields.join(" ")
        }
    }
}

/// The error of a retryable failure whose service asked to wait longer than the step allows.
fn waits_too_long(
    error: BlockError,
    asked: Duration,
    longest: Duration,
    limit: &str,
) -> BlockError {
    BlockError {
        message: format!(
            "{} (not retried: the service asked to wait {}, longer than the step's `{limit}` of {})",
            error.message,
            DurationSpec(asked),
            DurationSpec(longest)
        ),
        retryable: false,
        retry_after: None,
        ..error
    }
}

/// The error of a `for_each` step whose items failed: the first failed item's code, and what each failed
/// item said (the first few), with how many items failed and how many never started.
fn items_failed(mut failed: Vec<(usize, BlockError)>, started: usize, total: usize) -> BlockError {
    const SHOWN: usize = 5;
    failed.sort_by_key(|(k, _)| *k);
    let count = failed.len();
    let mut said: Vec<String> = failed
        .iter()
        .take(SHOWN)
        .map(|(k, error)| format!("item {k}: {}", error.message))
        .collect();
    if count > SHOWN {
        said.push(format!("… and {} more", count - SHOWN));
    }
    let mut message = said.join("; ");
    if count > 1 {
        message = format!("{count} of {total} items failed: {message}");
    }
    match total - started {
        0 => {}
        1 => message.push_str(" (1 item not started)"),
        n => message.push_str(&format!(" ({n} items not started)")),
    }
    let (_, first) = failed.swap_remove(0);
    BlockError { message, ..first }
}

/// A call's input as it is recorded: the run's secrets masked, the block's secret inputs redacted.
pub(super) fn redacted_input(shared: &Shared, step: &PlannedStep, input: &Value) -> Value {
    let mut input = input.clone();
    shared.secrets.mask(&mut input);
    for key in &step.secret_inputs {
        if let Some(value) = input.get_mut(key) {
            *value = Value::String(REDACTED.into());
        }
    }
    input
}

/// `step`'s `with:` resolved in `scope`: the input its block is called with.
pub(super) fn resolve_input(step: &PlannedStep, scope: &Scope<'_>) -> Result<Value, BlockError> {
    let mut input = Map::new();
    for (key, expr) in &step.with {
        let value = expr.resolve(scope).map_err(|e| {
            BlockError::fatal(
                "ReferenceFailed",
                format!("step `{}`, input `{key}`: {e}", step.id),
            )
        })?;
        input.insert(key.clone(), value);
    }
    Ok(Value::Object(input))
}
