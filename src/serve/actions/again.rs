//! Which steps of a recorded run would run again when it is resumed or when steps of it are re-run, by
//! the engine's rule ([`Resume::plan`]: a result stands when its step succeeded, is unchanged, holds no
//! redacted secret, is not re-run and depends on nothing that runs again), and which of those are
//! destructive: what an operator confirms by typing the flow's name in the web UI.

use keyflow_engine::block::Effect;
use keyflow_engine::exec::resume::{Continuation, Resume, ResumeError};
use keyflow_engine::plan::Plan;
use keyflow_store::StoredRun;

/// The id a re-run's plan is made under before the run has one (only its own steps are read back).
const NEW_RUN: &str = "<re-run>";

/// Which steps of a plan would run again, by index.
#[derive(Debug, Clone)]
pub struct Again {
    runs: Vec<bool>,
}

impl Again {
    /// What a resume of `run` (`keyflow resume`) runs again.
    pub fn resume(plan: &Plan, run: &StoredRun) -> Result<Again, ResumeError> {
        let id = run.summary.run_id.as_str();
        let to = Continuation {
            run_id: id,
            recorded_id: id,
            continues: true,
            same_params: true,
        };
        let resume = Resume::plan(plan, to, &run.recorded(), &[])?;
        Ok(Again::of(plan, &resume, id))
    }

    /// What a new run re-running `steps` of `run` (`keyflow run --from RUN --rerun STEP`) runs.
    pub fn rerun(plan: &Plan, run: &StoredRun, steps: &[String]) -> Result<Again, ResumeError> {
        let to = Continuation {
            run_id: NEW_RUN,
            recorded_id: &run.summary.run_id,
            continues: false,
            same_params: true,
        };
        let resume = Resume::plan(plan, to, &run.recorded(), steps)?;
        Ok(Again::of(plan, &resume, NEW_RUN))
    }

    fn of(plan: &Plan, resume: &Resume, run_id: &str) -> Again {
        let reused = resume.run(run_id);
        Again {
            runs: plan
                .steps
                .iter()
                .map(|s| {
                    reused.is_none_or(|r| {
                        !r.reused.contains_key(&s.id) && !r.skipped.contains_key(&s.id)
                    })
                })
                .collect(),
        }
    }

    /// The ids of the steps that would run again and are destructive, in file order.
    pub fn destructive<'p>(&self, plan: &'p Plan) -> Vec<&'p str> {
        plan.steps
            .iter()
            .zip(&self.runs)
            .filter(|(step, again)| **again && step.effect() == Effect::Destructive)
            .map(|(step, _)| step.id.as_str())
            .collect()
    }

    /// How many steps would run again.
    pub fn count(&self) -> usize {
        self.runs.iter().filter(|again| **again).count()
    }
}

/// For each step of `plan` (by index), the destructive steps a re-run of `run` from that step would run:
/// those that run again in any re-run (they did not succeed, or their result cannot stand), and those
/// among the step itself and every step that depends on it, directly or not. The same answer as
/// [`Again::rerun`] for each step, in one pass over the plan per destructive step, so that the run page
/// of a long run stays fast.
pub fn rerun_each<'p>(plan: &'p Plan, run: &StoredRun) -> Vec<Vec<&'p str>> {
    let n = plan.steps.len();
    let destructive: Vec<usize> = (0..n)
        .filter(|&i| plan.steps[i].effect() == Effect::Destructive)
        .collect();
    if destructive.is_empty() {
        return vec![Vec::new(); n];
    }
    // Steps that changed since the run cannot stand; a re-run must take them along.
    let base = match Again::rerun(plan, run, &[]) {
        Err(ResumeError::Changed(changed)) => Again::rerun(plan, run, &changed).ok(),
        other => other.ok(),
    };
    let base = base.map_or_else(|| vec![false; n], |again| again.runs);
    let mut each = vec![Vec::new(); n];
    for &d in &destructive {
        let upstream = upstream_of(plan, d);
        for (i, shown) in each.iter_mut().enumerate() {
            if base[d] || upstream[i] {
                shown.push(plan.steps[d].id.as_str());
            }
        }
    }
    each
}

/// Step `target` and every step it depends on, directly or not.
fn upstream_of(plan: &Plan, target: usize) -> Vec<bool> {
    let mut seen = vec![false; plan.steps.len()];
    let mut stack = vec![target];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        stack.extend(plan.steps[i].deps.iter().copied().filter(|&d| !seen[d]));
    }
    seen
}
