//! The run page's buttons and what they do: cancel a run under way, resume one that failed, was cancelled
//! or was interrupted, and run a run that ended again from one of its steps
//! (`POST /ui/runs/{id}/cancel|resume|rerun`). Each does what the API's route does
//! ([`crate::serve::actions`]) and answers 303 to the run's page (a re-run: the new run's), or a page
//! saying plainly why not. An action that would run destructive steps asks for the flow's name first.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use keyflow_engine::exec::store::StoreError;
use keyflow_engine::plan::Plan;
use keyflow_store::{FiringStatus, RunState, StoredRun};

use super::forms::{Confirm, Fields, unconfirmed};
use super::html::{esc, not_found, respond, unavailable, url, when};
use super::runs;
use super::session::Browser;
use crate::commands::resume::refusal;
use crate::serve::Daemon;
use crate::serve::actions::{self, Again, Continued, Refusal, Via, again::rerun_each};

/// The forms of a run page: its buttons, and each step's re-run form by step id.
#[derive(Debug, Default)]
pub struct RunForms {
    /// Cancel or resume, under the run's header.
    pub header: String,
    /// "Re-run from this step", by step id, for the step's details.
    pub steps: HashMap<String, String>,
}

/// The forms `run` offers with its flow's `plan` as served (none for a template's run, or a flow not
/// served).
pub fn run_forms(run: &StoredRun, plan: Option<&Plan>, browser: &Browser) -> RunForms {
    let summary = &run.summary;
    let mut forms = RunForms::default();
    if summary.parent.is_some() {
        return forms;
    }
    let action = |what: &str| format!("/ui/runs/{}/{what}", url(&summary.run_id));
    if summary.status == RunState::Running {
        forms.header = format!(
            "<form class=\"action\" method=\"post\" action=\"{}\">{}<button type=\"submit\">Cancel run</button></form>\n",
            action("cancel"),
            browser.field()
        );
        return forms;
    }
    let Some(plan) = plan else {
        forms.header = "<p class=\"muted\">Its flow is not served now: it cannot be resumed or re-run from here.</p>\n".into();
        return forms;
    };
    if refusal(summary).is_none() {
        forms.header = match Again::resume(plan, run) {
            Ok(again) => resume_form(run, plan, &again, browser, None),
            Err(e) => format!(
                "<p class=\"muted\">It cannot be resumed: {}</p>\n",
                esc(&e.to_string())
            ),
        };
    }
    for (step, destructive) in plan.steps.iter().zip(rerun_each(plan, run)) {
        let form = rerun_form(run, &plan.name, &[&step.id], &destructive, browser, None);
        forms.steps.insert(step.id.clone(), form);
    }
    forms
}

fn resume_form(
    run: &StoredRun,
    plan: &Plan,
    again: &Again,
    browser: &Browser,
    error: Option<&str>,
) -> String {
    let destructive = again.destructive(plan);
    let confirm = (!destructive.is_empty()).then_some(Confirm {
        flow: &plan.name,
        steps: &destructive,
        key: "",
        error,
    });
    format!(
        "<form class=\"action\" method=\"post\" action=\"/ui/runs/{}/resume\">{}{}\
         <button type=\"submit\">Resume run</button> <span class=\"help\">runs again the {} step{} whose result cannot stand; the rest stand as recorded</span></form>\n",
        url(&run.summary.run_id),
        browser.field(),
        confirm.map_or_else(String::new, |c| c.field()),
        again.count(),
        if again.count() == 1 { "" } else { "s" },
    )
}

fn rerun_form(
    run: &StoredRun,
    flow: &str,
    steps: &[&str],
    destructive: &[&str],
    browser: &Browser,
    error: Option<&str>,
) -> String {
    let key = steps.join(" ");
    let confirm = (!destructive.is_empty()).then_some(Confirm {
        flow,
        steps: destructive,
        key: &key,
        error,
    });
    let hidden: String = steps
        .iter()
        .map(|s| format!("<input type=\"hidden\" name=\"step\" value=\"{}\">", esc(s)))
        .collect();
    format!(
        "<form class=\"rerun\" method=\"post\" action=\"/ui/runs/{}/rerun\">{}{hidden}{}\
         <button type=\"submit\">Re-run from this step</button></form>\n",
        url(&run.summary.run_id),
        browser.field(),
        confirm.map_or_else(String::new, |c| c.field()),
    )
}

/// `POST /ui/runs/{id}/{action}`.
pub async fn act(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    browser: Browser,
    Path(path): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return respond(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "<h1>Bad form</h1><p>The form could not be read. Reload the run's page and try again.</p>",
        );
    };
    let via = Via {
        channel: "the web UI",
        remote,
    };
    match path.rsplit_once('/') {
        Some((id, "cancel")) => match actions::cancel(&daemon, id, via).await {
            Ok(cancelled) => to_run(&cancelled.run_id),
            Err(why) => refused(why, &run_page(id)),
        },
        Some((id, "resume")) => resume(&daemon, id, &fields, &browser, via).await,
        Some((id, "rerun")) => rerun(&daemon, id, &fields, &browser, via).await,
        _ => not_found("No such action: a run's page has cancel, resume and re-run."),
    }
}

