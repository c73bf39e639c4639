//! `/ui/runs/{id}`: one run. Its header (flow, status, times, reason, params and outputs), the step graph
//! of its flow's plan, the timeline of its attempts, and each step's details ([`super::steps`]). While the
//! run goes on, the page also carries what its live updates need ([`super::live`]); the pieces a live
//! update redraws (header, timeline, a step's details) are drawn by the functions here.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyflow_engine::exec::store::{AttemptRecord, StoreError};
use keyflow_engine::plan::{Call, Plan};
use keyflow_store::{RunState, StoredRun};

use super::actions::{self, RunForms};
use super::html::{self, badge, duration, esc, json, not_found, respond, unavailable, url, when};
use super::session::Browser;
use super::state::{self, statuses};
use super::{assets, runs, steps, svg};
use crate::serve::Daemon;

pub async fn show(
    State(daemon): State<Arc<Daemon>>,
    browser: Browser,
    Path(id): Path<String>,
) -> Response {
    let started = Instant::now();
    let (run, plan) = match read(&daemon, &id).await {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => {
            return actions::waiting(&daemon, &id)
                .await
                .unwrap_or_else(|| runs::unknown(&id));
        }
        Err(e) => return refused(&id, &e),
    };
    let read = started.elapsed();
    let forms = actions::run_forms(&run, plan.as_deref(), &browser);
    let title = format!("Run {} of {}", run.summary.run_id, run.summary.flow);
    let mut response = respond(StatusCode::OK, &title, &page(&run, plan.as_deref(), &forms));
    html::timing(&mut response, read, started.elapsed() - read);
    response
}

/// The run `id` as the store has it, with the plan of its flow.
pub async fn read(daemon: &Daemon, id: &str) -> Result<(StoredRun, Option<Arc<Plan>>), StoreError> {
    let run = daemon.store.show(id).await?;
    let plan = plan_of(daemon, &run);
    Ok((run, plan))
}

/// The page of a run the store did not give: not there, an id prefix naming several runs, or a store
/// that does not answer.
pub fn refused(id: &str, error: &StoreError) -> Response {
    match error {
        StoreError::NotFound(_) => runs::unknown(id),
        StoreError::Failed(message) => not_found(message),
        e => unavailable(e),
    }
}

/// The plan the run's flow has now: a loaded flow of its name, or for a template's run, the template of
/// that name used by a loaded flow. The graph is drawn from it; the records say what actually ran.
pub fn plan_of(daemon: &Daemon, run: &StoredRun) -> Option<Arc<Plan>> {
    let catalog = daemon.catalog();
    let flow = &run.summary.flow;
    if run.summary.parent.is_none() {
        return catalog.flows.get(flow).map(|loaded| loaded.plan.clone());
    }
    catalog
        .flows
        .values()
        .find_map(|loaded| template_named(&loaded.plan, flow))
}

fn template_named(plan: &Plan, name: &str) -> Option<Arc<Plan>> {
    plan.steps.iter().find_map(|step| match &step.call {
        Call::Template(template) if template.plan.name == name => Some(template.plan.clone()),
        Call::Template(template) => template_named(&template.plan, name),
        Call::Block(_) => None,
    })
}

