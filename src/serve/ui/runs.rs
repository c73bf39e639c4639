//! `/ui/runs`: the runs, newest first, filtered by flow and status with a GET form, `limit` at a time and
//! a link to more. The list follows new runs and status changes live ([`super::live_list`]), each row
//! drawn by [`row`] here.

use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyflow_store::{ListFilter, RunState, RunSummary};
use serde::Deserialize;

use super::assets;
use super::html::{self, badge, duration, esc, not_found, respond, unavailable, url, when};
use crate::serve::Daemon;

/// Rows shown when the address does not say.
const DEFAULT_LIMIT: usize = 50;
/// The most rows one page shows.
const MAX_LIMIT: usize = 1_000;

/// The form's fields, as text: a value that does not parse is said on the page, not refused by axum.
#[derive(Debug, Default, Deserialize)]
pub struct RunsQuery {
    flow: Option<String>,
    status: Option<String>,
    /// Runs started since an age (`12h`, `7d`) or an RFC 3339 time, as `keyflow runs list --since`.
    since: Option<String>,
    limit: Option<String>,
    /// The revision the page was drawn at (live updates only).
    pub seen: Option<String>,
}

/// What a runs list shows: the store's filter, and the address parts that say it again.
pub struct Shown {
    /// The query to the store.
    pub filter: ListFilter,
    /// The flow asked for.
    pub flow: Option<String>,
    /// The status asked for.
    pub status: Option<RunState>,
    /// The `since` asked for, as written (an age is counted from each reading of the store).
    pub since: Option<String>,
    /// At most this many rows.
    pub limit: usize,
}

impl Shown {
    /// The filter of `query`, or what is wrong with it and what it takes (HTML, escaped): see
    /// [`refused`].
    pub fn of(query: &RunsQuery) -> Result<Shown, String> {
        let flow = query.flow.clone().filter(|f| !f.trim().is_empty());
        let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(name) => match RunState::parse(name) {
                Some(state) => Some(state),
                None => {
                    return Err(format!(
                        "Unknown status `{}`: choose one of {}.",
                        esc(name),
                        RunState::ALL.map(RunState::name).join(", ")
                    ));
                }
            },
        };
        let since = query
            .since
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let since_ms = match since.map(crate::store::parse_since).transpose() {
            Ok(ms) => ms,
            Err(why) => return Err(format!("{}.", esc(&why))),
        };
        let limit = match query.limit.as_deref().filter(|l| !l.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n > 0 => n.min(MAX_LIMIT),
                _ => {
                    return Err(format!(
                        "`limit={}` is not a number of runs: give one from 1 to {MAX_LIMIT}.",
                        esc(text)
                    ));
                }
            },
        };
        let filter = ListFilter {
            flow: flow.clone(),
            state: status,
            since_ms,
            limit: Some(limit),
            ..ListFilter::default()
        };
        Ok(Shown {
            filter,
            flow,
            status,
            since: since.map(str::to_string),
            limit,
        })
    }

    /// The address's query (`limit=…&flow=…&status=…`), to ask for the same list again.
    fn query(&self, limit: usize) -> String {
        let mut query = format!("limit={limit}");
        if let Some(flow) = &self.flow {
            let _ = write!(query, "&flow={}", url(flow));
        }
        if let Some(status) = self.status {
            let _ = write!(query, "&status={}", status.name());
        }
        if let Some(since) = &self.since {
            let _ = write!(query, "&since={}", url(since));
        }
        query
    }
}

