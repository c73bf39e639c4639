//! `/api/v1/flows…`: the flows the daemon serves (their params, their triggers with the next fire times
//! and what the store holds of them, and the files left out), starting a run of one, and un-pausing a
//! trigger paused after failures.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use keyflow_engine::diagnostic::suggest;
use keyflow_engine::model::ParamType;
use keyflow_store::{Firing, TriggerState};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ApiError;
use crate::commands::schedule::{TriggerListing, listing};
use crate::machine::FormatVersion;
use crate::machine::documents::FileResult;
use crate::serve::Daemon;
use crate::serve::actions::{self, Via};
use crate::serve::catalog::{Catalog, Loaded};

/// How many next fire times each trigger shows unless `?next=` says.
const NEXT: u32 = 3;
/// At most this many next fire times.
const MAX_NEXT: u32 = 100;

/// `GET /api/v1/flows`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlowsDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// When the files were last loaded (RFC 3339); `null` before the first load ends.
    pub loaded_at: Option<String>,
    /// Every flow served, in the order the files were read.
    pub flows: Vec<FlowListing>,
    /// The files that are not valid flows (or could not be read), as `keyflow validate --output json`
    /// gives each file: not served.
    pub rejected: Vec<FileResult>,
    /// Files not served because another file gives their flow the same name.
    pub shadowed: Vec<Shadowed>,
}

/// `GET /api/v1/flows/{flow}`: one flow.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlowDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// The flow.
    #[serde(flatten)]
    pub flow: FlowListing,
}

/// A flow served.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlowListing {
    /// Its name (what the routes name it by).
    pub name: String,
    /// Its file.
    pub file: String,
    /// Its description.
    pub description: Option<String>,
    /// Its parameters, in declaration order.
    pub params: Vec<ParamListing>,
    /// Its triggers, in file order.
    pub triggers: Vec<FlowTrigger>,
}

/// A declared parameter, as a run's `params` must fit it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ParamListing {
    /// Its name.
    pub name: String,
    /// Its JSON type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// Whether a run must give it (it has no default).
    pub required: bool,
    /// Its default.
    pub default: Option<Value>,
    /// The only values allowed.
    #[serde(rename = "enum")]
    pub allowed: Option<Vec<Value>>,
    /// A regular expression a string value must match.
    pub pattern: Option<String>,
    /// What it is for.
    pub description: Option<String>,
}

/// A trigger: its schedule and next fire times (as `keyflow schedule list --output json` gives them),
/// and what the store holds of it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlowTrigger {
    /// The schedule.
    #[serde(flatten)]
    pub schedule: TriggerListing,
    /// Failed runs in a row, whether it is paused and the last fire time handled; `null` until a daemon
    /// has served it.
    pub state: Option<TriggerState>,
}

/// `POST /api/v1/flows/{flow}/triggers/{trigger}/resume`: the trigger, no longer paused.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TriggerDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// The flow's name.
    pub flow: String,
    /// The trigger.
    #[serde(flatten)]
    pub trigger: FlowTrigger,
}

/// A file not served because another gives its flow the same name.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Shadowed {
    /// The file left out.
    pub file: String,
    /// The file served.
    pub served: String,
}

/// The body of `POST /api/v1/flows/{flow}/runs` (it may be empty: no params, no destructive steps).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The run's parameters, typed as JSON; checked against the flow's declarations as `--params-file`
    /// values are (the flow's defaults fill in the rest).
    #[serde(default)]
    pub params: serde_json::Map<String, Value>,
    /// Whether the run may run the destructive steps the flow confirms (`--allow-destructive`).
    #[serde(default)]
    pub allow_destructive: bool,
}

/// 202: a run was asked for; a daemon starts it (at once, when this one has room).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Accepted {
    /// The format's version.
    pub format_version: FormatVersion,
    /// The run's id (`GET /api/v1/runs/{id}` shows it once it started).
    pub run_id: String,
    /// The firing that starts it.
    pub firing: Firing,
}

/// `?next=N`: how many fire times each trigger shows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextQuery {
    next: Option<u32>,
}

pub async fn list(
    State(daemon): State<Arc<Daemon>>,
    query: Result<Query<NextQuery>, QueryRejection>,
) -> Result<Json<FlowsDocument>, ApiError> {
    let next = next(query)?;
    let catalog = daemon.catalog();
    let states = daemon.store.trigger_states().await?;
    Ok(Json(FlowsDocument {
        format_version: FormatVersion,
        loaded_at: catalog.loaded_at.map(|t| super::rfc3339(&t)),
        flows: catalog
            .flows
            .values()
            .map(|loaded| flow_listing(loaded, &states, next))
            .collect(),
        rejected: catalog.rejected.clone(),
        shadowed: catalog
            .shadowed
            .iter()
            .map(|(file, served)| Shadowed {
                file: file.clone(),
                served: served.clone(),
            })
            .collect(),
    }))
}

