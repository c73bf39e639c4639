//! The web UI, server-rendered HTML that needs no JavaScript: the runs ([`runs`]), one run with its step
//! graph, timeline and step details ([`run`], [`svg`], [`steps`]) and its buttons ([`actions`]: cancel,
//! resume, re-run from a step), the flows served ([`flows`]), one flow with its start form and plan
//! ([`flow`], [`forms`], [`pattern`], [`plan`]), under `--sandbox` what the twins hold ([`sandbox`]), and
//! browsers' logins to a daemon with a token ([`login`], [`session`]) and the checks of every form
//! ([`csrf`]). Every value is escaped by [`html::esc`]; records are shown as the store holds them, so
//! secrets stay redacted. Pages that change follow the store live through server-sent events ([`live`],
//! [`live_list`]) applied by a small script ([`assets`]); without it they are the same pages, as of their
//! loading.

mod actions;
mod assets;
mod csrf;
mod flow;
mod flows;
mod forms;
mod html;
mod live;
mod live_list;
mod login;
mod pattern;
mod plan;
mod run;
mod runs;
mod sandbox;
pub mod session;
mod state;
mod steps;
mod svg;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_actions;
#[cfg(test)]
mod tests_assets;
#[cfg(test)]
mod tests_client;
#[cfg(test)]
mod tests_live;
#[cfg(test)]
mod tests_sandbox;

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Router, http};
use serde::Deserialize;

use super::Daemon;
use session::{Access, Browser};

/// What the pages may load: scripts, styles, images and event streams of the daemon only, no inline
/// script or style (every page's style is `/ui/assets/style.css`, its script `/ui/assets/live.js`), forms
/// posted to the daemon only, and no framing by other sites.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The pages, under `/ui`, for `daemon`, behind the session gate of `access`; the assets, which hold
/// nothing of the daemon's, outside it (the login page needs its style sheet).
pub fn router(daemon: &Arc<Daemon>, access: Arc<Access>) -> Router<Arc<Daemon>> {
    Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/runs") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/runs") }))
        .route("/ui/runs", get(runs::list))
        .route("/ui/runs/events", get(live_list::list_events))
        // A wildcard: a template run's id has slashes (`RUN/STEP/ITEM`), written out or encoded.
        // POST `…/cancel`, `…/resume`, `…/rerun`: a wildcard is last in its route.
        .route("/ui/runs/{*id}", get(run_or_events).post(actions::act))
        .route("/ui/flows", get(flows::list))
        .route("/ui/flows/{flow}", get(flow::show))
        .route("/ui/flows/{flow}/runs", post(flow::start))
        .route("/ui/flows/{flow}/plan", get(plan::show))
        .route("/ui/files", get(flow::file))
        .route("/ui/login", get(login::page).post(login::login))
        .route("/ui/logout", post(login::logout))
        .route("/ui/sandbox", get(sandbox::show))
        // Not a fallback: the daemon's router, which this one is merged into, keeps its own.
        .route(
            "/ui/{*rest}",
            get(|| async { html::not_found("No such page.") }),
        )
        .layer(middleware::from_fn_with_state(access, session::gate))
        .route("/ui/assets/{name}", get(assets::serve))
        .layer(middleware::from_fn_with_state(daemon.clone(), frame))
}

#[derive(Debug, Deserialize)]
struct Seen {
    seen: Option<String>,
}

/// `/ui/runs/{id}` is a run's page, `/ui/runs/{id}/events` its live updates. One wildcard serves both,
/// told apart by the path as sent: a trailing `/events` written out is the events (a run whose id ends in
/// `/events` is reached with the slash encoded, `%2Fevents`, as the pages link template runs).
async fn run_or_events(
    State(daemon): State<Arc<Daemon>>,
    browser: Browser,
    uri: Uri,
    Path(id): Path<String>,
    Query(query): Query<Seen>,
    headers: HeaderMap,
) -> Response {
    match (uri.path().ends_with("/events"), id.strip_suffix("/events")) {
        (true, Some(id)) => live::run_events(daemon, browser, id, &headers, query.seen).await,
        _ => run::show(State(daemon), browser, Path(id)).await,
    }
}

/// What every UI response gets: the navigation knows whether the daemon is a sandbox, and the
/// Content-Security-Policy (and `nosniff`) headers are set.
async fn frame(State(daemon): State<Arc<Daemon>>, request: Request, next: Next) -> Response {
    let mut response = html::SANDBOXED
        .scope(daemon.twins.is_some(), next.run(request))
        .await;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
