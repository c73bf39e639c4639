//! `keyflow resume`: what a run continued from its record reuses. The caller (the CLI, from the run
//! store) decides which recorded results still stand — steps that succeeded, are unchanged in the flow,
//! and whose output holds no redacted secret — and the executor settles those steps with them instead of
//! running them, continues each step's attempt numbering, and tells the first attempt of a call whose
//! answer was lost that it is recovering.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde_json::Value;

use super::report::RunReport;
use super::store::{AttemptRecord, Intent};

/// What a resumed run reuses, for it and its template runs.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    /// By run id (the run's own, and its template runs' `<id>/<step>[/<item>]`).
    pub runs: HashMap<String, ResumedRun>,
    /// Calls recorded as about to be made with no answer recorded: (run id, step, item).
    pub in_doubt: HashSet<(String, String, Option<usize>)>,
}

/// What one run of a resumed tree reuses.
#[derive(Debug, Clone, Default)]
pub struct ResumedRun {
    /// Steps whose recorded output stands, by id: they are not run again.
    pub reused: HashMap<String, Value>,
    /// Calls each step already made, by id: a step that runs again numbers its attempts on from there.
    pub attempts: HashMap<String, u32>,
    /// Steps that were skipped and are unchanged, with why: their condition would say the same again
    /// (same parameters, same results before them), so they stay skipped and what follows them stands.
    pub skipped: HashMap<String, String>,
    /// When the run's parameters differ from the recorded run's: the input (secrets redacted) each
    /// reused step was called with, by id. Its result stands only if its input resolves to the same now.
    pub inputs: HashMap<String, Value>,
}

impl Resume {
    /// What run `run_id` reuses, if it is part of the resumed tree.
    pub fn run(&self, run_id: &str) -> Option<&ResumedRun> {
        self.runs.get(run_id)
    }

    /// Whether the call of `step` (and `item`) in run `run_id` may have taken effect unrecorded.
    pub fn in_doubt(&self, run_id: &str, step: &str, item: Option<usize>) -> bool {
        self.in_doubt
            .contains(&(run_id.to_string(), step.to_string(), item))
    }
}

/// What the store recorded of a run and its template runs, as `keyflow resume` reads it.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// By run id: the run and its template runs.
    pub runs: HashMap<String, RecordedRun>,
    /// Calls recorded as about to be made with no answer recorded: (run id, step, item).
    pub unanswered: Vec<(String, String, Option<usize>)>,
}

impl Recorded {
    /// What a run's record says for resuming it: each of its runs' steps that ended (outputs as
    /// recorded, calls made), the step digests each ran with (by run id), and the calls recorded as about
    /// to be made (`intents`) that have no answer among `attempts`.
    pub fn of(
        report: &RunReport,
        definitions: &HashMap<String, IndexMap<String, String>>,
        attempts: &[AttemptRecord],
        intents: &[Intent],
    ) -> Recorded {
        fn walk(report: &RunReport, into: &mut HashMap<String, RecordedRun>) {
            let run = into.entry(report.run_id.clone()).or_default();
            for step in &report.steps {
                run.steps.insert(
                    step.id.clone(),
                    RecordedStep {
                        status: step.status,
                        output: step.output.clone(),
                        attempts: step.attempts,
                        input: None,
                        answer: None,
                        reason: step.reason.clone(),
                    },
                );
            }
            for child in report.steps.iter().flat_map(|s| s.runs.iter().flatten()) {
                walk(child, into);
            }
        }
        let mut runs = HashMap::new();
        walk(report, &mut runs);
        for (run_id, steps) in definitions {
            runs.entry(run_id.clone()).or_default().definitions = steps
                .iter()
                .map(|(step, digest)| (step.clone(), digest.clone()))
                .collect();
        }
        let mut last: HashMap<(&str, &str), &AttemptRecord> = HashMap::new();
        for attempt in attempts.iter().filter(|a| a.item.is_none()) {
            let latest = last
                .entry((&attempt.run_id, &attempt.step))
                .or_insert(attempt);
            if attempt.attempt >= latest.attempt {
                *latest = attempt;
            }
        }
        for ((run_id, step), attempt) in last {
            // A step whose row is missing was under way when the record stopped (the process died
            // between its last call's answer and its end).
            let step = runs
                .entry(run_id.to_string())
                .or_default()
                .steps
                .entry(step.to_string())
                .or_insert_with(|| RecordedStep {
                    status: crate::context::Status::Running,
                    output: None,
                    attempts: attempt.attempt,
                    input: None,
                    answer: None,
                    reason: None,
                });
            step.input = Some(attempt.input.clone());
            if attempt.error.is_none() {
                step.answer = attempt.output.clone();
            }
        }
        let answered: HashSet<(&str, &str, Option<usize>, u32)> = attempts
            .iter()
            .map(|a| (a.run_id.as_str(), a.step.as_str(), a.item, a.attempt))
            .collect();
        let unanswered = intents
            .iter()
            .filter(|i| {
                !answered.contains(&(i.run_id.as_str(), i.step.as_str(), i.item, i.attempt))
            })
            .map(|i| (i.run_id.clone(), i.step.clone(), i.item))
            .collect();
        Recorded { runs, unanswered }
    }
}

