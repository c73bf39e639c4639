//! `/api/v1/runs…` and `/api/v1/firings`: the recorded runs as `keyflow runs list|show --output json`
//! gives them, cancelling and resuming a run, and the recent firings.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keyflow_engine::exec::store::StoreError;
use keyflow_store::{Firing, FiringStatus, RunState, StoredRun};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, Code};
use crate::commands::resume::refusal;
use crate::commands::runs::{DEFAULT_LIMIT, list_filter};
use crate::machine::FormatVersion;
use crate::machine::documents::{RunDocument, RunsDocument};
use crate::serve::Daemon;

/// At most this many runs or firings in one answer.
const MAX_LIMIT: usize = 1000;
/// How many firings `GET /api/v1/firings` gives unless told.
const FIRINGS_LIMIT: usize = 50;

/// `GET /api/v1/runs`'s filters, as `keyflow runs list` takes them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    flow: Option<String>,
    status: Option<String>,
    since: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/firings`'s filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiringsQuery {
    flow: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/firings`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FiringsDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// The firings, newest fire time first: each fire time of a trigger and each run asked for through
    /// the API, with where it is (a skipped one says why).
    pub firings: Vec<Firing>,
}

/// 202 of `POST /api/v1/runs/{id}/cancel`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Cancelling {
    /// The format's version.
    pub format_version: FormatVersion,
    /// The run's id.
    pub run_id: String,
    /// `skipped`: it had not started and never will; `running`: it is being stopped (at once when
    /// this daemon runs it, else at its daemon's next lease renewal) and ends `cancelled`.
    pub firing_status: FiringStatus,
    /// Whether this daemon runs it (and stopped it at once).
    pub here: bool,
}

/// The body of `POST /api/v1/runs/{id}/resume` (it may be empty).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeRequest {
    /// Whether the run may run the destructive steps the flow confirms (`keyflow resume
    /// --allow-destructive`); not carried over from the run's start.
    #[serde(default)]
    pub allow_destructive: bool,
}

pub async fn list(
    State(daemon): State<Arc<Daemon>>,
    query: Result<Query<RunsQuery>, QueryRejection>,
) -> Result<Json<RunsDocument>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let state = match &query.status {
        None => None,
        Some(name) => Some(RunState::parse(name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`status={name}` is not a run state: give one of {}",
                RunState::ALL.map(|s| format!("`{}`", s.name())).join(", ")
            ))
        })?),
    };
    let since = match &query.since {
        None => None,
        Some(text) => Some(
            crate::store::parse_since(text)
                .map_err(|e| ApiError::bad_request(format!("`since`: {e}")))?,
        ),
    };
    let limit = limit(query.limit, DEFAULT_LIMIT)?;
    let filter = list_filter(query.flow, state, since, limit);
    let runs = daemon.store.list(&filter).await?;
    Ok(Json(RunsDocument::new(runs)))
}

pub async fn show(
    State(daemon): State<Arc<Daemon>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let run = recorded(&daemon, &id).await?;
    let document = RunDocument::new(&run.report);
    Ok(Json(document).into_response())
}

/// Stops a run: at once when this daemon runs it, and through the store for whichever daemon does.
pub async fn cancel(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (run_id, state) = match daemon.store.show(&id).await {
        Ok(run) => (run.summary.run_id, Some(run.summary.status)),
        Err(StoreError::NotFound(_)) => match daemon.store.firing_of_run(&id).await? {
            Some(firing) => (firing.run_id, None),
            None => return Err(unknown(&id)),
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
        return Err(ApiError::conflict(match state {
            Some(RunState::Running) => format!(
                "run `{run_id}` is not run by a keyflow serve (a `keyflow run` process runs it): stop that process"
            ),
            Some(state) => {
                format!(
                    "run `{run_id}` already ended ({}): nothing to cancel",
                    state.name()
                )
            }
            None => format!("run `{run_id}` did not start and will not: nothing to cancel"),
        }));
    };
    daemon.log(format_args!(
        "run {run_id} asked to stop through the API from {remote}"
    ));
    let body = Cancelling {
        format_version: FormatVersion,
        run_id,
        firing_status,
        here: here.is_some(),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// Asks for a recorded run to go on from the first step that did not succeed, as `keyflow resume`.
pub async fn resume(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ResumeRequest = super::body(&body)?;
    let run = recorded(&daemon, &id).await?;
    let summary = &run.summary;
    let run_id = summary.run_id.clone();
    if let Some(why) = refusal(summary) {
        return Err(ApiError::conflict(why));
    }
    if !daemon.catalog().flows.contains_key(&summary.flow) {
        return Err(ApiError::conflict(format!(
            "run `{run_id}` ran flow `{}`, which this daemon does not serve: serve its file, or resume it with `keyflow resume {run_id}`",
            summary.flow
        )));
    }
    if let Some(firing) = daemon.store.firing_of_run(&run_id).await?
        && matches!(
            firing.status,
            FiringStatus::Pending | FiringStatus::Queued | FiringStatus::Running
        )
    {
        return Err(ApiError::conflict(format!(
            "run `{run_id}` is already going on: its firing {} is {}",
            firing.id,
            firing.status.name()
        )));
    }
    let firing = daemon
        .store
        .request_resume(
            &run_id,
            &summary.flow,
            &run.params,
            request.allow_destructive,
        )
        .await?;
    daemon.metrics.firing(&summary.flow, None, firing.status);
    daemon.wake.notify_one();
    daemon.log(format_args!(
        "run {run_id} of `{}` asked to resume through the API from {remote}",
        summary.flow
    ));
    Ok(super::flows::accepted(firing))
}

pub async fn firings(
    State(daemon): State<Arc<Daemon>>,
    query: Result<Query<FiringsQuery>, QueryRejection>,
) -> Result<Json<FiringsDocument>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = limit(query.limit, FIRINGS_LIMIT)?;
    let firings = daemon.store.firings(query.flow.as_deref(), limit).await?;
    Ok(Json(FiringsDocument {
        format_version: FormatVersion,
        firings,
    }))
}

/// The recorded run `id` names (its id or the start of it, as the CLI takes it); a run asked for that
/// has not started is `not_started`, with its firing.
async fn recorded(daemon: &Daemon, id: &str) -> Result<StoredRun, ApiError> {
    match daemon.store.show(id).await {
        Ok(run) => Ok(run),
        Err(StoreError::NotFound(_)) => match daemon.store.firing_of_run(id).await? {
            Some(firing) => {
                let mut error = ApiError::new(
                    Code::NotStarted,
                    match firing.status {
                        FiringStatus::Skipped => format!(
                            "run `{id}` did not start: {}",
                            firing.reason.as_deref().unwrap_or("its firing was skipped")
                        ),
                        status => format!(
                            "run `{id}` has not started yet: its firing is {}",
                            status.name()
                        ),
                    },
                );
                error.0.firing = Some(firing);
                Err(error)
            }
            None => Err(unknown(id)),
        },
        Err(e) => Err(e.into()),
    }
}

fn unknown(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no run `{id}` in the run store: GET /api/v1/runs lists the runs"
    ))
}

fn limit(given: Option<usize>, default: usize) -> Result<usize, ApiError> {
    match given {
        None => Ok(default),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "`limit={n}`: give between 1 and {MAX_LIMIT}"
        ))),
    }
}