pub async fn list(State(daemon): State<Arc<Daemon>>, Query(query): Query<RunsQuery>) -> Response {
    let started = Instant::now();
    let shown = match Shown::of(&query) {
        Ok(shown) => shown,
        Err(why) => return refused(&why),
    };
    let runs = match daemon.store.list(&shown.filter).await {
        Ok(runs) => runs,
        Err(e) => return unavailable(&e),
    };
    let read = started.elapsed();
    let mut body = String::from("<h1>Runs</h1>\n");
    body.push_str(&assets::live(&format!(
        "/ui/runs/events?{}&seen={}",
        shown.query(shown.limit),
        revision(&runs)
    )));
    body.push_str(&form(&daemon, &shown));
    // The table is there even when empty, so that a live update has rows to fill.
    let _ = writeln!(
        body,
        "<p id=\"no-runs\"{}>No runs match.</p>",
        if runs.is_empty() { "" } else { " hidden" }
    );
    body.push_str(
        "<table id=\"runs\"><thead><tr><th scope=\"col\">Run</th><th scope=\"col\">Flow</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Started</th><th scope=\"col\">Duration</th></tr></thead><tbody>\n",
    );
    for run in &runs {
        body.push_str(&row(run));
    }
    body.push_str("</tbody></table>\n");
    if runs.len() == shown.limit && shown.limit < MAX_LIMIT {
        let more = format!("/ui/runs?{}", shown.query((shown.limit * 2).min(MAX_LIMIT)));
        let _ = write!(body, "<p><a href=\"{}\">More runs</a></p>", esc(&more));
    }
    body.push_str(&assets::script());
    let mut response = respond(StatusCode::OK, "Runs", &body);
    html::timing(&mut response, read, started.elapsed() - read);
    response
}

/// The 400 page of a filter that does not parse, saying `why` (HTML).
pub fn refused(why: &str) -> Response {
    respond(
        StatusCode::BAD_REQUEST,
        "Runs",
        &format!("<h1>Runs</h1><p class=\"diag\">{why}</p>"),
    )
}

/// One run's row: its `data-run` and `data-status` are what a live update finds it by and changes.
pub fn row(run: &RunSummary) -> String {
    let status = run.status.name();
    format!(
        "<tr id=\"run-{}\" data-run=\"{}\" data-status=\"{status}\"><td><a href=\"/ui/runs/{}\"><code>{}</code></a></td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        url(&run.run_id),
        esc(&run.run_id),
        url(&run.run_id),
        esc(&run.run_id),
        esc(&run.flow),
        badge(status),
        esc(&when(&run.started_at)),
        run.duration_ms.map_or_else(|| "—".to_string(), duration),
    )
}

/// What a row shows that can change: its status and duration.
pub fn shown_state(run: &RunSummary) -> (RunState, Option<u64>) {
    (run.status, run.duration_ms)
}

/// A digest of the rows listed (ids, statuses, durations, in order): the page's tells the live update
/// what the page shows.
pub fn revision(runs: &[RunSummary]) -> String {
    let mut hasher = DefaultHasher::new();
    for run in runs {
        run.run_id.hash(&mut hasher);
        shown_state(run).hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// The filter form: flow (any text, the loaded flows offered), status, since (an age or a time).
fn form(daemon: &Daemon, shown: &Shown) -> String {
    let (flow, status) = (shown.flow.as_deref(), shown.status);
    let mut out = String::from(
        "<form class=\"filters\" method=\"get\" action=\"/ui/runs\" role=\"search\">\
         <label>Flow<input name=\"flow\" list=\"flows\"",
    );
    if let Some(flow) = flow {
        let _ = write!(out, " value=\"{}\"", esc(flow));
    }
    out.push_str("></label><datalist id=\"flows\">");
    for name in daemon.catalog().flows.keys() {
        let _ = write!(out, "<option value=\"{}\">", esc(name));
    }
    out.push_str("</datalist><label>Status<select name=\"status\"><option value=\"\">any</option>");
    for state in RunState::ALL {
        let _ = write!(
            out,
            "<option value=\"{0}\"{1}>{0}</option>",
            state.name(),
            if Some(state) == status {
                " selected"
            } else {
                ""
            }
        );
    }
    out.push_str(
        "</select></label><label>Since<input name=\"since\" size=\"22\" \
         placeholder=\"12h, 7d or 2026-12-01T00:00:00Z\"",
    );
    if let Some(since) = &shown.since {
        let _ = write!(out, " value=\"{}\"", esc(since));
    }
    out.push_str("></label><button type=\"submit\">Filter</button></form>\n");
    out
}

/// The run asked for is not in the store.
pub fn unknown(id: &str) -> Response {
    not_found(&format!("No run `{id}` in the run store."))
}
