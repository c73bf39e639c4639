//! `GET /ui/runs/events?flow=&status=&limit=`: the runs list's live updates, for as long as the client
//! listens. Every [`LIST_POLL`] the list's query is asked again; when its rows differ from what the client
//! shows, an event gives the ids in the order the list has them now and the rows that are new or changed,
//! drawn by the list's own [`runs::row`]. A row not in the order any more (a run that no longer matches the
//! filter, or that newer runs pushed past the limit) is dropped by the script.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::Event;
use keyflow_store::{RunState, RunSummary};
use serde_json::{Map, Value, json};
use tokio::sync::OwnedSemaphorePermit;

use super::live::{busy, permit, respond_events, seen, unavailable};
use super::runs::{self, RunsQuery, Shown};
use crate::serve::Daemon;

/// How often the list's stream asks the store again.
pub const LIST_POLL: Duration = Duration::from_millis(1_000);

pub async fn list_events(
    State(daemon): State<Arc<Daemon>>,
    Query(query): Query<RunsQuery>,
    headers: HeaderMap,
) -> Response {
    let shown = match Shown::of(&query) {
        Ok(shown) => shown,
        Err(why) => return runs::refused(&why),
    };
    let Some(permit) = permit(&daemon) else {
        return busy();
    };
    let watch = ListWatch {
        daemon,
        shown,
        seen: seen(&headers, query.seen.clone()),
        last: None,
        troubled: false,
        _permit: permit,
    };
    respond_events(futures::stream::unfold(watch, ListWatch::next))
}

/// What a row shows that can change, by run id.
type Rows = HashMap<String, (RunState, Option<u64>)>;

/// One client following one list.
struct ListWatch {
    daemon: Arc<Daemon>,
    shown: Shown,
    /// The revision the client shows, until the first reading.
    seen: Option<String>,
    /// The rows the client was last sent, and their order.
    last: Option<(Vec<String>, Rows)>,
    troubled: bool,
    _permit: OwnedSemaphorePermit,
}

impl ListWatch {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, ListWatch)> {
        let mut first = self.last.is_none();
        loop {
            if !first {
                tokio::select! {
                    () = tokio::time::sleep(LIST_POLL) => {}
                    () = self.daemon.stopping.cancelled() => return None,
                }
            }
            first = false;
            let listed = match self.daemon.store.list(&self.shown.filter).await {
                Ok(listed) => listed,
                Err(e) if !self.troubled => {
                    self.troubled = true;
                    return Some((Ok(unavailable(&e)), self));
                }
                Err(_) => continue,
            };
            self.troubled = false;
            if let Some(event) = self.update(&listed) {
                return Some((Ok(event), self));
            }
        }
    }

    /// The event that brings the client to `listed`, if it shows anything else.
    fn update(&mut self, listed: &[RunSummary]) -> Option<Event> {
        let revision = runs::revision(listed);
        let order: Vec<String> = listed.iter().map(|r| r.run_id.clone()).collect();
        let rows: Rows = listed
            .iter()
            .map(|r| (r.run_id.clone(), runs::shown_state(r)))
            .collect();
        let last = self.last.replace((order.clone(), rows.clone()));
        let known = match last {
            None if self.seen.as_deref() == Some(revision.as_str()) => return None,
            None => None,
            Some(last) if last.0 == order && last.1 == rows => return None,
            Some((_, last_rows)) => Some(last_rows),
        };
        let html: Map<String, Value> = listed
            .iter()
            .filter(|r| {
                known
                    .as_ref()
                    .is_none_or(|rows| rows.get(&r.run_id) != Some(&runs::shown_state(r)))
            })
            .map(|r| (r.run_id.clone(), runs::row(r).into()))
            .collect();
        Some(
            Event::default()
                .event("runs")
                .id(revision)
                .data(json!({ "order": order, "rows": html }).to_string()),
        )
    }
}
