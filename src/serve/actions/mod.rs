//! What the HTTP API and the web UI both do to runs: start a run of a flow, stop a run, resume one, run
//! steps of one again. The rules, the records and the log lines are the same whichever asked; each answers
//! a [`Refusal`] its own way (the API as JSON with a stable code, the UI as a page).
//!
//! - [`again`]: which steps a resume or a re-run would run again, and which of those are destructive
//!   (what the UI's typed confirmation is about).

pub mod again;

use std::net::SocketAddr;
use std::sync::Arc;

use indexmap::IndexMap;
use keyflow_engine::exec::store::StoreError;
use keyflow_engine::plan::{ParamError, ParamValue, Plan};
use keyflow_store::{Firing, FiringStatus, Rerun, RunState, StoredRun};
use serde_json::{Map, Value};

use super::Daemon;
use super::catalog::Loaded;
use crate::commands::resume::refusal;
pub use again::Again;

/// Who asked, for the log: `through the API from 127.0.0.1:50312`.
#[derive(Debug, Clone, Copy)]
pub struct Via {
    /// `the API` or `the web UI`.
    pub channel: &'static str,
    /// The client's address.
    pub remote: SocketAddr,
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "through {} from {}", self.channel, self.remote)
    }
}

/// Why an action was not done.
#[derive(Debug)]
pub enum Refusal {
    /// No run of that id (or prefix) in the store.
    UnknownRun(String),
    /// The run was asked for and has not started, or never will: its firing says where it is.
    NotStarted(String, Box<Firing>),
    /// The params do not fit the flow (`file` is its file as named, for diagnostics).
    InvalidParams {
        /// The flow.
        flow: String,
        /// Its file.
        file: String,
        /// Every problem.
        errors: Vec<ParamError>,
    },
    /// The run's state does not allow it (409).
    Conflict(String),
    /// The request cannot be carried out as it is written: a step the flow does not have, a flow this
    /// daemon does not serve (422).
    Unprocessable(String),
    /// The store did not answer, or refused.
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Refusal {
        Refusal::Store(error)
    }
}

/// 202 of a cancel: where the run is.
#[derive(Debug, Clone)]
pub struct Cancelled {
    /// The run's id.
    pub run_id: String,
    /// `skipped`: it had not started and never will; `running`: it is being stopped.
    pub firing_status: FiringStatus,
    /// Whether this daemon runs it (and stopped it at once).
    pub here: bool,
}

/// A recorded run about to go on (resumed) or be run again in part (re-run), with what would run.
pub struct Continued {
    /// The run as the store holds it.
    pub run: StoredRun,
    /// The plan of its flow as served now.
    pub plan: Arc<Plan>,
    /// Which steps would run again.
    pub again: Again,
}

/// Starts a run of `loaded` with `params` (typed JSON), checked by the rules `keyflow run` checks its
/// params by.
pub async fn start(
    daemon: &Daemon,
    loaded: &Loaded,
    params: Map<String, Value>,
    allow_destructive: bool,
    via: Via,
) -> Result<Firing, Refusal> {
    let flow = &loaded.plan.name;
    let given: IndexMap<String, ParamValue> = params
        .iter()
        .map(|(name, value)| (name.clone(), ParamValue::Json(value.clone())))
        .collect();
    if let Err(errors) = loaded.plan.bind_params(&given) {
        return Err(Refusal::InvalidParams {
            flow: flow.clone(),
            file: loaded.source.name.clone(),
            errors,
        });
    }
    let firing = daemon
        .store
        .request_run(flow, &Value::Object(params), allow_destructive)
        .await?;
    daemon.metrics.firing(flow, None, firing.status);
    daemon.wake.notify_one();
    daemon.log(format_args!(
        "run {} of `{flow}` asked for {via}",
        firing.run_id
    ));
    Ok(firing)
}