pub async fn show(
    State(daemon): State<Arc<Daemon>>,
    Path(flow): Path<String>,
    query: Result<Query<NextQuery>, QueryRejection>,
) -> Result<Json<FlowDocument>, ApiError> {
    let next = next(query)?;
    let catalog = daemon.catalog();
    let loaded = served(&catalog, &flow)?;
    let states = daemon.store.trigger_states().await?;
    Ok(Json(FlowDocument {
        format_version: FormatVersion,
        flow: flow_listing(loaded, &states, next),
    }))
}

/// Starts a run of the flow with the params given, checked by the rules `keyflow run` checks its params by.
pub async fn start(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(flow): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: RunRequest = super::body(&body)?;
    let catalog = daemon.catalog();
    let loaded = served(&catalog, &flow)?;
    let via = Via {
        channel: "the API",
        remote,
    };
    let firing = actions::start(
        &daemon,
        loaded,
        request.params,
        request.allow_destructive,
        via,
    )
    .await?;
    Ok(accepted(firing))
}

/// Un-pauses a trigger paused after failures.
pub async fn resume_trigger(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path((flow, trigger)): Path<(String, String)>,
) -> Result<Json<TriggerDocument>, ApiError> {
    let catalog = daemon.catalog();
    let loaded = served(&catalog, &flow)?;
    let Some(found) = loaded.plan.triggers.iter().find(|t| t.id == trigger) else {
        let ids: Vec<&str> = loaded.plan.triggers.iter().map(|t| t.id.as_str()).collect();
        return Err(ApiError::not_found(format!(
            "flow `{flow}` has no trigger `{trigger}`{}",
            match (suggest(&trigger, &ids), ids.is_empty()) {
                (Some(close), _) => format!("; did you mean `{close}`?"),
                (None, true) => ": it has no triggers".to_string(),
                (None, false) => format!("; its triggers are `{}`", ids.join("`, `")),
            }
        )));
    };
    if !daemon.store.unpause_trigger(&flow, &trigger).await? {
        return Err(ApiError::conflict(format!(
            "trigger `{trigger}` of `{flow}` is not paused: nothing to resume"
        )));
    }
    daemon.log(format_args!(
        "trigger `{trigger}` of `{flow}` resumed through the API from {remote}"
    ));
    let state = daemon.store.trigger_state(&flow, &trigger).await?;
    Ok(Json(TriggerDocument {
        format_version: FormatVersion,
        flow,
        trigger: FlowTrigger {
            schedule: listing(found, Utc::now(), NEXT),
            state,
        },
    }))
}

/// 202 with the run asked for and where to follow it.
pub fn accepted(firing: Firing) -> Response {
    let location = format!("/api/v1/runs/{}", firing.run_id);
    let body = Accepted {
        format_version: FormatVersion,
        run_id: firing.run_id.clone(),
        firing,
    };
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

/// The flow served under `name`, or 404 naming the flows that are.
pub fn served<'a>(catalog: &'a Catalog, name: &str) -> Result<&'a Loaded, ApiError> {
    catalog.flows.get(name).ok_or_else(|| {
        let hint = match suggest(name, catalog.flows.keys()) {
            Some(close) => format!("did you mean `{close}`?"),
            None if catalog.flows.is_empty() => "it serves none".to_string(),
            None => format!(
                "it serves `{}`",
                catalog
                    .flows
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join("`, `")
            ),
        };
        ApiError::not_found(format!(
            "this daemon serves no flow `{name}`: {hint} (GET /api/v1/flows lists them, with the files left out)"
        ))
    })
}

fn next(query: Result<Query<NextQuery>, QueryRejection>) -> Result<u32, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    match query.next {
        None => Ok(NEXT),
        Some(n) if (1..=MAX_NEXT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "`next={n}`: give between 1 and {MAX_NEXT} fire times"
        ))),
    }
}

fn flow_listing(loaded: &Loaded, states: &[TriggerState], next: u32) -> FlowListing {
    let plan = &loaded.plan;
    let now = Utc::now();
    FlowListing {
        name: plan.name.clone(),
        file: loaded.file.display().to_string(),
        description: plan.description.clone(),
        params: plan
            .params
            .values()
            .map(|spec| ParamListing {
                name: spec.name.clone(),
                ty: spec.ty,
                required: spec.default.is_none(),
                default: spec.default.clone(),
                allowed: spec.allowed.clone(),
                pattern: spec.pattern.as_ref().map(|p| p.as_str().to_string()),
                description: spec.description.clone(),
            })
            .collect(),
        triggers: plan
            .triggers
            .iter()
            .map(|trigger| FlowTrigger {
                schedule: listing(trigger, now, next),
                state: states
                    .iter()
                    .find(|s| s.flow == plan.name && s.trigger == trigger.id)
                    .cloned(),
            })
            .collect(),
    }
}
