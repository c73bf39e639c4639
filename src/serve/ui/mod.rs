//! The web UI, server-rendered HTML that needs no JavaScript: the runs ([`runs`]), one run with its step
//! graph, timeline and step details ([`run`], [`svg`], [`steps`]) and its buttons ([`actions`]: cancel,
//! resume, re-run from a step), the flows served ([`flows`]), one flow with its start form and plan
//! ([`flow`], [`forms`], [`pattern`], [`plan`]), and browsers' logins to a daemon with a token
//! ([`login`], [`session`]) and the checks of every form ([`csrf`]). Every value is escaped by
//! [`html::esc`]; records are shown as the store holds them, so secrets stay redacted.

mod actions;
mod csrf;
mod flow;
mod flows;
mod forms;
mod html;
mod login;
mod pattern;
mod plan;
mod run;
mod runs;
pub mod session;
mod steps;
mod svg;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_actions;

use std::sync::Arc;

use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Router, middleware};

use super::Daemon;
use session::Access;

/// The pages, under `/ui`, behind the session gate of `access`.
pub fn router(access: Arc<Access>) -> Router<Arc<Daemon>> {
    Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/runs") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/runs") }))
        .route("/ui/runs", get(runs::list))
        // A wildcard: a template run's id has slashes (`RUN/STEP/ITEM`), written out or encoded.
        // POST `…/cancel`, `…/resume`, `…/rerun`: a wildcard is last in its route.
        .route("/ui/runs/{*id}", get(run::show).post(actions::act))
        .route("/ui/flows", get(flows::list))
        .route("/ui/flows/{flow}", get(flow::show))
        .route("/ui/flows/{flow}/runs", post(flow::start))
        .route("/ui/flows/{flow}/plan", get(plan::show))
        .route("/ui/files", get(flow::file))
        .route("/ui/login", get(login::page).post(login::login))
        .route("/ui/logout", post(login::logout))
        // Not a fallback: the daemon's router, which this one is merged into, keeps its own.
        .route(
            "/ui/{*rest}",
            get(|| async { html::not_found("No such page.") }),
        )
        .layer(middleware::from_fn_with_state(access, session::gate))
}