fn page(run: &StoredRun, plan: Option<&Plan>, forms: &RunForms) -> String {
    let summary = &run.summary;
    let live = summary.status == RunState::Running;
    let mut body = format!("<h1>Run <code>{}</code></h1>\n", esc(&summary.run_id));
    if live {
        // The run goes on: the script follows it from the state this page shows.
        let revision = state::State::of(run, plan).revision();
        body.push_str(&assets::live(&format!(
            "/ui/runs/{}/events?seen={revision}",
            url(&summary.run_id)
        )));
    }
    body.push_str(&header(run, &forms.header));
    let _ = writeln!(
        body,
        "<details><summary>Params</summary><div>{}</div></details>",
        json(&run.params)
    );
    let report = &run.report;
    if !report.outputs.is_empty() {
        let outputs = serde_json::to_value(&report.outputs).unwrap_or_default();
        let _ = writeln!(
            body,
            "<details><summary>Outputs</summary><div>{}</div></details>",
            json(&outputs)
        );
    }

    let status = statuses(run);
    body.push_str("<h2>Step graph</h2>\n");
    match plan {
        Some(plan) => body.push_str(&svg::graph(plan, &status)),
        None => body.push_str(
            "<p class=\"muted\">The flow is not loaded now, so its graph cannot be drawn; the steps on record are below.</p>",
        ),
    }

    let _ = write!(
        body,
        "\n<h2>Timeline</h2>\n<div id=\"timeline\">{}</div>",
        timeline(run)
    );

    body.push_str("\n<h2>Steps</h2>\n");
    body.push_str(&steps::all(run, plan, &status, &forms.steps));
    if live {
        body.push_str(&assets::script());
    }
    body
}

/// The run's header, `#run-header`: flow, status (`#run-status`, its `data-status` the run's), start,
/// duration, reason, parent run, source, and then `forms` (cancel or resume). A live update redraws it
/// whole when the run's status changes, so the buttons follow the run too.
pub fn header(run: &StoredRun, forms: &str) -> String {
    let summary = &run.summary;
    let status = summary.status.name();
    let mut out = format!(
        "<div id=\"run-header\"><dl class=\"header\"><dt>Flow</dt><dd><a href=\"/ui/flows#flow-{}\">{}</a></dd>\
         <dt>Status</dt><dd id=\"run-status\" data-status=\"{status}\">{}</dd><dt>Started</dt><dd>{}</dd>\
         <dt>Duration</dt><dd>{}</dd>",
        url(&summary.flow),
        esc(&summary.flow),
        badge(status),
        esc(&when(&summary.started_at)),
        summary
            .duration_ms
            .map_or_else(|| "under way".to_string(), duration),
    );
    if let Some(reason) = summary.reason.as_ref().or(run.report.reason.as_ref()) {
        let _ = write!(out, "<dt>Reason</dt><dd>{}</dd>", esc(reason));
    }
    if let Some(parent) = &summary.parent {
        let _ = write!(
            out,
            "<dt>Template run of</dt><dd>step <a href=\"/ui/runs/{}#step-{}\">{}</a>{} of run <code>{}</code></dd>",
            url(&parent.run_id),
            url(&parent.step),
            esc(&parent.step),
            parent
                .item
                .map_or_else(String::new, |i| format!(" (item {i})")),
            esc(&parent.run_id),
        );
    }
    let _ = writeln!(
        out,
        "<dt>Source</dt><dd><code>{}</code></dd></dl>\n{forms}</div>",
        esc(&summary.source)
    );
    out
}

/// What `#timeline` holds: the attempts' timeline, or that no block was called yet.
pub fn timeline(run: &StoredRun) -> String {
    let labelled = labelled(run);
    if labelled.is_empty() {
        "<p class=\"muted\">No block was called.</p>".to_string()
    } else {
        svg::timeline(&run.summary.started_at, &labelled)
    }
}

/// The attempts with the label of their row: the step (and item); for a template run's, the `uses:` step
/// before the template's step.
fn labelled(run: &StoredRun) -> Vec<(String, &AttemptRecord)> {
    let mut parents: HashMap<&str, &str> = HashMap::new();
    for step in &run.report.steps {
        for child in step.runs.iter().flatten() {
            parents.insert(child.run_id.as_str(), step.id.as_str());
        }
    }
    run.attempts
        .iter()
        .map(|a| {
            let mut label = match parents.get(a.run_id.as_str()) {
                Some(parent) if a.run_id != run.summary.run_id => format!("{parent}/{}", a.step),
                _ => a.step.clone(),
            };
            if let Some(item) = a.item {
                let _ = write!(label, "[{item}]");
            }
            (label, a)
        })
        .collect()
}
