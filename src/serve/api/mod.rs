//! The daemon's HTTP API.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Daemon;

/// Serves the API on `listener` until the process ends.
pub async fn serve(daemon: Arc<Daemon>, listener: tokio::net::TcpListener, token: Option<String>) {
    let _ = token;
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(daemon.clone());
    if let Err(e) = axum::serve(listener, app).await {
        daemon.warn(format_args!("the HTTP API stopped: {e}"));
    }
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

async fn metrics(State(daemon): State<Arc<Daemon>>) -> (StatusCode, String) {
    let waiting = daemon.store.waiting_firings().await.unwrap_or(0);
    let running = daemon.running().len();
    (StatusCode::OK, daemon.metrics.render(running, waiting))
}
