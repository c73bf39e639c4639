//! `/ui/flows/{flow}`: one flow served — its file, description, validation state (its warnings at their
//! source line), triggers with their next fire times, step graph and recent runs — and the form that
//! starts a run of it (`POST /ui/flows/{flow}/runs`: 303 to the run, or the form again with each problem
//! next to its field); `/ui/files?path=FILE`: a file not served, each diagnostic at its source line.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use indexmap::IndexMap;
use keyflow_engine::block::Effect;
use keyflow_engine::plan::{ParamError, Plan};
use keyflow_store::{RunSummary, TriggerState};
use serde::Deserialize;

use super::forms::{self, Confirm, Fields, start_form, unconfirmed};
use super::html::{badge, duration, esc, not_found, respond, unavailable, url, when};
use super::session::Browser;
use super::{flows, svg};
use crate::commands::runs::list_filter;
use crate::machine::diagnostic;
use crate::serve::Daemon;
use crate::serve::actions::{self, Refusal, Via};
use crate::serve::catalog::{Catalog, Loaded};

/// Recent runs shown.
const RECENT: usize = 10;

/// What the start form shows besides the flow: what was typed and what is wrong with it.
#[derive(Default)]
pub struct Sent<'a> {
    /// What was typed, by param; `None`: the defaults.
    pub typed: Option<&'a IndexMap<String, String>>,
    /// Each problem.
    pub errors: &'a [ParamError],
    /// Why the confirmation was refused.
    pub confirm: Option<&'a str>,
}

pub async fn show(
    State(daemon): State<Arc<Daemon>>,
    browser: Browser,
    Path(flow): Path<String>,
) -> Response {
    let catalog = daemon.catalog();
    match catalog.flows.get(&flow) {
        Some(loaded) => page(&daemon, loaded, &browser, StatusCode::OK, &Sent::default()).await,
        None => unknown(&catalog, &flow),
    }
}

/// Starts a run with the params typed (read by their types, then checked as the API checks them).
pub async fn start(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    browser: Browser,
    Path(flow): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let catalog = daemon.catalog();
    let Some(loaded) = catalog.flows.get(&flow) else {
        return unknown(&catalog, &flow);
    };
    let Ok(Form(fields)) = form else {
        return respond(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "<h1>Bad form</h1><p>The form could not be read. Reload the flow's page and try again.</p>",
        );
    };
    let plan = &loaded.plan;
    let typed = fields.params();
    let (values, read) = forms::typed(plan, &typed);
    let errors = forms::all_errors(plan, &values, read);
    let destructive = !destructive(plan).is_empty();
    let confirmed = !destructive || fields.confirms(&plan.name);
    if !errors.is_empty() || !confirmed {
        let sent = Sent {
            typed: Some(&typed),
            errors: &errors,
            confirm: (!confirmed).then(|| unconfirmed(&fields)),
        };
        return page(
            &daemon,
            loaded,
            &browser,
            StatusCode::UNPROCESSABLE_ENTITY,
            &sent,
        )
        .await;
    }
    let via = Via {
        channel: "the web UI",
        remote,
    };
    match actions::start(&daemon, loaded, values, destructive, via).await {
        Ok(firing) => Redirect::to(&format!("/ui/runs/{}", url(&firing.run_id))).into_response(),
        Err(Refusal::InvalidParams { errors, .. }) => {
            let sent = Sent {
                typed: Some(&typed),
                errors: &errors,
                confirm: None,
            };
            page(
                &daemon,
                loaded,
                &browser,
                StatusCode::UNPROCESSABLE_ENTITY,
                &sent,
            )
            .await
        }
        Err(why) => super::actions::refused(why, &format!("/ui/flows/{}", url(&flow))),
    }
}

/// The steps of `plan` that are destructive (as far as known before the run).
pub fn destructive(plan: &Plan) -> Vec<&str> {
    plan.steps
        .iter()
        .filter(|s| s.effect() == Effect::Destructive)
        .map(|s| s.id.as_str())
        .collect()
}

/// The start form as `sent` says.
pub fn form(plan: &Plan, browser: &Browser, sent: &Sent<'_>) -> String {
    let destructive = destructive(plan);
    let confirm = (!destructive.is_empty()).then_some(Confirm {
        flow: &plan.name,
        steps: &destructive,
        key: "",
        error: sent.confirm,
    });
    start_form(plan, sent.typed, sent.errors, confirm, browser)
}

async fn page(
    daemon: &Daemon,
    loaded: &Loaded,
    browser: &Browser,
    status: StatusCode,
    sent: &Sent<'_>,
) -> Response {
    let plan = &loaded.plan;
    let states = match daemon.store.trigger_states().await {
        Ok(states) => states,
        Err(e) => return unavailable(&e),
    };
    let filter = list_filter(Some(plan.name.clone()), None, None, RECENT);
    let runs = match daemon.store.list(&filter).await {
        Ok(runs) => runs,
        Err(e) => return unavailable(&e),
    };
    let mut body = header(loaded);
    body.push_str("<h2>Start a run</h2>\n");
    body.push_str(&form(plan, browser, sent));
    body.push_str(&triggers(plan, &states));
    body.push_str("<h2>Step graph</h2>\n");
    body.push_str(&svg::graph(plan, &HashMap::new()));
    body.push_str(&recent(&plan.name, &runs));
    respond(status, &plan.name, &body)
}