/// Stops a run: at once when this daemon runs it, and through the store for whichever daemon does.
pub async fn cancel(daemon: &Daemon, id: &str, via: Via) -> Result<Cancelled, Refusal> {
    let (run_id, state) = match daemon.store.show(id).await {
        Ok(run) => (run.summary.run_id, Some(run.summary.status)),
        Err(StoreError::NotFound(_)) => match daemon.store.firing_of_run(id).await? {
            Some(firing) => (firing.run_id, None),
            None => return Err(Refusal::UnknownRun(id.to_string())),
        },
        Err(e) => return Err(e.into()),
    };
    let here = daemon
        .running()
        .values()
        .find(|local| local.run_id == run_id)
        .map(|local| local.cancel.clone());
    if let Some(cancel) = &here {
        cancel.cancel();
    }
    let asked = daemon.store.request_cancel(&run_id).await?;
    let Some(firing_status) = asked.or(here.as_ref().map(|_| FiringStatus::Running)) else {
        return Err(Refusal::Conflict(match state {
            Some(RunState::Running) => format!(
                "run `{run_id}` is not run by a keyflow serve (a `keyflow run` process runs it): stop that process"
            ),
            Some(state) => format!(
                "run `{run_id}` already ended ({}): nothing to cancel",
                state.name()
            ),
            None => format!("run `{run_id}` did not start and will not: nothing to cancel"),
        }));
    };
    daemon.log(format_args!("run {run_id} asked to stop {via}"));
    Ok(Cancelled {
        run_id,
        firing_status,
        here: here.is_some(),
    })
}

/// The recorded run `id` names (its id or the start of it, as the CLI takes it); a run asked for that
/// has not started is [`Refusal::NotStarted`], with its firing.
pub async fn recorded(daemon: &Daemon, id: &str) -> Result<StoredRun, Refusal> {
    match daemon.store.show(id).await {
        Ok(run) => Ok(run),
        Err(StoreError::NotFound(_)) => match daemon.store.firing_of_run(id).await? {
            Some(firing) => {
                let why = match firing.status {
                    FiringStatus::Skipped => format!(
                        "run `{id}` did not start: {}",
                        firing.reason.as_deref().unwrap_or("its firing was skipped")
                    ),
                    status => format!(
                        "run `{id}` has not started yet: its firing is {}",
                        status.name()
                    ),
                };
                Err(Refusal::NotStarted(why, Box::new(firing)))
            }
            None => Err(Refusal::UnknownRun(id.to_string())),
        },
        Err(e) => Err(e.into()),
    }
}

/// A recorded run that may go on as `keyflow resume` takes it (failed, cancelled or interrupted, not a
/// template's, its flow served, not already going on), with the steps that would run again.
pub async fn resumable(daemon: &Daemon, id: &str) -> Result<Continued, Refusal> {
    let run = recorded(daemon, id).await?;
    let summary = &run.summary;
    let run_id = &summary.run_id;
    if let Some(why) = refusal(summary) {
        return Err(Refusal::Conflict(why));
    }
    let Some(plan) = served_plan(daemon, &summary.flow) else {
        return Err(Refusal::Conflict(format!(
            "run `{run_id}` ran flow `{}`, which this daemon does not serve: serve its file, or resume it with `keyflow resume {run_id}`",
            summary.flow
        )));
    };
    idle(daemon, run_id).await?;
    let again = Again::resume(&plan, &run).map_err(|e| Refusal::Conflict(e.to_string()))?;
    Ok(Continued { run, plan, again })
}

/// Asks for a resumable run to go on (with its recorded params).
pub async fn resume(
    daemon: &Daemon,
    continued: &Continued,
    allow_destructive: bool,
    via: Via,
) -> Result<Firing, Refusal> {
    let summary = &continued.run.summary;
    let firing = daemon
        .store
        .request_resume(
            &summary.run_id,
            &summary.flow,
            &continued.run.params,
            allow_destructive,
        )
        .await?;
    daemon.metrics.firing(&summary.flow, None, firing.status);
    daemon.wake.notify_one();
    daemon.log(format_args!(
        "run {} of `{}` asked to resume {via}",
        summary.run_id, summary.flow
    ));
    Ok(firing)
}

