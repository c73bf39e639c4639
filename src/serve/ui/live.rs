//! Live updates as server-sent events: `GET /ui/runs/{id}/events` follows one run until it ends, and
//! `GET /ui/runs/events` the runs list ([`super::live_list`]). Each stream reads the store every
//! [`RUN_POLL`] (the run may be executed by another daemon sharing the store, so the store, not this
//! daemon's executor, is what is followed), and sends an event only when what the page shows changed: the
//! statuses, and the parts the page would draw differently, drawn by the page's own code (so escaping and
//! masking are the page's). A stream polls only while its client listens: when the client goes away, the
//! server drops the stream and its polling with it. At most [`crate::serve::MAX_STREAMS`] streams are open
//! at once; one more is answered 503, and the page it was for still works, without live updates.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use keyflow_engine::plan::Plan;
use keyflow_store::StoredRun;
use serde_json::{Map, Value, json};
use tokio::sync::OwnedSemaphorePermit;

use super::html::respond;
use super::session::Browser;
use super::state::{State, statuses};
use super::{actions, run, steps};
use crate::serve::Daemon;

/// How often a run's stream reads the store.
pub const RUN_POLL: Duration = Duration::from_millis(400);
/// How often a stream with nothing to say sends a comment, so that proxies keep the connection open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A place among the live streams, if one is free.
pub fn permit(daemon: &Daemon) -> Option<OwnedSemaphorePermit> {
    daemon.streams.clone().try_acquire_owned().ok()
}

/// The 503 page of a stream asked for when every place is taken: when to try again.
pub fn busy() -> Response {
    let mut response = respond(
        StatusCode::SERVICE_UNAVAILABLE,
        "Too many live views",
        &format!(
            "<h1>Too many live views</h1><p>This daemon already follows {} pages live. The pages work \
             without live updates: reload one to see what changed.</p>",
            crate::serve::MAX_STREAMS
        ),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    response
}

/// The response of a stream of events: `text/event-stream`, with keep-alive comments.
pub fn respond_events<S>(stream: S) -> Response
where
    S: Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // A proxy that buffers responses (nginx does by default) would hold the events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// What the client says it shows: the event id it last received (`Last-Event-ID`, sent by a reconnecting
/// `EventSource`), else the revision its page was drawn at (`?seen=`).
pub fn seen(headers: &HeaderMap, query: Option<String>) -> Option<String> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(query)
}

/// The event that says the store did not answer (sent once per outage; polling goes on).
pub fn unavailable(error: &dyn std::fmt::Display) -> Event {
    Event::default()
        .event("unavailable")
        .data(json!({ "message": error.to_string() }).to_string())
}

/// `GET /ui/runs/{id}/events`: the run's updates until it ends, drawn for `browser` (its forms carry its
/// CSRF token); 404 for a run not in the store (one asked for but not started yet included: its page
/// reloads until it starts).
pub async fn run_events(
    daemon: Arc<Daemon>,
    browser: Browser,
    id: &str,
    headers: &HeaderMap,
    query: Option<String>,
) -> Response {
    let (found, plan) = match run::read(&daemon, id).await {
        Ok(found) => found,
        Err(e) => return run::refused(id, &e),
    };
    let Some(permit) = permit(&daemon) else {
        return busy();
    };
    let watch = RunWatch {
        id: found.summary.run_id.clone(),
        daemon,
        browser,
        seen: seen(headers, query),
        last: None,
        read: Some((found, plan)),
        troubled: false,
        ended: false,
        _permit: permit,
    };
    respond_events(futures::stream::unfold(watch, RunWatch::next))
}

/// One client following one run.
struct RunWatch {
    daemon: Arc<Daemon>,
    id: String,
    /// Whom the forms are drawn for.
    browser: Browser,
    /// The revision the client shows, until the first reading.
    seen: Option<String>,
    /// What the client was last sent.
    last: Option<State>,
    /// A reading not yet looked at (the one made to answer 404 before the stream starts).
    read: Option<(StoredRun, Option<Arc<Plan>>)>,
    /// Whether the last reading failed (said once, not at every poll).
    troubled: bool,
    /// Whether the final event was sent.
    ended: bool,
    _permit: OwnedSemaphorePermit,
}

impl RunWatch {
    /// The next event: polls until there is something to say; `None` ends the stream.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, RunWatch)> {
        loop {
            if self.ended {
                return None;
            }
            let (found, plan) = match self.read.take() {
                Some(read) => read,
                None => {
                    tokio::select! {
                        () = tokio::time::sleep(RUN_POLL) => {}
                        () = self.daemon.stopping.cancelled() => return None,
                    }
                    match run::read(&self.daemon, &self.id).await {
                        Ok(found) => found,
                        Err(e) if !self.troubled => {
                            self.troubled = true;
                            return Some((Ok(unavailable(&e)), self));
                        }
                        Err(_) => continue,
                    }
                }
            };
            self.troubled = false;
            let now = State::of(&found, plan.as_deref());
            let event = self.update(&found, plan.as_deref(), &now);
            self.ended = now.ended();
            self.last = Some(now);
            if let Some(event) = event {
                return Some((Ok(event), self));
            }
        }
    }

    /// The event that brings the client from what it shows to `now`, if anything changed. Everything is
    /// sent when what the client shows is not known (a page drawn at another revision) and when the run
    /// ends (so that what the page shows of an ended run, such as the forms to re-run a step, is there).
    fn update(&self, found: &StoredRun, plan: Option<&Plan>, now: &State) -> Option<Event> {
        let revision = now.revision();
        let since = match &self.last {
            _ if now.ended() => None,
            None if self.seen.as_deref() == Some(revision.as_str()) => return None,
            None => None,
            Some(last) if last == now => return None,
            Some(last) => Some(last),
        };
        let changed: HashSet<&str> = now
            .steps
            .iter()
            .filter(|(id, step)| since.is_none_or(|last| last.steps.get(*id) != Some(*step)))
            .map(|(id, _)| id.as_str())
            .collect();
        let forms = actions::run_forms(found, plan, &self.browser);
        let mut html = Map::new();
        if since.is_none_or(|last| last.status != now.status || last.duration_ms != now.duration_ms)
        {
            html.insert("header".into(), run::header(found, &forms.header).into());
        }
        if since.is_none_or(|last| last.attempts != now.attempts) {
            html.insert("timeline".into(), run::timeline(found).into());
        }
        let status = statuses(found);
        let details: Map<String, Value> = steps::some(found, plan, &status, &forms.steps, |id| {
            changed.contains(id)
        })
        .into_iter()
        .map(|(id, details)| (id.to_string(), details.into()))
        .collect();
        html.insert("steps".into(), details.into());
        let step_statuses: Map<String, Value> = now
            .steps
            .iter()
            .filter(|(id, _)| changed.contains(id.as_str()))
            .map(|(id, step)| (id.clone(), step.status.into()))
            .collect();
        let data = json!({
            "status": now.status.name(),
            "ended": now.ended(),
            "duration_ms": now.duration_ms,
            "steps": step_statuses,
            "html": html,
        });
        Some(
            Event::default()
                .event("update")
                .id(revision)
                .data(data.to_string()),
        )
    }
}
