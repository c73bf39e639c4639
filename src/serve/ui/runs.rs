//! `/ui/runs`: the runs, newest first, filtered by flow and status with a GET form, `limit` at a time and
//! a link to more.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyflow_store::{ListFilter, RunState};
use serde::Deserialize;

use super::html::{badge, duration, esc, not_found, respond, unavailable, url, when};
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
    limit: Option<String>,
}

pub async fn list(State(daemon): State<Arc<Daemon>>, Query(query): Query<RunsQuery>) -> Response {
    let flow = query.flow.filter(|f| !f.trim().is_empty());
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => match RunState::parse(name) {
            Some(state) => Some(state),
            None => {
                return respond(
                    StatusCode::BAD_REQUEST,
                    "Runs",
                    &format!(
                        "<h1>Runs</h1><p class=\"diag\">Unknown status `{}`: choose one of {}.</p>",
                        esc(name),
                        RunState::ALL.map(RunState::name).join(", ")
                    ),
                );
            }
        },
    };
    let limit = match query.limit.as_deref().filter(|l| !l.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n > 0 => n.min(MAX_LIMIT),
            _ => {
                return respond(
                    StatusCode::BAD_REQUEST,
                    "Runs",
                    &format!(
                        "<h1>Runs</h1><p class=\"diag\">`limit={}` is not a number of runs: give one from 1 to {MAX_LIMIT}.</p>",
                        esc(text)
                    ),
                );
            }
        },
    };
    let filter = ListFilter {
        flow: flow.clone(),
        state: status,
        limit: Some(limit),
        ..ListFilter::default()
    };
    let runs = match daemon.store.list(&filter).await {
        Ok(runs) => runs,
        Err(e) => return unavailable(&e),
    };
    let mut body = String::from("<h1>Runs</h1>\n");
    body.push_str(&form(&daemon, flow.as_deref(), status));
    if runs.is_empty() {
        body.push_str("<p>No runs match.</p>");
        return respond(StatusCode::OK, "Runs", &body);
    }
    body.push_str(
        "<table><thead><tr><th scope=\"col\">Run</th><th scope=\"col\">Flow</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Started</th><th scope=\"col\">Duration</th></tr></thead><tbody>\n",
    );
    for run in &runs {
        let _ = writeln!(
            body,
            "<tr><td><a href=\"/ui/runs/{}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            url(&run.run_id),
            esc(&run.run_id),
            esc(&run.flow),
            badge(run.status.name()),
            esc(&when(&run.started_at)),
            run.duration_ms.map_or_else(|| "—".to_string(), duration),
        );
    }
    body.push_str("</tbody></table>\n");
    if runs.len() == limit && limit < MAX_LIMIT {
        let mut more = format!("/ui/runs?limit={}", (limit * 2).min(MAX_LIMIT));
        if let Some(flow) = &flow {
            let _ = write!(more, "&flow={}", url(flow));
        }
        if let Some(status) = status {
            let _ = write!(more, "&status={}", status.name());
        }
        let _ = write!(body, "<p><a href=\"{}\">More runs</a></p>", esc(&more));
    }
    respond(StatusCode::OK, "Runs", &body)
}

/// The filter form: flow (any text, the loaded flows offered), status, limit.
fn form(daemon: &Daemon, flow: Option<&str>, status: Option<RunState>) -> String {
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
    out.push_str("</select></label><button type=\"submit\">Filter</button></form>\n");
    out
}

/// The run asked for is not in the store.
pub fn unknown(id: &str) -> Response {
    not_found(&format!("No run `{id}` in the run store."))
}