/// One recorded run.
#[derive(Debug, Clone, Default)]
pub struct RecordedRun {
    /// Its steps that ended, by id.
    pub steps: HashMap<String, RecordedStep>,
    /// Each step's digest as the flow was written when it ran, by id.
    pub definitions: HashMap<String, String>,
}

/// One recorded step.
#[derive(Debug, Clone)]
pub struct RecordedStep {
    /// How it ended.
    pub status: crate::context::Status,
    /// Its output as recorded (secrets redacted).
    pub output: Option<Value>,
    /// Calls it made.
    pub attempts: u32,
    /// The input (secrets redacted) of its last call, for a block step without `for_each`.
    pub input: Option<Value>,
    /// The output of its last call when that call succeeded, for a block step without `for_each`.
    pub answer: Option<Value>,
    /// Why it was skipped or cancelled.
    pub reason: Option<String>,
}

/// Why a recorded run cannot be continued as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    /// Steps that succeeded changed in the flow since: their results may not stand.
    #[error(
        "the flow changed since the run: step{} {} succeeded as the flow was then; \
         rerun {} with `--rerun STEP` (which also reruns what depends on it), or run the flow anew",
        if .0.len() == 1 { "" } else { "s" },
        backticked(.0),
        if .0.len() == 1 { "it" } else { "them" }
    )]
    Changed(Vec<String>),
    /// `--rerun` names a step the flow does not have.
    #[error("`--rerun {0}`: the flow has no step `{0}`")]
    UnknownStep(String),
}

fn backticked(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A recorded output that cannot stand in for the step's real one: a secret in it was redacted.
fn redacted(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains(crate::redact::REDACTED),
        Value::Array(list) => list.iter().any(redacted),
        Value::Object(map) => map.values().any(redacted),
        _ => false,
    }
}

/// Which run goes on from which record.
#[derive(Debug, Clone, Copy)]
pub struct Continuation<'a> {
    /// The run that reuses.
    pub run_id: &'a str,
    /// The run recorded: the same id for `keyflow resume`, another run's for `run --from`.
    pub recorded_id: &'a str,
    /// The same run goes on (`keyflow resume`): attempts number on and unanswered calls are recovered.
    pub continues: bool,
    /// The run's parameters are the recorded run's. When not, only the results of block steps (without
    /// `for_each`) whose input resolves to what was recorded can stand, checked as each is reached.
    pub same_params: bool,
}

impl Resume {
    /// What the run `to.run_id` of `plan` reuses of `recorded`. A step's result stands when it
    /// succeeded, its step is unchanged, its output holds no redacted secret, it is not in `rerun`, no
    /// step it depends on runs again, and — when the parameters differ — its input is the same; a step
    /// that runs again reruns every step that depends on it.
    pub fn plan(
        plan: &crate::plan::Plan,
        to: Continuation<'_>,
        recorded: &Recorded,
        rerun: &[String],
    ) -> Result<Resume, ResumeError> {
        for name in rerun {
            if !plan.steps.iter().any(|s| &s.id == name) {
                return Err(ResumeError::UnknownStep(name.clone()));
            }
        }
        let mut resume = Resume::default();
        let changed = resume.add(plan, to, recorded, rerun);
        let refused: Vec<String> = changed
            .into_iter()
            .filter(|step| !rerun.contains(step))
            .collect();
        if !refused.is_empty() {
            return Err(ResumeError::Changed(refused));
        }
        if to.continues {
            for (run, step, item) in &recorded.unanswered {
                resume.in_doubt.insert((run.clone(), step.clone(), *item));
            }
        }
        Ok(resume)
    }

