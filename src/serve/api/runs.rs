//! `/api/v1/runs…` and `/api/v1/firings`: the recorded runs as `keyflow runs list|show --output json`
//! gives them, cancelling, resuming and re-running steps of a run, and the recent firings.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keyflow_store::{Firing, FiringStatus, RunState, StoredRun};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use crate::commands::runs::{DEFAULT_LIMIT, list_filter};
use crate::machine::FormatVersion;
use crate::machine::documents::{RunDocument, RunsDocument};
use crate::serve::Daemon;
use crate::serve::actions::{self, Via};

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

/// The body of `POST /api/v1/runs/{id}/rerun`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RerunRequest {
    /// The steps to run again, by id: each of them and every step that depends on them runs again in a
    /// new run, which reuses the earlier run's other results (`keyflow run --rerun STEP`).
    pub steps: Vec<String>,
    /// Whether the new run may run the destructive steps the flow confirms (`--allow-destructive`); not
    /// carried over from the earlier run.
    #[serde(default)]
    pub allow_destructive: bool,
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
    let cancelled = actions::cancel(&daemon, &id, via(remote)).await?;
    let body = Cancelling {
        format_version: FormatVersion,
        run_id: cancelled.run_id,
        firing_status: cancelled.firing_status,
        here: cancelled.here,
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
    let continued = actions::resumable(&daemon, &id).await?;
    let firing =
        actions::resume(&daemon, &continued, request.allow_destructive, via(remote)).await?;
    Ok(super::flows::accepted(firing))
}

/// Asks for a new run that runs steps of a recorded run again and reuses the rest of its results, as
/// `keyflow run FLOW --from RUN --rerun STEP`.
pub async fn rerun(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: RerunRequest = super::body(&body)?;
    let continued = actions::rerunnable(&daemon, &id, &request.steps).await?;
    let firing = actions::rerun(
        &daemon,
        &continued,
        &request.steps,
        request.allow_destructive,
        via(remote),
    )
    .await?;
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

/// The recorded run `id` names; see [`actions::recorded`].
async fn recorded(daemon: &Daemon, id: &str) -> Result<StoredRun, ApiError> {
    Ok(actions::recorded(daemon, id).await?)
}

fn via(remote: SocketAddr) -> Via {
    Via {
        channel: "the API",
        remote,
    }
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
