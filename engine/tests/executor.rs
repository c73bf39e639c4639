//! The executor: ordering, the run's parallelism, retry with backoff, timeouts, `until` polling,
//! `on_error`, `if:` and skip propagation, `for_each`, cancellation, destructive steps and the run store.
//!
//! Test blocks record what they see in a shared [`Probe`]: when each call started and ended (tokio's clock,
//! paused in most tests so that times are exact and nothing depends on the machine's load), how many calls
//! ran at once, and how many calls each key got.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use indexmap::IndexMap;
use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Registry};
use keyflow_engine::diagnostic::render_all;
use keyflow_engine::exec::events::{RunEvent, RunObserver};
use keyflow_engine::exec::report::{REDACTED, RunReport, Status, StepReport};
use keyflow_engine::exec::store::{AttemptRecord, MemoryStore};
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::plan::Plan;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

// ---------------------------------------------------------------------------------------------------------
// The probe the test blocks write to.

/// One finished call.
#[derive(Debug, Clone)]
struct Span {
    label: String,
    start: Instant,
    end: Instant,
}

#[derive(Default)]
struct Probe {
    /// Calls that started: label and time, in start order.
    starts: Mutex<Vec<(String, Instant)>>,
    /// Calls that finished, in end order.
    spans: Mutex<Vec<Span>>,
    /// Calls running now, and the most at once.
    current: AtomicUsize,
    max: AtomicUsize,
    /// Calls per key (flaky and polling blocks).
    counts: Mutex<HashMap<String, u32>>,
    /// Values blocks received, by label.
    seen: Mutex<Vec<(String, Value)>>,
    /// The run's cancellation, for `test.cancel-run`.
    cancel: CancellationToken,
}

/// A call in progress; leaves the running count when dropped (also when the executor drops the call).
struct Running<'a> {
    probe: &'a Probe,
    label: String,
    start: Instant,
}

impl Probe {
    fn enter(&self, label: &str) -> Running<'_> {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        let start = Instant::now();
        lock(&self.starts).push((label.to_string(), start));
        Running {
            probe: self,
            label: label.to_string(),
            start,
        }
    }

    fn count(&self, key: &str) -> u32 {
        let mut counts = lock(&self.counts);
        let n = counts.entry(key.to_string()).or_insert(0);
        *n += 1;
        *n
    }

    fn calls(&self, key: &str) -> u32 {
        lock(&self.counts).get(key).copied().unwrap_or(0)
    }

    fn span(&self, label: &str) -> Span {
        lock(&self.spans)
            .iter()
            .find(|s| s.label == label)
            .cloned()
            .unwrap_or_else(|| panic!("no finished call labelled `{label}`"))
    }

    fn started(&self, label: &str) -> Vec<Instant> {
        lock(&self.starts)
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, at)| *at)
            .collect()
    }

    fn finished_labels(&self) -> Vec<String> {
        lock(&self.spans).iter().map(|s| s.label.clone()).collect()
    }
}

impl Running<'_> {
    fn finish(self) {
        let span = Span {
            label: self.label.clone(),
            start: self.start,
            end: Instant::now(),
        };
        lock(&self.probe.spans).push(span);
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.probe.current.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Locks one of the probe's or the harness's mutexes (poisoned only if a test block panicked).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("a test block panicked holding a lock")
}