/// A recorded run whose `steps` may run again in a new run (`keyflow run FLOW --from RUN --rerun STEP`):
/// a top-level run that has ended and is not going on again, of a flow served that has those steps and
/// that the run's params still fit; with the steps that would run again.
pub async fn rerunnable(daemon: &Daemon, id: &str, steps: &[String]) -> Result<Continued, Refusal> {
    let run = recorded(daemon, id).await?;
    let summary = &run.summary;
    let run_id = &summary.run_id;
    if let Some(parent) = &summary.parent {
        return Err(Refusal::Conflict(format!(
            "run `{run_id}` is a template's run: re-run the step of run `{}` that ran it",
            parent.run_id
        )));
    }
    if summary.status == RunState::Running {
        return Err(Refusal::Conflict(format!(
            "run `{run_id}` is still running: wait for it to end, or cancel it, then re-run its steps"
        )));
    }
    idle(daemon, run_id).await?;
    let Some(plan) = served_plan(daemon, &summary.flow) else {
        return Err(Refusal::Unprocessable(format!(
            "run `{run_id}` ran flow `{}`, which this daemon does not serve: serve its file, or re-run with `keyflow run FILE --from {run_id} --rerun STEP`",
            summary.flow
        )));
    };
    if steps.is_empty() {
        return Err(Refusal::Unprocessable(
            "no step to re-run: name at least one of the flow's steps".to_string(),
        ));
    }
    if let Some(unknown) = steps
        .iter()
        .find(|s| !plan.steps.iter().any(|p| &p.id == *s))
    {
        let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        return Err(Refusal::Unprocessable(format!(
            "flow `{}` has no step `{unknown}`{}",
            plan.name,
            match keyflow_engine::diagnostic::suggest(unknown, &ids) {
                Some(close) => format!("; did you mean `{close}`?"),
                None => format!("; its steps are `{}`", ids.join("`, `")),
            }
        )));
    }
    if let Err(errors) = plan.bind_params(&given(&run.params)) {
        return Err(Refusal::Unprocessable(format!(
            "the params of run `{run_id}` no longer fit flow `{}`: {}; start a new run instead",
            plan.name,
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let again = Again::rerun(&plan, &run, steps).map_err(|e| Refusal::Conflict(e.to_string()))?;
    Ok(Continued { run, plan, again })
}

/// Asks for a new run that runs `steps` of a rerunnable run again and reuses the rest of its results,
/// with its params.
pub async fn rerun(
    daemon: &Daemon,
    continued: &Continued,
    steps: &[String],
    allow_destructive: bool,
    via: Via,
) -> Result<Firing, Refusal> {
    let summary = &continued.run.summary;
    let rerun = Rerun {
        from: summary.run_id.clone(),
        steps: steps.to_vec(),
    };
    let firing = daemon
        .store
        .request_rerun(
            &summary.flow,
            &continued.run.params,
            allow_destructive,
            &rerun,
        )
        .await?;
    daemon.metrics.firing(&summary.flow, None, firing.status);
    daemon.wake.notify_one();
    daemon.log(format_args!(
        "run {} of `{}` asked for {via}, re-running {} of run {}",
        firing.run_id,
        summary.flow,
        steps
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", "),
        summary.run_id
    ));
    Ok(firing)
}

/// The plan of the flow served under `name`.
fn served_plan(daemon: &Daemon, name: &str) -> Option<Arc<Plan>> {
    daemon
        .catalog()
        .flows
        .get(name)
        .map(|loaded| loaded.plan.clone())
}

/// Refuses when a firing of the run is still waiting or running (it goes on already).
async fn idle(daemon: &Daemon, run_id: &str) -> Result<(), Refusal> {
    if let Some(firing) = daemon.store.firing_of_run(run_id).await?
        && matches!(
            firing.status,
            FiringStatus::Pending | FiringStatus::Queued | FiringStatus::Running
        )
    {
        return Err(Refusal::Conflict(format!(
            "run `{run_id}` is already going on: its firing {} is {}",
            firing.id,
            firing.status.name()
        )));
    }
    Ok(())
}

/// Recorded params as values given to a run.
fn given(params: &Value) -> IndexMap<String, ParamValue> {
    params
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), ParamValue::Json(value.clone())))
        .collect()
}
