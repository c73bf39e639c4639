//! The daemon's HTTP API: probes and metrics at the root, JSON under `/api/v1` (versioned: an addition
//! keeps `v1`, a change that breaks a client makes `v2`), described by the OpenAPI document it serves at
//! `/api/v1/openapi.json` (committed as `schemas/openapi.json`).
//!
//! - [`auth`]: the bearer token every route but the probes needs, when the daemon has one;
//! - [`error`]: the error bodies and their stable codes;
//! - [`flows`]: the flows served, starting runs, un-pausing triggers;
//! - [`runs`]: the recorded runs, cancel, resume and re-run, the firings;
//! - [`openapi`]: the document describing all of it.

pub mod auth;
pub mod error;
pub mod flows;
pub mod openapi;
pub mod runs;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Daemon;
use error::ApiError;

/// Serves the API and the web UI on `listener` until the process ends; with `token`, every route but the
/// probes needs it (the UI's pages a browser session, made by logging in with it).
pub async fn serve(daemon: Arc<Daemon>, listener: tokio::net::TcpListener, token: Option<String>) {
    let listen = match listener.local_addr() {
        Ok(listen) => listen,
        Err(e) => {
            daemon.warn(format_args!("the HTTP API cannot serve: {e}"));
            return;
        }
    };
    let app = match app(daemon.clone(), token, listen) {
        Ok(app) => app,
        Err(e) => {
            daemon.warn(format_args!(
                "the HTTP API cannot serve: the system's random source failed: {e}"
            ));
            return;
        }
    };
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, service).await {
        daemon.warn(format_args!("the HTTP API stopped: {e}"));
    }
}

/// Every route, behind its gate: the API's bearer token, the UI's browser sessions (given a key of its own
/// from the system's random source).
pub fn app(
    daemon: Arc<Daemon>,
    token: Option<String>,
    listen: SocketAddr,
) -> Result<Router, getrandom::Error> {
    let token: Option<Arc<str>> = token.map(Arc::from);
    let access = Arc::new(crate::serve::ui::session::Access::new(
        token.clone(),
        listen,
    )?);
    let gate = auth::Gate {
        daemon: daemon.clone(),
        token,
    };
    Ok(router(&daemon, access)
        .with_state(daemon)
        .layer(middleware::from_fn_with_state(gate, auth::check)))
}

/// Every route.
fn router(
    daemon: &Arc<Daemon>,
    access: Arc<crate::serve::ui::session::Access>,
) -> Router<Arc<Daemon>> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/flows", get(flows::list))
        .route("/api/v1/flows/{flow}", get(flows::show))
        .route("/api/v1/flows/{flow}/runs", post(flows::start))
        .route(
            "/api/v1/flows/{flow}/triggers/{trigger}/resume",
            post(flows::resume_trigger),
        )
        .route("/api/v1/runs", get(runs::list))
        .route("/api/v1/runs/{id}", get(runs::show))
        .route("/api/v1/runs/{id}/cancel", post(runs::cancel))
        .route("/api/v1/runs/{id}/resume", post(runs::resume))
        .route("/api/v1/runs/{id}/rerun", post(runs::rerun))
        .route("/api/v1/firings", get(runs::firings))
        // The web UI's pages, and the root leading to them.
        .merge(crate::serve::ui::router(daemon, access))
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/ui/runs") }),
        )
        .fallback(not_found)
}

/// Ready once the flows are loaded and while the store answers.
async fn ready(State(daemon): State<Arc<Daemon>>) -> (StatusCode, Json<Value>) {
    let loaded = daemon.ready.load(Ordering::Acquire);
    let store = daemon.store.waiting_firings().await;
    let running: Vec<Value> = daemon
        .running()
        .values()
        .map(|l| json!({"run_id": l.run_id, "flow": l.flow, "trigger": l.trigger}))
        .collect();
    let ok = loaded && store.is_ok() && !daemon.stopping.is_cancelled();
    let body = json!({
        "ready": ok,
        "worker": daemon.worker,
        "uptime_seconds": daemon.started.elapsed().as_secs(),
        "flows_loaded": loaded,
        "stopping": daemon.stopping.is_cancelled(),
        "store": match &store { Ok(_) => "ok".to_string(), Err(e) => e.to_string() },
        "running": running,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

async fn metrics(
    State(daemon): State<Arc<Daemon>>,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    let waiting = daemon.store.waiting_firings().await.unwrap_or(0);
    let running = daemon.running().len();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        daemon.metrics.render(running, waiting),
    )
}

async fn openapi() -> Json<Value> {
    Json(openapi::document())
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route `{}`: GET /api/v1/openapi.json describes the API",
        uri.path()
    ))
}

/// A request body as `T`; an empty body is `T::default()`.
fn body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not the JSON expected: {e}")))
}

/// An instant as the API writes it.
fn rfc3339(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