fn spec(id: &'static str, title: &'static str) -> BlockSpec {
    BlockSpec {
        id,
        title,
        connector: None,
        description: "a block for the executor tests",
        effect: Effect::Read,
        secret_outputs: &[],
        output_mirrors_input: false,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Test blocks.

/// `test.work`: takes `ms` (tokio's clock), then returns its label and value, or fails when asked to.
struct Work(Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WorkInput {
    /// Names the call in the probe.
    label: String,
    /// How long the call takes.
    #[serde(default)]
    ms: u64,
    /// Handed back as the output's `value`.
    #[serde(default)]
    value: Value,
    /// Fail (not retryable) after the wait.
    #[serde(default)]
    fail: bool,
    /// Watch the run's cancellation during the wait, as long waits should, and fail when it fires.
    #[serde(default)]
    cooperative: bool,
}

#[derive(Serialize, JsonSchema)]
struct WorkOutput {
    label: String,
    value: Value,
}

impl Block for Work {
    type Input = WorkInput;
    type Output = WorkOutput;

    fn spec(&self) -> BlockSpec {
        spec("test.work", "Work")
    }

    fn example_output(&self) -> WorkOutput {
        WorkOutput {
            label: "a".into(),
            value: json!(1),
        }
    }

    async fn run(&self, ctx: &BlockContext, input: WorkInput) -> Result<WorkOutput, BlockError> {
        let running = self.0.enter(&input.label);
        lock(&self.0.seen).push((input.label.clone(), input.value.clone()));
        let wait = tokio::time::sleep(Duration::from_millis(input.ms));
        if input.cooperative {
            tokio::select! {
                () = wait => {}
                () = ctx.cancelled() => return Err(BlockError::fatal("Cancelled", "the run was cancelled")),
            }
        } else {
            wait.await;
        }
        running.finish();
        if input.fail {
            return Err(BlockError::fatal(
                "Boom",
                format!("`{}` was told to fail", input.label),
            ));
        }
        Ok(WorkOutput {
            label: input.label,
            value: input.value,
        })
    }
}

/// `test.flaky`: the first `fail_times` calls of a key fail (or hang for `hang_ms`), the next succeed.
struct Flaky(Arc<Probe>);

fn yes() -> bool {
    true
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FlakyInput {
    /// Counts calls.
    key: String,
    /// Calls that fail before one succeeds.
    fail_times: u32,
    /// Whether the failures are retryable.
    #[serde(default = "yes")]
    retryable: bool,
    /// The `Retry-After` of the failures.
    #[serde(default)]
    retry_after_ms: Option<u64>,
    /// Instead of failing, the failing calls take this long (and then succeed).
    #[serde(default)]
    hang_ms: Option<u64>,
}

#[derive(Serialize, JsonSchema)]
struct FlakyOutput {
    calls: u32,
}

impl Block for Flaky {
    type Input = FlakyInput;
    type Output = FlakyOutput;

    fn spec(&self) -> BlockSpec {
        spec("test.flaky", "Flaky")
    }

    fn example_output(&self) -> FlakyOutput {
        FlakyOutput { calls: 1 }
    }

    async fn run(&self, _: &BlockContext, input: FlakyInput) -> Result<FlakyOutput, BlockError> {
        let running = self.0.enter(&input.key);
        let n = self.0.count(&input.key);
        if n <= input.fail_times {
            if let Some(ms) = input.hang_ms {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            } else if input.retryable {
                let error =
                    BlockError::retryable("ThrottlingException", format!("call {n} throttled"));
                return Err(match input.retry_after_ms {
                    Some(ms) => error.with_retry_after(Duration::from_millis(ms)),
                    None => error,
                });
            } else {
                return Err(BlockError::fatal(
                    "AccessDeniedException",
                    format!("call {n} denied"),
                ));
            }
        }
        running.finish();
        Ok(FlakyOutput { calls: n })
    }
}

/// `test.poll`: a long operation seen through successive calls: New 0%, InProgress 50%, Completed 100%.
struct Poll(Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PollInput {
    /// Counts calls.
    key: String,
}

#[derive(Serialize, JsonSchema)]
struct PollOutput {
    progress: u32,
    state: String,
}

impl Block for Poll {
    type Input = PollInput;
    type Output = PollOutput;

    fn spec(&self) -> BlockSpec {
        spec("test.poll", "Poll")
    }

    fn example_output(&self) -> PollOutput {
        PollOutput {
            progress: 100,
            state: "Completed".into(),
        }
    }

    async fn run(&self, _: &BlockContext, input: PollInput) -> Result<PollOutput, BlockError> {
        self.0.enter(&input.key).finish();
        let n = self.0.count(&input.key);
        let state = match n {
            1 => "New",
            2 => "InProgress",
            _ => "Completed",
        };
        Ok(PollOutput {
            progress: (50 * (n - 1)).min(100),
            state: state.into(),
        })
    }
}

/// `test.destroy`: a destructive block.
struct Destroy(Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DestroyInput {
    /// The key to destroy.
    key_id: String,
}

#[derive(Serialize, JsonSchema)]
struct DestroyOutput {
    key_id: String,
    state: String,
}

impl Block for Destroy {
    type Input = DestroyInput;
    type Output = DestroyOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            effect: Effect::Destructive,
            ..spec("test.destroy", "Destroy Key")
        }
    }

    fn example_output(&self) -> DestroyOutput {
        DestroyOutput {
            key_id: "k".into(),
            state: "PendingDeletion".into(),
        }
    }

    async fn run(
        &self,
        _: &BlockContext,
        input: DestroyInput,
    ) -> Result<DestroyOutput, BlockError> {
        self.0.count("destroy");
        Ok(DestroyOutput {
            key_id: input.key_id,
            state: "PendingDeletion".into(),
        })
    }
}

/// `test.secret`: returns a token, declared secret.
struct Secret;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SecretInput {
    /// Whose token.
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct SecretOutput {
    name: String,
    token: String,
}

impl Block for Secret {
    type Input = SecretInput;
    type Output = SecretOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            secret_outputs: &["token"],
            ..spec("test.secret", "Secret")
        }
    }

    fn example_output(&self) -> SecretOutput {
        SecretOutput {
            name: "n".into(),
            token: "t".into(),
        }
    }

    async fn run(&self, _: &BlockContext, input: SecretInput) -> Result<SecretOutput, BlockError> {
        Ok(SecretOutput {
            token: format!("s3cr3t-{}", input.name),
            name: input.name,
        })
    }
}

/// `test.consume`: uses a token, and tells the probe what it got.
struct Consume(Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ConsumeInput {
    /// The token.
    token: String,
}

#[derive(Serialize, JsonSchema)]
struct ConsumeOutput {
    length: usize,
}

impl Block for Consume {
    type Input = ConsumeInput;
    type Output = ConsumeOutput;

    fn spec(&self) -> BlockSpec {
        spec("test.consume", "Consume")
    }

    fn example_output(&self) -> ConsumeOutput {
        ConsumeOutput { length: 1 }
    }

    async fn run(
        &self,
        _: &BlockContext,
        input: ConsumeInput,
    ) -> Result<ConsumeOutput, BlockError> {
        let length = input.token.len();
        lock(&self.0.seen).push(("consume".into(), Value::String(input.token)));
        Ok(ConsumeOutput { length })
    }
}

/// `test.cancel-run`: cancels the run (as Ctrl-C would) and returns at once.
struct CancelRun(Arc<Probe>);

impl Block for CancelRun {
    type Input = PollInput;
    type Output = FlakyOutput;

    fn spec(&self) -> BlockSpec {
        spec("test.cancel-run", "Cancel Run")
    }

    fn example_output(&self) -> FlakyOutput {
        FlakyOutput { calls: 1 }
    }

    async fn run(&self, _: &BlockContext, input: PollInput) -> Result<FlakyOutput, BlockError> {
        let calls = self.0.count(&input.key);
        self.0.cancel.cancel();
        Ok(FlakyOutput { calls })
    }
}

// ---------------------------------------------------------------------------------------------------------
// The harness.

/// Keeps every event.
#[derive(Default)]
struct Recorder(Mutex<Vec<RunEvent>>);

impl RunObserver for Recorder {
    fn event(&self, event: &RunEvent) {
        lock(&self.0).push(event.clone());
    }
}

/// Removes the indentation common to every non-blank line, so that flows can be written indented.
fn dedent(text: &str) -> String {
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

fn plan(yaml: &str, probe: &Arc<Probe>) -> Arc<Plan> {
    let registry = Registry::new()
        .block(Work(probe.clone()))
        .block(Flaky(probe.clone()))
        .block(Poll(probe.clone()))
        .block(Destroy(probe.clone()))
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

fn options() -> ExecOptions {
    ExecOptions {
        seed: Some(7),
        run_id: Some("run-1".into()),
        ..ExecOptions::default()
    }
}

/// A finished run and everything it left behind.
struct Outcome {
    report: RunReport,
    store: Arc<MemoryStore>,
    events: Vec<RunEvent>,
    /// Virtual time the run took.
    took: Duration,
}

impl Outcome {
    fn step(&self, id: &str) -> &StepReport {
        self.report
            .steps
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step `{id}` in {:#?}", self.report))
    }

    fn status(&self, id: &str) -> Status {
        self.step(id).status
    }

    fn reason(&self, id: &str) -> &str {
        self.step(id).reason.as_deref().unwrap_or("")
    }

    fn error(&self, id: &str) -> &BlockError {
        self.step(id)
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("step `{id}` has no error: {:#?}", self.step(id)))
    }

    fn output(&self, id: &str) -> &Value {
        self.step(id)
            .output
            .as_ref()
            .unwrap_or_else(|| panic!("step `{id}` has no output: {:#?}", self.step(id)))
    }

    fn records(&self, step: &str) -> Vec<AttemptRecord> {
        lock(&self.store.attempts)
            .iter()
            .filter(|r| r.step == step)
            .cloned()
            .collect()
    }

    /// The `Retrying` events of a step: (failed attempt, delay).
    fn retries(&self, step: &str) -> Vec<(u32, Duration)> {
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

    fn polls(&self, step: &str) -> Vec<(u32, Option<String>)> {
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

async fn run_with(
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

async fn run(yaml: &str, probe: &Arc<Probe>) -> Outcome {
    run_with(yaml, probe, options(), CancellationToken::new()).await
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------------------------------------
// 1. Ordering.

#[tokio::test(start_paused = true)]
async fn a_step_waits_for_what_it_references_and_its_after_steps_and_independent_steps_overlap() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: order
        steps:
          - id: a
            block: test.work
            with: { label: a, ms: 100 }
          - id: b
            block: test.work
            with: { label: b, ms: 300 }
          - id: by_ref_and_after
            block: test.work
            after: b
            with: { label: by_ref_and_after, value: $.steps.a.output.label }
          - id: by_template
            block: test.work
            with: { label: by_template, ms: 50, value: "from {{steps.a.output.label}}" }
          - id: by_condition
            block: test.work
            if: { path: $.steps.b.output.label, equals: b }
            with: { label: by_condition }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    let (a, b) = (probe.span("a"), probe.span("b"));
    let by_ref = probe.span("by_ref_and_after");
    let by_template = probe.span("by_template");
    let by_condition = probe.span("by_condition");
    // Independent steps run at the same time.
    assert!(
        a.start < b.end && b.start < a.end,
        "a and b did not overlap: {a:?} {b:?}"
    );
    // A reference and `after:` both count.
    assert!(
        by_ref.start >= a.end && by_ref.start >= b.end,
        "{by_ref:?} started before a or b ended"
    );
    // A template reference counts, and only it: the step does not wait for b.
    assert!(
        by_template.start >= a.end,
        "{by_template:?} started before a ended"
    );
    assert!(
        by_template.start < b.end,
        "{by_template:?} waited for b, which it does not reference"
    );
    // A condition's reference counts too (and the condition held).
    assert!(
        by_condition.start >= b.end,
        "{by_condition:?} started before b ended"
    );
    assert_eq!(out.status("by_condition"), Status::Succeeded);
    assert_eq!(out.output("by_ref_and_after")["value"], "a");
    assert_eq!(out.output("by_template")["value"], "from a");
    // Nothing waited more than it had to: b (300ms) then the last step, with no idle gap.
    assert_eq!(out.took, ms(300));
}

// ---------------------------------------------------------------------------------------------------------
// 2. Concurrency bounds.

fn independent_steps(n: usize) -> String {
    let mut yaml = String::from("name: wide\nsteps:\n");
    for k in 0..n {
        yaml.push_str(&format!(
            "  - id: s{k}\n    block: test.work\n    with: {{ label: s{k}, ms: 1000 }}\n"
        ));
    }
    yaml
}

#[tokio::test(start_paused = true)]
async fn the_run_parallelism_bounds_independent_steps() {
    for parallelism in [1, 2, 3] {
        let probe = Arc::new(Probe::default());
        let options = ExecOptions {
            parallelism,
            ..options()
        };
        let out = run_with(
            &independent_steps(6),
            &probe,
            options,
            CancellationToken::new(),
        )
        .await;
        assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
        assert_eq!(
            probe.max.load(Ordering::SeqCst),
            parallelism,
            "with parallelism {parallelism}, the most calls at once"
        );
        assert_eq!(lock(&probe.spans).len(), 6);
        // Six one-second calls, `parallelism` at a time.
        assert_eq!(out.took, Duration::from_secs(6 / parallelism as u64));
    }
}

#[tokio::test(start_paused = true)]
async fn for_each_concurrency_bounds_items_and_the_run_parallelism_bounds_them_too() {
    let flow = |concurrency: usize| {
        format!(
            r#"
            name: items
            steps:
              - id: each
                block: test.work
                for_each: [0, 1, 2, 3, 4, 5, 6, 7]
                concurrency: {concurrency}
                with: {{ label: "item-{{{{item}}}}", ms: 1000 }}
            "#
        )
    };
    let cases = [
        // (concurrency, parallelism, most at once)
        (3, 16, 3),
        (1, 16, 1),
        (4, 2, 2),
    ];
    for (concurrency, parallelism, expected) in cases {
        let probe = Arc::new(Probe::default());
        let options = ExecOptions {
            parallelism,
            ..options()
        };
        let out = run_with(
            &flow(concurrency),
            &probe,
            options,
            CancellationToken::new(),
        )
        .await;
        assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
        assert_eq!(
            probe.max.load(Ordering::SeqCst),
            expected,
            "concurrency {concurrency}, parallelism {parallelism}"
        );
        assert_eq!(out.step("each").items, Some(8));
        assert_eq!(out.step("each").attempts, 8);
        assert_eq!(
            out.took,
            Duration::from_secs(8_u64.div_ceil(expected as u64))
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// 3. Retry.

#[tokio::test(start_paused = true)]
async fn a_retryable_failure_is_retried_until_it_succeeds_and_every_attempt_is_recorded() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: retry
        steps:
          - id: flaky
            block: test.flaky
            retry: { attempts: 5, backoff: 100ms }
            with: { key: f, fail_times: 2 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(out.step("flaky").attempts, 3);
    assert_eq!(out.output("flaky"), &json!({ "calls": 3 }));
    assert_eq!(probe.calls("f"), 3);
    let records = out.records("flaky");
    assert_eq!(
        records.iter().map(|r| r.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    for record in &records[..2] {
        let error = record
            .error
            .as_ref()
            .expect("a failed attempt has its error");
        assert_eq!(error.code, "ThrottlingException");
        assert!(error.retryable);
        assert_eq!(record.output, None);
    }
    assert_eq!(records[2].error, None);
    assert_eq!(records[2].output, Some(json!({ "calls": 3 })));
    assert_eq!(
        out.retries("flaky")
            .iter()
            .map(|(a, _)| *a)
            .collect::<Vec<_>>(),
        [1, 2]
    );
}

#[tokio::test(start_paused = true)]
async fn a_non_retryable_failure_is_not_retried() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: fatal
        steps:
          - id: denied
            block: test.flaky
            retry: { attempts: 5, backoff: 100ms }
            with: { key: d, fail_times: 2, retryable: false }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    assert_eq!(out.status("denied"), Status::Failed);
    assert_eq!(out.step("denied").attempts, 1);
    assert_eq!(probe.calls("d"), 1);
    assert_eq!(out.error("denied").code, "AccessDeniedException");
    assert!(!out.error("denied").retryable);
    assert!(out.retries("denied").is_empty());
    assert_eq!(out.records("denied").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_attempts_limit() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: limit
        steps:
          - id: flaky
            block: test.flaky
            retry: { attempts: 3, backoff: 100ms }
            with: { key: f, fail_times: 10 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    assert_eq!(out.step("flaky").attempts, 3);
    assert_eq!(probe.calls("f"), 3);
    assert_eq!(out.error("flaky").code, "ThrottlingException");
    assert_eq!(out.error("flaky").message, "call 3 throttled");
    assert_eq!(out.retries("flaky").len(), 2);
    assert_eq!(out.records("flaky").len(), 3);
}

const BACKOFF_FLOW: &str = r#"
    name: backoff
    steps:
      - id: flaky
        block: test.flaky
        retry: { attempts: 7, backoff: 1s, max_delay: 5s }
        with: { key: f, fail_times: 6 }
"#;

#[tokio::test(start_paused = true)]
async fn backoff_delays_are_jittered_below_the_doubling_cap_and_are_actually_waited() {
    let mut by_seed = Vec::new();
    for seed in 0..16 {
        let probe = Arc::new(Probe::default());
        let options = ExecOptions {
            seed: Some(seed),
            ..options()
        };
        let out = run_with(BACKOFF_FLOW, &probe, options, CancellationToken::new()).await;
        assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
        let retries = out.retries("flaky");
        assert_eq!(
            retries.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        for &(attempt, delay) in &retries {
            // backoff 1s doubled per retry, capped at 5s: 1, 2, 4, 5, 5, 5.
            let cap = Duration::from_secs(1 << (attempt - 1)).min(Duration::from_secs(5));
            assert!(
                delay <= cap,
                "seed {seed}: retry {attempt} waits {delay:?} > {cap:?}"
            );
        }
        // The executor waits each delay between the calls: the calls take no time on the paused clock.
        let starts = probe.started("f");
        assert_eq!(starts.len(), 7);
        for (k, &(_, delay)) in retries.iter().enumerate() {
            assert_eq!(
                starts[k + 1] - starts[k],
                delay,
                "seed {seed}: gap after call {}",
                k + 1
            );
        }
        by_seed.push(retries.into_iter().map(|(_, d)| d).collect::<Vec<_>>());
    }
    // Full jitter: delays differ from seed to seed and reach past the previous cap.
    let distinct: std::collections::HashSet<_> = by_seed.iter().collect();
    assert!(
        distinct.len() > 8,
        "delays barely vary with the seed: {by_seed:?}"
    );
    assert!(
        by_seed
            .iter()
            .any(|delays| delays[2] > Duration::from_secs(2)),
        "the third delay never went past 2s (its cap is 4s): {by_seed:?}"
    );
    // The same seed gives the same delays.
    let probe = Arc::new(Probe::default());
    let options = ExecOptions {
        seed: Some(3),
        ..options()
    };
    let again = run_with(BACKOFF_FLOW, &probe, options, CancellationToken::new()).await;
    let again: Vec<Duration> = again.retries("flaky").into_iter().map(|(_, d)| d).collect();
    assert_eq!(again, by_seed[3]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_raises_the_delay() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: retry_after
        steps:
          - id: flaky
            block: test.flaky
            retry: { attempts: 3, backoff: 100ms, max_delay: 1s }
            with: { key: f, fail_times: 2, retry_after_ms: 7000 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    let retries = out.retries("flaky");
    assert_eq!(retries.len(), 2);
    for (attempt, delay) in retries {
        assert!(
            delay >= ms(7000),
            "retry {attempt} waits {delay:?}, under the Retry-After"
        );
    }
    let starts = probe.started("f");
    assert!(starts[1] - starts[0] >= ms(7000));
    assert!(starts[2] - starts[1] >= ms(7000));
}

// ---------------------------------------------------------------------------------------------------------
// 4. Timeout.

#[tokio::test(start_paused = true)]
async fn an_attempt_longer_than_the_timeout_fails_with_a_retryable_timeout() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: timeout
        steps:
          - id: slow
            block: test.flaky
            timeout: 1s
            with: { key: slow, fail_times: 1, hang_ms: 60000 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    let error = out.error("slow");
    assert_eq!(error.code, "Timeout");
    assert!(error.retryable);
    assert!(error.message.contains("1s"), "{}", error.message);
    assert_eq!(out.step("slow").attempts, 1);
    // The call was cut at the timeout, not waited out.
    assert_eq!(out.took, Duration::from_secs(1));
    assert_eq!(
        probe.current.load(Ordering::SeqCst),
        0,
        "the timed-out call is still running"
    );
    assert!(lock(&probe.spans).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_attempt_is_retried() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: timeout_retry
        steps:
          - id: once_slow
            block: test.flaky
            timeout: 1s
            retry: { attempts: 3, backoff: 100ms }
            with: { key: once, fail_times: 1, hang_ms: 60000 }
          - id: always_slow
            block: test.flaky
            timeout: 1s
            retry: { attempts: 2, backoff: 100ms }
            on_error: continue
            with: { key: always, fail_times: 99, hang_ms: 60000 }
        "#,
        &probe,
    )
    .await;
    assert_eq!(
        out.status("once_slow"),
        Status::Succeeded,
        "{:#?}",
        out.report
    );
    assert_eq!(out.step("once_slow").attempts, 2);
    let records = out.records("once_slow");
    assert_eq!(
        records[0].error.as_ref().map(|e| e.code.as_str()),
        Some("Timeout")
    );
    assert_eq!(records[1].output, Some(json!({ "calls": 2 })));
    assert_eq!(out.status("always_slow"), Status::Failed);
    assert_eq!(out.error("always_slow").code, "Timeout");
    assert_eq!(out.step("always_slow").attempts, 2);
    assert_eq!(probe.calls("always"), 2);
}

// ---------------------------------------------------------------------------------------------------------
// 5. Until.

#[tokio::test(start_paused = true)]
async fn until_polls_until_the_condition_holds() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: until
        steps:
          - id: migrate
            block: test.poll
            with: { key: m }
            until:
              condition: { path: $.output.state, equals: Completed }
              every: 1s
              timeout: 1m
          - id: after
            block: test.work
            with: { label: after, value: $.steps.migrate.output.progress }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(
        out.output("migrate"),
        &json!({ "progress": 100, "state": "Completed" })
    );
    assert_eq!(probe.calls("m"), 3);
    assert_eq!(out.step("migrate").attempts, 3);
    assert_eq!(out.records("migrate").len(), 3);
    assert_eq!(
        out.polls("migrate"),
        [
            (1, Some("state=New progress=0".to_string())),
            (2, Some("state=InProgress progress=50".to_string())),
        ]
    );
    // One `every` between calls.
    let starts = probe.started("m");
    assert_eq!(starts[1] - starts[0], Duration::from_secs(1));
    assert_eq!(starts[2] - starts[1], Duration::from_secs(1));
    assert_eq!(out.output("after")["value"], 100);
}

#[tokio::test(start_paused = true)]
async fn an_until_that_never_holds_fails_with_until_timeout() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: until_timeout
        steps:
          - id: migrate
            block: test.poll
            with: { key: m }
            until:
              condition: { path: $.output.state, equals: Failed }
              every: 1s
              timeout: 10s
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    let error = out.error("migrate");
    assert_eq!(error.code, "UntilTimeout");
    let calls = probe.calls("m");
    // A call at 0s, 1s… while another still fits in the 10s.
    assert!((10..=11).contains(&calls), "{calls} calls");
    assert!(
        error.message.contains(&format!("after {calls} calls")),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("state=Completed"),
        "{}",
        error.message
    );
    assert!(
        out.took <= Duration::from_secs(10),
        "polled for {:?}",
        out.took
    );
}

// ---------------------------------------------------------------------------------------------------------
// 6. on_error.

#[tokio::test(start_paused = true)]
async fn on_error_continue_keeps_the_run_going_and_leaves_the_error_for_later_steps() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: continue
        steps:
          - id: denied
            block: test.flaky
            on_error: continue
            with: { key: d, fail_times: 1, retryable: false }
          - id: inspect
            block: test.work
            with:
              label: inspect
              value: { code: $.steps.denied.error.code, status: $.steps.denied.status }
          - id: handle
            block: test.work
            if: { path: $.steps.denied.status, equals: failed }
            with: { label: handle }
          - id: needs_output
            block: test.work
            with: { label: needs_output, value: $.steps.denied.output.calls }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(out.report.reason, None);
    assert_eq!(out.status("denied"), Status::Failed);
    assert_eq!(out.error("denied").code, "AccessDeniedException");
    assert_eq!(
        out.output("inspect")["value"],
        json!({ "code": "AccessDeniedException", "status": "failed" })
    );
    assert_eq!(out.status("handle"), Status::Succeeded);
    assert_eq!(out.status("needs_output"), Status::Skipped);
    assert_eq!(
        out.reason("needs_output"),
        "it reads the output of step `denied`, which failed"
    );
    assert!(probe.started("needs_output").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failure_fails_the_run_and_steps_not_started_are_cancelled() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: fail
        steps:
          - id: denied
            block: test.flaky
            with: { key: d, fail_times: 1, retryable: false }
          - id: running
            block: test.work
            with: { label: running, ms: 1000 }
          - id: after_running
            block: test.work
            after: running
            with: { label: after_running }
          - id: after_denied
            block: test.work
            after: denied
            with: { label: after_denied }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    assert_eq!(out.report.reason.as_deref(), Some("step `denied` failed"));
    assert_eq!(out.status("denied"), Status::Failed);
    // A step already running when the failure came finishes.
    assert_eq!(out.status("running"), Status::Succeeded);
    for id in ["after_running", "after_denied"] {
        assert_eq!(out.status(id), Status::Cancelled, "{id}");
        assert_eq!(out.reason(id), "not started: step `denied` failed", "{id}");
        assert!(probe.started(id).is_empty(), "{id} was called");
    }
}

// ---------------------------------------------------------------------------------------------------------
// 7. if: and skip propagation.

#[tokio::test(start_paused = true)]
async fn if_skips_and_the_skip_propagates_through_outputs_but_not_through_after() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: skips
        params:
          go: { type: boolean, default: false }
        steps:
          - id: gated
            block: test.work
            if: { path: $.params.go, equals: true }
            with: { label: gated }
          - id: reads_gated
            block: test.work
            with: { label: reads_gated, value: $.steps.gated.output.label }
          - id: reads_reader
            block: test.work
            with: { label: reads_reader, value: "{{steps.reads_gated.output.label}}" }
          - id: after_gated
            block: test.work
            after: gated
            with: { label: after_gated, value: $.steps.gated.status }
          - id: open
            block: test.work
            if: { not: { path: $.params.go, equals: true } }
            with: { label: open }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(out.status("gated"), Status::Skipped);
    assert_eq!(out.reason("gated"), "its `if:` condition is false");
    assert_eq!(out.status("reads_gated"), Status::Skipped);
    assert_eq!(
        out.reason("reads_gated"),
        "it reads the output of step `gated`, which skipped"
    );
    assert_eq!(out.status("reads_reader"), Status::Skipped);
    assert!(
        out.reason("reads_reader").contains("`reads_gated`"),
        "{}",
        out.reason("reads_reader")
    );
    assert_eq!(out.status("after_gated"), Status::Succeeded);
    assert_eq!(out.output("after_gated")["value"], "skipped");
    assert_eq!(out.status("open"), Status::Succeeded);
    let mut called = probe.finished_labels();
    called.sort();
    assert_eq!(called, ["after_gated", "open"]);
    for id in ["gated", "reads_gated", "reads_reader"] {
        assert_eq!(out.step(id).attempts, 0, "{id}");
        assert_eq!(out.step(id).output, None, "{id}");
        assert!(out.records(id).is_empty(), "{id}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// 8. for_each.

#[tokio::test(start_paused = true)]
async fn for_each_outputs_follow_item_order_whatever_order_items_finish_in() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: fan_out
        steps:
          - id: each
            block: test.work
            for_each:
              - { name: x, ms: 300 }
              - { name: y, ms: 100 }
              - { name: z, ms: 200 }
            with: { label: $.item.name, ms: $.item.ms, value: $.index }
          - id: names
            block: test.work
            with:
              label: names
              value: $.steps.each.output[*].label
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    // They finished y, z, x...
    assert_eq!(probe.finished_labels()[..3], ["y", "z", "x"]);
    // ...and the output keeps x, y, z.
    assert_eq!(
        out.output("each"),
        &json!([
            { "label": "x", "value": 0 },
            { "label": "y", "value": 1 },
            { "label": "z", "value": 2 },
        ])
    );
    assert_eq!(out.output("names")["value"], json!(["x", "y", "z"]));
    assert_eq!(out.step("each").items, Some(3));
    let mut items: Vec<Option<usize>> = out.records("each").iter().map(|r| r.item).collect();
    items.sort();
    assert_eq!(items, [Some(0), Some(1), Some(2)]);
}

#[tokio::test(start_paused = true)]
async fn a_failing_item_fails_the_step() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: fan_out_fail
        steps:
          - id: each
            block: test.work
            for_each: [{ n: a, fail: false }, { n: b, fail: true }, { n: c, fail: false }]
            concurrency: 1
            with: { label: $.item.n, fail: $.item.fail }
          - id: later
            block: test.work
            with: { label: later, value: $.steps.each.output }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Failed);
    assert_eq!(out.status("each"), Status::Failed);
    let error = out.error("each");
    assert_eq!(error.code, "Boom");
    assert_eq!(error.message, "item 1: `b` was told to fail");
    assert_eq!(out.step("each").output, None);
    // With one item at a time, no item starts after the failure.
    assert!(probe.started("c").is_empty());
    assert_eq!(out.status("later"), Status::Cancelled);
}

// ---------------------------------------------------------------------------------------------------------
// 9. Cancellation.

#[tokio::test(start_paused = true)]
async fn cancelling_stops_steps_in_flight_and_reports_every_step() {
    // Several rounds: whether a block that watches the cancellation itself ends before the executor sees
    // the cancellation must not matter.
    for round in 0..16 {
        let probe = Arc::new(Probe::default());
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            trigger.cancel();
        });
        let out = run_with(
            r#"
            name: cancel
            steps:
              - id: quick
                block: test.work
                with: { label: quick, ms: 10 }
              - id: slow
                block: test.work
                with: { label: slow, ms: 60000, value: $.steps.quick.output.label }
              - id: polite_1
                block: test.work
                with: { label: polite_1, ms: 60000, cooperative: true }
              - id: polite_2
                block: test.work
                with: { label: polite_2, ms: 60000, cooperative: true }
              - id: polite_3
                block: test.work
                with: { label: polite_3, ms: 60000, cooperative: true }
              - id: items
                block: test.work
                for_each: [1, 2, 3]
                concurrency: 1
                with: { label: "item-{{item}}", ms: 60000 }
              - id: later
                block: test.work
                with: { label: later, value: $.steps.slow.output.label }
              - id: last
                block: test.work
                after: later
                with: { label: last }
            "#,
            &probe,
            options(),
            cancel,
        )
        .await;
        assert_eq!(
            out.report.status,
            Status::Cancelled,
            "round {round}: {:#?}",
            out.report
        );
        assert_eq!(
            out.report.reason.as_deref(),
            Some("cancelled by the operator")
        );
        assert_eq!(out.status("quick"), Status::Succeeded, "round {round}");
        for id in ["slow", "polite_1", "polite_2", "polite_3", "items"] {
            assert_eq!(
                out.status(id),
                Status::Cancelled,
                "round {round}, step {id}: {:#?}",
                out.step(id)
            );
            assert_eq!(
                out.reason(id),
                "cancelled by the operator while running",
                "{id}"
            );
            assert_eq!(out.step(id).error, None, "round {round}, step {id}");
        }
        assert_eq!(out.step("slow").attempts, 1);
        assert_eq!(
            out.step("items").attempts,
            1,
            "one item at a time, the first in flight"
        );
        for id in ["later", "last"] {
            assert_eq!(out.status(id), Status::Cancelled, "{id}");
            assert!(
                out.reason(id).starts_with("not started"),
                "{id}: {}",
                out.reason(id)
            );
            assert_eq!(out.step(id).attempts, 0, "{id}");
        }
        assert!(probe.started("later").is_empty() && probe.started("last").is_empty());
        // The calls in flight were stopped (dropped), not waited for.
        assert_eq!(out.took, Duration::from_secs(5));
        assert_eq!(probe.current.load(Ordering::SeqCst), 0);
        assert_eq!(probe.finished_labels(), ["quick"]);
        // The store saw the same.
        let stored = lock(&out.store.steps).clone();
        assert_eq!(stored.len(), out.report.steps.len());
        assert_eq!(lock(&out.store.runs)[0].status, Status::Cancelled);
    }
}

#[tokio::test(start_paused = true)]
async fn steps_waiting_for_a_step_that_ends_as_the_run_is_cancelled_are_not_started() {
    // The step that cancels finishes in the same instant: whichever the executor notices first, what
    // waited for it must not start (rounds, because the order in which it notices them varies).
    for round in 0..16 {
        let probe = Arc::new(Probe::default());
        let out = run_with(
            r#"
            name: cancel_at_the_end
            steps:
              - id: trigger
                block: test.cancel-run
                with: { key: trigger }
              - id: next
                block: test.work
                with: { label: next, value: $.steps.trigger.output.calls }
            "#,
            &probe,
            options(),
            probe.cancel.clone(),
        )
        .await;
        assert_eq!(out.report.status, Status::Cancelled, "round {round}");
        assert_eq!(out.status("trigger"), Status::Succeeded, "round {round}");
        assert_eq!(out.status("next"), Status::Cancelled, "round {round}");
        assert_eq!(
            out.reason("next"),
            "not started: cancelled by the operator",
            "round {round}"
        );
        assert!(probe.started("next").is_empty(), "round {round}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// 10. Destructive steps.

const DESTRUCTIVE_FLOW: &str = r#"
    name: destroy
    steps:
      - id: find
        block: test.work
        with: { label: k-1 }
      - id: delete_key
        block: test.destroy
        confirm: true
        with: { key_id: $.steps.find.output.label }
      - id: report
        block: test.work
        after: delete_key
        with: { label: report }
"#;

#[tokio::test(start_paused = true)]
async fn a_destructive_step_is_refused_without_allow_destructive_saying_what_it_would_do() {
    let probe = Arc::new(Probe::default());
    let out = run(DESTRUCTIVE_FLOW, &probe).await;
    assert_eq!(out.report.status, Status::Failed);
    assert_eq!(out.status("find"), Status::Succeeded);
    assert_eq!(out.status("delete_key"), Status::Failed);
    let error = out.error("delete_key");
    assert_eq!(error.code, "DestructiveNotAllowed");
    assert!(!error.retryable);
    assert_eq!(
        error.message,
        r#"step `delete_key` would call `test.destroy` (Destroy Key) with {"key_id":"k-1"}; re-run with `--allow-destructive` to let it"#
    );
    assert_eq!(
        probe.calls("destroy"),
        0,
        "the destructive block was called"
    );
    assert_eq!(out.step("delete_key").attempts, 0);
    assert!(out.records("delete_key").is_empty());
    assert_eq!(out.status("report"), Status::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn a_destructive_step_runs_with_allow_destructive() {
    let probe = Arc::new(Probe::default());
    let options = ExecOptions {
        allow_destructive: true,
        ..options()
    };
    let out = run_with(DESTRUCTIVE_FLOW, &probe, options, CancellationToken::new()).await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    assert_eq!(
        out.output("delete_key"),
        &json!({ "key_id": "k-1", "state": "PendingDeletion" })
    );
    assert_eq!(probe.calls("destroy"), 1);
    assert_eq!(out.status("report"), Status::Succeeded);
}

// ---------------------------------------------------------------------------------------------------------
// 11. The run store.

#[tokio::test(start_paused = true)]
async fn the_store_gets_one_record_per_call_with_the_resolved_input() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: store
        params:
          who: { type: string, default: ops }
        steps:
          - id: flaky
            block: test.flaky
            retry: { attempts: 3, backoff: 10ms }
            with: { key: "{{params.who}}-flaky", fail_times: 1 }
          - id: each
            block: test.work
            for_each: [a, b]
            with: { label: "{{params.who}}-{{item}}", value: $.steps.flaky.output.calls }
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    let records = lock(&out.store.attempts).clone();
    assert_eq!(records.len(), 4, "{records:#?}");
    assert!(records.iter().all(|r| r.run_id == "run-1"));
    assert_eq!(out.report.run_id, "run-1");
    let flaky = out.records("flaky");
    assert_eq!(flaky.len(), 2);
    for record in &flaky {
        assert_eq!(record.input, json!({ "key": "ops-flaky", "fail_times": 1 }));
        assert_eq!(record.item, None);
    }
    let mut each = out.records("each");
    each.sort_by_key(|r| r.item);
    assert_eq!(each[0].item, Some(0));
    assert_eq!(each[0].input, json!({ "label": "ops-a", "value": 2 }));
    assert_eq!(each[1].item, Some(1));
    assert_eq!(each[1].input, json!({ "label": "ops-b", "value": 2 }));
    // A step's records come before the records of the steps after it.
    let last_flaky = records
        .iter()
        .rposition(|r| r.step == "flaky")
        .expect("flaky");
    let first_each = records.iter().position(|r| r.step == "each").expect("each");
    assert!(last_flaky < first_each);
    assert_eq!(
        lock(&out.store.steps)
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>(),
        ["flaky", "each"]
    );
    assert_eq!(
        lock(&out.store.runs).as_slice(),
        std::slice::from_ref(&out.report)
    );
}

#[tokio::test(start_paused = true)]
async fn secret_outputs_are_redacted_in_records_and_report_but_usable_by_later_steps() {
    let probe = Arc::new(Probe::default());
    let out = run(
        r#"
        name: secrets
        steps:
          - id: mint
            block: test.secret
            with: { name: alpha }
          - id: use_token
            block: test.consume
            with: { token: $.steps.mint.output.token }
          - id: use_in_template
            block: test.consume
            with: { token: "Bearer {{steps.mint.output.token}}" }
        outputs:
          name: $.steps.mint.output.name
          token: $.steps.mint.output.token
        "#,
        &probe,
    )
    .await;
    assert_eq!(out.report.status, Status::Succeeded, "{:#?}", out.report);
    // Later steps got the real value.
    let seen: Vec<Value> = lock(&probe.seen).iter().map(|(_, v)| v.clone()).collect();
    assert!(seen.contains(&json!("s3cr3t-alpha")), "{seen:?}");
    assert!(seen.contains(&json!("Bearer s3cr3t-alpha")), "{seen:?}");
    assert_eq!(out.output("use_token"), &json!({ "length": 12 }));
    // The report and the records do not show it.
    assert_eq!(
        out.output("mint"),
        &json!({ "name": "alpha", "token": REDACTED })
    );
    let mint = out.records("mint");
    assert_eq!(
        mint[0].output,
        Some(json!({ "name": "alpha", "token": REDACTED }))
    );
    assert_eq!(
        out.records("use_token")[0].input,
        json!({ "token": REDACTED })
    );
    assert_eq!(
        out.records("use_in_template")[0].input,
        json!({ "token": REDACTED })
    );
    assert_eq!(out.report.outputs["name"], "alpha");
    assert_eq!(out.report.outputs["token"], REDACTED);
    let everything = format!(
        "{}\n{:?}\n{:?}\n{:?}",
        serde_json::to_string(&out.report).expect("json"),
        lock(&out.store.attempts),
        lock(&out.store.steps),
        out.events,
    );
    assert!(
        !everything.contains("s3cr3t"),
        "a secret leaked:\n{everything}"
    );
}
