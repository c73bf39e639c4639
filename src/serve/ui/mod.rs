//! The web UI's read views, server-rendered HTML that needs no JavaScript: the runs ([`runs`]), one run
//! with its step graph, timeline and step details ([`run`], [`svg`], [`steps`]), and the flows served
//! ([`flows`]). Every value is escaped by [`html::esc`]; records are shown as the store holds them, so
//! secrets stay redacted.

mod flows;
mod html;
mod run;
mod runs;
mod steps;
mod svg;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;

use super::Daemon;

/// The pages, under `/ui`.
pub fn router() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/runs") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/runs") }))
        .route("/ui/runs", get(runs::list))
        // A wildcard: a template run's id has slashes (`RUN/STEP/ITEM`), written out or encoded.
        .route("/ui/runs/{*id}", get(run::show))
        .route("/ui/flows", get(flows::list))
        // Not a fallback: the daemon's router, which this one is merged into, keeps its own.
        .route(
            "/ui/{*rest}",
            get(|| async { html::not_found("No such page.") }),
        )
}
