//! What the run of a firing reuses of recorded runs. A firing taken over from a daemon that went silent,
//! or asked to go on, resumes its own run from the record (as `keyflow resume`); a re-run is a new run
//! that reuses an earlier run's results except the steps it re-runs and what depends on them (as
//! `keyflow run FLOW --from RUN --rerun STEP`). What stands is the engine's rule ([`Resume::plan`]).

use std::sync::Arc;

use keyflow_engine::exec::resume::{Continuation, Resume};
use keyflow_engine::exec::store::StoreError;
use keyflow_engine::plan::Plan;
use keyflow_store::{Firing, Rerun, RunState};
use serde_json::Value;

use crate::serve::Daemon;

/// What a firing's run starts from.
pub enum Reuse {
    /// Nothing: a run of its own from the first step.
    Nothing,
    /// These recorded results.
    Recorded(Arc<Resume>),
    /// The run had ended (in this state) before its daemon could record it: the firing is only closed.
    Ended(RunState),
    /// The store did not answer: the firing is handed back for another try.
    Later(StoreError),
    /// The run cannot go on as asked, for this reason: the firing fails.
    Refused(String),
}

/// What the run of `firing`, of `plan` with the bound `params`, reuses.
pub async fn reuse(daemon: &Daemon, firing: &Firing, plan: &Plan, params: &Value) -> Reuse {
    if !firing.resume {
        return match &firing.rerun {
            Some(rerun) => rerun_of(daemon, firing, plan, params, rerun).await,
            None => Reuse::Nothing,
        };
    }
    let stored = match daemon.store.show(&firing.run_id).await {
        // Taken over before its run began: it begins now, as it was asked to.
        Err(StoreError::NotFound(_)) => {
            return match &firing.rerun {
                Some(rerun) => rerun_of(daemon, firing, plan, params, rerun).await,
                None => Reuse::Nothing,
            };
        }
        Err(e) => return Reuse::Later(e),
        Ok(stored) => stored,
    };
    match stored.summary.status {
        // A run that ended before its daemon could say so is only closed, unless it was asked to go on
        // (then one that failed or was cancelled goes on, as `keyflow resume`).
        status @ (RunState::Succeeded | RunState::Failed | RunState::Cancelled)
            if status == RunState::Succeeded || !firing.asked =>
        {
            Reuse::Ended(status)
        }
        _ => {
            let to = Continuation {
                run_id: &firing.run_id,
                recorded_id: &firing.run_id,
                continues: true,
                same_params: true,
            };
            match Resume::plan(plan, to, &stored.recorded(), &[]) {
                Ok(resume) => Reuse::Recorded(Arc::new(resume)),
                Err(e) => Reuse::Refused(format!("cannot resume: {e}")),
            }
        }
    }
}

/// A new run reusing what `rerun.from` recorded, except `rerun.steps` and what depends on them.
async fn rerun_of(
    daemon: &Daemon,
    firing: &Firing,
    plan: &Plan,
    params: &Value,
    rerun: &Rerun,
) -> Reuse {
    let stored = match daemon.store.show(&rerun.from).await {
        Ok(stored) => stored,
        Err(StoreError::NotFound(_)) => {
            return Reuse::Refused(format!(
                "cannot re-run steps of run `{}`: it is no longer in the run store",
                rerun.from
            ));
        }
        Err(e) => return Reuse::Later(e),
    };
    let to = Continuation {
        run_id: &firing.run_id,
        recorded_id: &stored.summary.run_id,
        continues: false,
        same_params: &stored.params == params,
    };
    match Resume::plan(plan, to, &stored.recorded(), &rerun.steps) {
        Ok(resume) => Reuse::Recorded(Arc::new(resume)),
        Err(e) => Reuse::Refused(format!("cannot re-run steps of run `{}`: {e}", rerun.from)),
    }
}
