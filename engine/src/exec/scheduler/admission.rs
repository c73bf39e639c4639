//! Whether a step whose dependencies are done starts: not while the run is stopping, skipped when its
//! `if:` is false or an output it reads does not exist, refused when destructive and not allowed to.

use serde_json::Value;

use super::Scheduler;
use crate::block::{BlockError, Effect};
use crate::context::Status;
use crate::exec::outcome::StepOutcome;
use crate::exec::step::{redacted_input, resolve_input};
use crate::expr::Scope;
use crate::redact::REDACTED;

impl Scheduler {
    /// How step `i` ends without running, or `None` when it starts. A refusal is the only outcome with an
    /// error.
    pub(super) fn admission(&self, i: usize) -> Option<StepOutcome> {
        let shared = &self.shared;
        let step = &shared.plan.steps[i];
        // Done before the resume: whatever happens to the rest of the run, it happened.
        if let Some(outcome) = self.reused(i) {
            return Some(outcome);
        }
        if let Some((_, why)) = &self.stopping {
            let reason = format!("not started: {why}");
            return Some(StepOutcome::not_run(Status::Cancelled, reason));
        }
        let missing = step.output_deps.iter().find_map(|&d| {
            let status = self.outcomes[d].as_ref().map(|o| o.status)?;
            (status != Status::Succeeded).then(|| (shared.plan.steps[d].id.clone(), status))
        });
        if let Some((id, status)) = missing {
            let reason = format!(
                "it reads the output of step `{id}`, which {}",
                status.name()
            );
            return Some(StepOutcome::not_run(Status::Skipped, reason));
        }
        let scope = Scope {
            params: &shared.params,
            run: &shared.run,
            steps: &self.entries,
            item: None,
            output: None,
        };
        if step.condition.as_ref().is_some_and(|c| !c.holds(&scope)) {
            let reason = "its `if:` condition is false".to_string();
            return Some(StepOutcome::not_run(Status::Skipped, reason));
        }
        // An escalating input, or the input naming the operation, decides at run time.
        let destructive = step
            .call
            .effect_at_run(&step.with, |expr| expr.resolve(&scope).ok())
            == Effect::Destructive;
        (destructive && !self.allow_destructive)
            .then(|| StepOutcome::refused(self.refusal(i, &scope)))
    }

    /// The recorded result of step `i`, when it stands: the resume reuses it, every step it depends on
    /// was reused too, and — when the run's parameters differ from the recorded run's — its input
    /// resolves to what it was called with then.
    fn reused(&self, i: usize) -> Option<StepOutcome> {
        let shared = &self.shared;
        let step = &shared.plan.steps[i];
        let resumed = shared.resumed_run()?;
        let deps_reused = step
            .deps
            .iter()
            .all(|&d| self.outcomes[d].as_ref().is_some_and(|o| o.reused));
        if !deps_reused {
            return None;
        }
        if let Some(reason) = resumed.skipped.get(&step.id) {
            let mut outcome = StepOutcome::not_run(Status::Skipped, reason.clone());
            outcome.reused = true;
            return Some(outcome);
        }
        let output = resumed.reused.get(&step.id)?;
        if let Some(recorded) = resumed.inputs.get(&step.id) {
            let scope = Scope {
                params: &shared.params,
                run: &shared.run,
                steps: &self.entries,
                item: None,
                output: None,
            };
            let input = resolve_input(step, &scope).ok()?;
            let input = redacted_input(shared, step, &input);
            if &input != recorded {
                return None;
            }
        }
        Some(StepOutcome::reused(
            output.clone(),
            prior_attempts(resumed, &step.id),
        ))
    }

    /// The error of a destructive step the run may not start, saying exactly what it would have done.
    fn refusal(&self, i: usize, scope: &Scope<'_>) -> BlockError {
        let step = &self.shared.plan.steps[i];
        let mut input = serde_json::Map::new();
        for (key, expr) in &step.with {
            let value = match expr.resolve(scope) {
                Ok(_) if step.secret_inputs.contains(key) => Value::String(REDACTED.into()),
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
            step.call.spec().id,
            step.call.spec().title,
            Value::Object(input)
        );
        BlockError::fatal(
            "DestructiveNotAllowed",
            self.shared.secrets.mask_str(&message),
        )
    }
}

/// Calls `step` made before the resume.
fn prior_attempts(run: &crate::exec::resume::ResumedRun, step: &str) -> u32 {
    run.attempts.get(step).copied().unwrap_or(0)
}
