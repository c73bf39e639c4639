//! `/ui/flows`: every flow the daemon serves (its file, its triggers with their next fire times and what
//! the store holds of them), and the files it does not serve, with their diagnostics.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keyflow_engine::schedule::{Trigger, upcoming};
use keyflow_store::TriggerState;

use super::html::{esc, respond, unavailable, url, when};
use crate::machine::documents::FileResult;
use crate::serve::Daemon;
use crate::serve::catalog::Loaded;

/// Fire times shown per trigger.
const NEXT: usize = 3;

pub async fn list(State(daemon): State<Arc<Daemon>>) -> Response {
    let states = match daemon.store.trigger_states().await {
        Ok(states) => states,
        Err(e) => return unavailable(&e),
    };
    let catalog = daemon.catalog();
    let now = chrono::Utc::now();
    let mut body = format!("<h1>Flows</h1>\n<p>{} served", catalog.flows.len());
    if let Some(at) = catalog.loaded_at {
        let _ = write!(
            body,
            ", loaded at {}",
            esc(&when(
                &at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))
        );
    }
    body.push_str(".</p>\n");
    for (name, loaded) in &catalog.flows {
        let mine: Vec<&TriggerState> = states.iter().filter(|s| &s.flow == name).collect();
        body.push_str(&flow(name, loaded, &mine, now));
    }
    if !catalog.rejected.is_empty() || !catalog.shadowed.is_empty() {
        body.push_str("<h2>Files not served</h2>\n");
        for file in &catalog.rejected {
            body.push_str(&rejected(file));
        }
        for (left, served) in &catalog.shadowed {
            let _ = writeln!(
                body,
                "<section><h3><code>{}</code></h3><p>Not served: <code>{}</code> gives its flow the same name.</p></section>",
                esc(left),
                esc(served)
            );
        }
    }
    respond(StatusCode::OK, "Flows", &body)
}

fn flow(
    name: &str,
    loaded: &Loaded,
    states: &[&TriggerState],
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let plan = &loaded.plan;
    let mut out = format!(
        "<section id=\"flow-{}\"><h2><a href=\"/ui/flows/{}\">{}</a></h2><p><code>{}</code> · {} step{} · <a href=\"/ui/runs?flow={}\">runs</a></p>\n",
        url(name),
        url(name),
        esc(name),
        esc(&loaded.file.display().to_string()),
        plan.steps.len(),
        if plan.steps.len() == 1 { "" } else { "s" },
        url(name),
    );
    if let Some(description) = &plan.description {
        let _ = writeln!(out, "<p>{}</p>", esc(description));
    }
    if plan.triggers.is_empty() {
        out.push_str("<p class=\"muted\">No triggers: runs only when asked for.</p>\n");
    } else {
        out.push_str(
            "<table><thead><tr><th scope=\"col\">Trigger</th><th scope=\"col\">Schedule</th>\
             <th scope=\"col\">Next fire times</th><th scope=\"col\">State</th></tr></thead><tbody>\n",
        );
        for trigger in &plan.triggers {
            let state = states.iter().find(|s| s.trigger == trigger.id).copied();
            out.push_str(&trigger_row(trigger, state, now));
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
    out
}

pub(super) fn trigger_row(
    trigger: &Trigger,
    state: Option<&TriggerState>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let next = if trigger.enabled {
        let times: Vec<String> = upcoming(trigger, now, NEXT)
            .iter()
            .map(|at| {
                esc(&when(
                    &at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                ))
            })
            .collect();
        if times.is_empty() {
            "never".to_string()
        } else {
            times.join("<br>")
        }
    } else {
        "disabled".to_string()
    };
    let state = match state {
        None => "not fired yet".to_string(),
        Some(state) => {
            let mut text = format!("handled until {}", esc(&when(&state.handled_until)));
            if state.failures > 0 {
                let _ = write!(
                    text,
                    "<br>{} failed run{} in a row",
                    state.failures,
                    if state.failures == 1 { "" } else { "s" }
                );
            }
            if let Some(paused) = &state.paused {
                let _ = write!(text, "<br><strong>paused</strong>: {}", esc(paused));
            }
            text
        }
    };
    format!(
        "<tr><td><code>{}</code></td><td><code>{}</code> ({})</td><td>{next}</td><td>{state}</td></tr>\n",
        esc(&trigger.id),
        esc(&trigger.cron.to_string()),
        esc(trigger.zone.name()),
    )
}

/// A file left out: its error, or each diagnostic at its line and column.
fn rejected(file: &FileResult) -> String {
    let mut out = format!(
        "<section><h3><a href=\"/ui/files?path={}\"><code>{}</code></a></h3>",
        url(&file.file),
        esc(&file.file)
    );
    if let Some(error) = &file.error {
        let _ = write!(out, "<p class=\"diag\">{}</p>", esc(error));
    }
    if !file.diagnostics.is_empty() {
        out.push_str("<ul>");
        for d in &file.diagnostics {
            let _ = write!(
                out,
                "<li><code>{}:{}:{}</code> <span class=\"diag\">{}</span>",
                esc(&file.file),
                d.line,
                d.column,
                esc(&d.message)
            );
            if let Some(help) = &d.help {
                let _ = write!(out, "<br><span class=\"muted\">help: {}</span>", esc(help));
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>\n");
    out
}