/// Name, file, description, and whether it is valid (its warnings at their line).
fn header(loaded: &Loaded) -> String {
    let plan = &loaded.plan;
    let mut out = format!(
        "<h1>Flow <code>{}</code></h1>\n<dl class=\"header\"><dt>File</dt><dd><code>{}</code></dd>",
        esc(&plan.name),
        esc(&loaded.file.display().to_string())
    );
    if let Some(description) = &plan.description {
        let _ = write!(out, "<dt>Description</dt><dd>{}</dd>", esc(description));
    }
    let warnings = diagnostic::of_flow(&loaded.source, &plan.warnings);
    let _ = writeln!(
        out,
        "<dt>Validation</dt><dd><span class=\"badge s-succeeded\"><span aria-hidden=\"true\">✓</span> valid</span>{}</dd>\
         <dt>Steps</dt><dd>{}</dd><dt>Runs</dt><dd><a href=\"/ui/runs?flow={}\">all runs of it</a></dd></dl>",
        match warnings.len() {
            0 => String::new(),
            1 => ", with a warning".to_string(),
            n => format!(", with {n} warnings"),
        },
        plan.steps.len(),
        url(&plan.name),
    );
    for warning in &warnings {
        let _ = writeln!(out, "<pre class=\"diag\">{}</pre>", esc(&warning.rendered));
    }
    out
}

fn triggers(plan: &Plan, states: &[TriggerState]) -> String {
    if plan.triggers.is_empty() {
        return "<h2>Triggers</h2><p class=\"muted\">No triggers: it runs only when asked for.</p>\n"
            .to_string();
    }
    let now = chrono::Utc::now();
    let mut out = String::from(
        "<h2>Triggers</h2><table><thead><tr><th scope=\"col\">Trigger</th><th scope=\"col\">Schedule</th>\
         <th scope=\"col\">Next fire times</th><th scope=\"col\">State</th></tr></thead><tbody>\n",
    );
    for trigger in &plan.triggers {
        let state = states
            .iter()
            .find(|s| s.flow == plan.name && s.trigger == trigger.id);
        out.push_str(&flows::trigger_row(trigger, state, now));
    }
    out.push_str("</tbody></table>\n");
    out
}

fn recent(flow: &str, runs: &[RunSummary]) -> String {
    let mut out = String::from("<h2>Recent runs</h2>\n");
    if runs.is_empty() {
        out.push_str("<p class=\"muted\">No runs yet.</p>\n");
        return out;
    }
    out.push_str(
        "<table><thead><tr><th scope=\"col\">Run</th><th scope=\"col\">Status</th><th scope=\"col\">Started</th>\
         <th scope=\"col\">Duration</th></tr></thead><tbody>\n",
    );
    for run in runs {
        let _ = writeln!(
            out,
            "<tr><td><a href=\"/ui/runs/{}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            url(&run.run_id),
            esc(&run.run_id),
            badge(run.status.name()),
            esc(&when(&run.started_at)),
            run.duration_ms.map_or_else(|| "—".to_string(), duration),
        );
    }
    let _ = writeln!(
        out,
        "</tbody></table><p><a href=\"/ui/runs?flow={}\">All runs of {}</a></p>",
        url(flow),
        esc(flow)
    );
    out
}

/// 404 for a flow not served: the closest name, and a file not served that may be it.
pub fn unknown(catalog: &Catalog, name: &str) -> Response {
    let mut text = format!("This daemon serves no flow `{name}`");
    if let Some(close) = keyflow_engine::diagnostic::suggest(name, catalog.flows.keys()) {
        let _ = write!(text, "; did you mean `{close}`?");
    }
    if !catalog.rejected.is_empty() {
        text.push_str(" Some files are not served because they are not valid flows: the flows page lists them.");
    }
    not_found(&text)
}

/// `?path=FILE`.
#[derive(Debug, Deserialize)]
pub struct FileQuery {
    path: Option<String>,
}

/// A file not served: why, and each diagnostic with its source line and a caret under the column.
pub async fn file(State(daemon): State<Arc<Daemon>>, Query(query): Query<FileQuery>) -> Response {
    let catalog = daemon.catalog();
    let path = query.path.unwrap_or_default();
    let Some(file) = catalog.rejected.iter().find(|f| f.file == path) else {
        return not_found(&format!(
            "No file `{path}` among the files not served (they are listed on the flows page)."
        ));
    };
    let mut body = format!(
        "<h1>File not served: <code>{}</code></h1>\n<p><span class=\"badge s-failed\"><span aria-hidden=\"true\">✗</span> \
         invalid</span> It is not served until it is fixed; the daemon reads it again when it changes.</p>\n",
        esc(&file.file),
    );
    if let Some(error) = &file.error {
        let _ = writeln!(body, "<p class=\"diag\">{}</p>", esc(error));
    }
    for d in &file.diagnostics {
        let _ = writeln!(
            body,
            "<section><h2><code>{}:{}:{}</code> {}</h2><pre class=\"diag\">{}</pre></section>",
            esc(&file.file),
            d.line,
            d.column,
            esc(&d.message),
            esc(&d.rendered)
        );
    }
    body.push_str("<p><a href=\"/ui/flows\">All flows</a></p>");
    respond(StatusCode::OK, &format!("File {}", file.file), &body)
}