    /// Adds what run `run_id` of `plan` reuses; returns the steps that succeeded but changed.
    fn add(
        &mut self,
        plan: &crate::plan::Plan,
        to: Continuation<'_>,
        recorded: &Recorded,
        rerun: &[String],
    ) -> Vec<String> {
        let Continuation {
            run_id,
            recorded_id,
            continues,
            same_params,
        } = to;
        let Some(record) = recorded.runs.get(recorded_id) else {
            return Vec::new();
        };
        // A step that succeeded, or whose one call was answered with success before the record
        // stopped: a block step without `until:` or `for_each` ends with its call's answer, so that
        // answer is its result (calling again would make a second key, or a migration already made).
        let succeeded = |step: &crate::plan::PlannedStep| -> Option<(Value, Option<Value>)> {
            let recorded = record.steps.get(&step.id)?;
            if recorded.status == crate::context::Status::Succeeded {
                let output = recorded.output.clone().unwrap_or(Value::Null);
                return Some((output, recorded.input.clone()));
            }
            let single = matches!(step.call, crate::plan::Call::Block(_))
                && step.until.is_none()
                && step.for_each.is_none()
                && recorded.status == crate::context::Status::Running;
            let answer = recorded.answer.clone().filter(|_| single)?;
            Some((answer, recorded.input.clone()))
        };
        let changed: Vec<String> = plan
            .steps
            .iter()
            .filter(|s| succeeded(s).is_some())
            .filter(|s| record.definitions.get(&s.id) != Some(&s.definition))
            .map(|s| s.id.clone())
            .collect();
        // In topological order, so that a step knows whether what it depends on runs again.
        let mut runs_again = vec![false; plan.steps.len()];
        let mut run = ResumedRun::default();
        for &i in &plan.order {
            let step = &plan.steps[i];
            let stands = succeeded(step).and_then(|(output, recorded_input)| {
                // With other parameters, only an input recorded whole can be compared.
                let input = match (&step.call, &step.for_each, recorded_input) {
                    _ if same_params => None,
                    (crate::plan::Call::Block(_), None, Some(input)) => Some(input),
                    _ => return None,
                };
                let fresh = !rerun.contains(&step.id)
                    && !changed.contains(&step.id)
                    && !redacted(&output)
                    && step.deps.iter().all(|&d| !runs_again[d]);
                fresh.then_some((output, input))
            });
            let skipped = record.steps.get(&step.id).filter(|s| {
                s.status == crate::context::Status::Skipped
                    && same_params
                    && !rerun.contains(&step.id)
                    && record.definitions.get(&step.id) == Some(&step.definition)
                    && step.deps.iter().all(|&d| !runs_again[d])
            });
            if let Some(recorded) = skipped {
                let reason = recorded.reason.clone().unwrap_or_default();
                run.skipped.insert(step.id.clone(), reason);
                continue;
            }
            match stands {
                Some((output, input)) => {
                    run.reused.insert(step.id.clone(), output);
                    if let Some(input) = input {
                        run.inputs.insert(step.id.clone(), input);
                    }
                }
                None => runs_again[i] = true,
            }
            if continues && let Some(recorded_step) = record.steps.get(&step.id) {
                run.attempts.insert(step.id.clone(), recorded_step.attempts);
            }
        }
        // A template step that runs again continues its template runs, unless it is to run anew.
        for (i, step) in plan.steps.iter().enumerate() {
            let Some(template) = step.call.template() else {
                continue;
            };
            if !runs_again[i] || rerun.contains(&step.id) || changed.contains(&step.id) {
                continue;
            }
            let prefix = format!("{recorded_id}/{}", step.id);
            for child in recorded.runs.keys() {
                let Some(rest) = child.strip_prefix(&prefix) else {
                    continue;
                };
                if !(rest.is_empty() || rest.starts_with('/') && !rest[1..].contains('/')) {
                    continue;
                }
                let child_id = format!("{run_id}/{}{rest}", step.id);
                let to = Continuation {
                    run_id: &child_id,
                    recorded_id: child,
                    ..to
                };
                self.add(&template.plan, to, recorded, &[]);
            }
        }
        self.runs.insert(run_id.to_string(), run);
        changed
    }
}
