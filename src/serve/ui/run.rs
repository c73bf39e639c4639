//! `/ui/runs/{id}`: one run. Its header (flow, status, times, reason, params and outputs), the step graph
//! of its flow's plan, the timeline of its attempts, and each step's details ([`super::steps`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyflow_engine::exec::store::{AttemptRecord, StoreError};
use keyflow_engine::plan::{Call, Plan};
use keyflow_store::StoredRun;

use super::actions::{self, RunForms};
use super::html::{badge, duration, esc, json, not_found, respond, unavailable, url, when};
use super::session::Browser;
use super::{runs, steps, svg};
use crate::serve::Daemon;

pub async fn show(
    State(daemon): State<Arc<Daemon>>,
    browser: Browser,
    Path(id): Path<String>,
) -> Response {
    let run = match daemon.store.show(&id).await {
        Ok(run) => run,
        Err(StoreError::NotFound(_)) => {
            return actions::waiting(&daemon, &id)
                .await
                .unwrap_or_else(|| runs::unknown(&id));
        }
        // An id prefix that names several runs.
        Err(StoreError::Failed(message)) => return not_found(&message),
        Err(e) => return unavailable(&e),
    };
    let plan = plan_of(&daemon, &run);
    let forms = actions::run_forms(&run, plan.as_deref(), &browser);
    let title = format!("Run {} of {}", run.summary.run_id, run.summary.flow);
    respond(StatusCode::OK, &title, &page(&run, plan.as_deref(), &forms))
}

/// The plan the run's flow has now: a loaded flow of its name, or for a template's run, the template of
/// that name used by a loaded flow. The graph is drawn from it; the records say what actually ran.
fn plan_of(daemon: &Daemon, run: &StoredRun) -> Option<Arc<Plan>> {
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
    let report = &run.report;
    let mut body = format!(
        "<h1>Run <code>{}</code></h1>\n<dl class=\"header\"><dt>Flow</dt><dd><a href=\"/ui/flows#flow-{}\">{}</a></dd>\
         <dt>Status</dt><dd>{}</dd><dt>Started</dt><dd>{}</dd><dt>Duration</dt><dd>{}</dd>",
        esc(&summary.run_id),
        url(&summary.flow),
        esc(&summary.flow),
        badge(summary.status.name()),
        esc(&when(&summary.started_at)),
        summary
            .duration_ms
            .map_or_else(|| "under way".to_string(), duration),
    );
    if let Some(reason) = summary.reason.as_ref().or(report.reason.as_ref()) {
        let _ = write!(body, "<dt>Reason</dt><dd>{}</dd>", esc(reason));
    }
    if let Some(parent) = &summary.parent {
        let _ = write!(
            body,
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
        body,
        "<dt>Source</dt><dd><code>{}</code></dd></dl>",
        esc(&summary.source)
    );
    body.push_str(&forms.header);
    let _ = writeln!(
        body,
        "<details><summary>Params</summary><div>{}</div></details>",
        json(&run.params)
    );
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

    body.push_str("\n<h2>Timeline</h2>\n");
    let labelled = labelled(run);
    if labelled.is_empty() {
        body.push_str("<p class=\"muted\">No block was called.</p>");
    } else {
        body.push_str(&svg::timeline(&summary.started_at, &labelled));
    }

    body.push_str("\n<h2>Steps</h2>\n");
    body.push_str(&steps::all(run, plan, &status, &forms.steps));
    body
}

/// Each step's status by id: as reported, `running` for a step with attempts but no result yet.
fn statuses(run: &StoredRun) -> HashMap<&str, &str> {
    let mut status: HashMap<&str, &str> = HashMap::new();
    for attempt in run
        .attempts
        .iter()
        .filter(|a| a.run_id == run.summary.run_id)
    {
        status.insert(attempt.step.as_str(), "running");
    }
    for step in &run.report.steps {
        status.insert(step.id.as_str(), step.status.name());
    }
    status
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