async fn resume(
    daemon: &Daemon,
    id: &str,
    fields: &Fields,
    browser: &Browser,
    via: Via,
) -> Response {
    let continued = match actions::resumable(daemon, id).await {
        Ok(continued) => continued,
        Err(why) => return refused(why, &run_page(id)),
    };
    let Continued { run, plan, again } = &continued;
    let destructive = !again.destructive(plan).is_empty();
    if destructive && !fields.confirms(&plan.name) {
        let form = resume_form(run, plan, again, browser, Some(unconfirmed(fields)));
        return confirm_page(run, "Resume the run", &form);
    }
    match actions::resume(daemon, &continued, destructive, via).await {
        Ok(firing) => to_run(&firing.run_id),
        Err(why) => refused(why, &run_page(id)),
    }
}

async fn rerun(
    daemon: &Daemon,
    id: &str,
    fields: &Fields,
    browser: &Browser,
    via: Via,
) -> Response {
    let steps: Vec<String> = fields
        .0
        .iter()
        .filter(|(name, _)| name == "step")
        .map(|(_, value)| value.clone())
        .collect();
    let continued = match actions::rerunnable(daemon, id, &steps).await {
        Ok(continued) => continued,
        Err(why) => return refused(why, &run_page(id)),
    };
    let Continued { run, plan, again } = &continued;
    let destructive = again.destructive(plan);
    if !destructive.is_empty() && !fields.confirms(&plan.name) {
        let named: Vec<&str> = steps.iter().map(String::as_str).collect();
        let form = rerun_form(
            run,
            &plan.name,
            &named,
            &destructive,
            browser,
            Some(unconfirmed(fields)),
        );
        return confirm_page(run, &format!("Re-run from {}", named.join(", ")), &form);
    }
    match actions::rerun(daemon, &continued, &steps, !destructive.is_empty(), via).await {
        Ok(firing) => to_run(&firing.run_id),
        Err(why) => refused(why, &run_page(id)),
    }
}

/// A run's page.
fn run_page(run_id: &str) -> String {
    format!("/ui/runs/{}", url(run_id))
}

/// 303 to a run's page.
fn to_run(run_id: &str) -> Response {
    Redirect::to(&run_page(run_id)).into_response()
}

/// 422: the form again, with why the confirmation was refused.
fn confirm_page(run: &StoredRun, title: &str, form: &str) -> Response {
    let id = &run.summary.run_id;
    respond(
        StatusCode::UNPROCESSABLE_ENTITY,
        title,
        &format!(
            "<h1>{}</h1><p>Run <a href=\"/ui/runs/{}\"><code>{}</code></a> of <code>{}</code>. Nothing was done yet.</p>\n{form}",
            esc(title),
            url(id),
            esc(id),
            esc(&run.summary.flow),
        ),
    )
}

/// The page of an action refused: why, and a link `back` to the page it was asked from.
pub fn refused(refusal: Refusal, back: &str) -> Response {
    let back = format!("<p><a href=\"{}\">Back</a></p>", esc(back));
    let page = |status: StatusCode, why: &str| {
        respond(
            status,
            "Not done",
            &format!("<h1>Not done</h1><p>{}</p>{back}", esc(why)),
        )
    };
    match refusal {
        Refusal::UnknownRun(id) => runs::unknown(&id),
        Refusal::NotStarted(why, _) => page(StatusCode::NOT_FOUND, &why),
        Refusal::InvalidParams { errors, .. } => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Refusal::Conflict(why) => page(StatusCode::CONFLICT, &why),
        Refusal::Unprocessable(why) => page(StatusCode::UNPROCESSABLE_ENTITY, &why),
        Refusal::Store(StoreError::NotFound(why) | StoreError::Failed(why)) => not_found(&why),
        Refusal::Store(e) => unavailable(&e),
    }
}

/// The page of a run asked for that has not started (a run just started from a form is a moment away),
/// reloading itself; `None` when no firing starts run `id`.
pub async fn waiting(daemon: &Daemon, id: &str) -> Option<Response> {
    let firing = daemon.store.firing_of_run(id).await.ok()??;
    let mut body = format!(
        "<h1>Run <code>{}</code></h1><p>A run of <a href=\"/ui/flows/{}\">{}</a> asked for at {}",
        esc(&firing.run_id),
        url(&firing.flow),
        esc(&firing.flow),
        esc(&when(&firing.fire_at)),
    );
    if matches!(firing.status, FiringStatus::Skipped | FiringStatus::Done) {
        let _ = write!(
            body,
            ". It did not start: {}.</p>",
            esc(firing.reason.as_deref().unwrap_or("its firing ended first"))
        );
        return Some(respond(StatusCode::NOT_FOUND, "Run not started", &body));
    }
    let _ = write!(
        body,
        ". It has not started yet (its firing is {}); this page reloads until it has.</p>\
         <p><a href=\"/ui/runs/{}\">Reload</a></p>",
        firing.status.name(),
        url(&firing.run_id)
    );
    let mut response = respond(StatusCode::OK, "Run not started yet", &body);
    response
        .headers_mut()
        .insert("refresh", HeaderValue::from_static("1"));
    Some(response)
}
