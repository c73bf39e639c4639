//! `/ui/flows/{flow}/plan?param.NAME=…`: what `keyflow plan` shows for those params, before a run is
//! started — each step in execution order with its block, its effect and recovery rule, whether it is
//! destructive, its `if:`, and its input resolved as far as it is known before the run (upstream outputs
//! are the blocks' examples, secrets never shown: the engine's preview) — with the start form below.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyflow_engine::block::Effect;
use keyflow_engine::plan::preview::{StepPreview, preview, preview_params};
use keyflow_engine::plan::{ParamValue, Plan};
use keyflow_engine::source::YamlPath;

use super::flow::{self, Sent};
use super::forms::{self, Fields};
use super::html::{esc, json, respond};
use super::session::Browser;
use crate::serve::Daemon;

pub async fn show(
    State(daemon): State<Arc<Daemon>>,
    browser: Browser,
    Path(name): Path<String>,
    Query(fields): Query<Fields>,
) -> Response {
    let catalog = daemon.catalog();
    let Some(loaded) = catalog.flows.get(&name) else {
        return flow::unknown(&catalog, &name);
    };
    let plan = &loaded.plan;
    let typed = fields.params();
    let (values, read) = forms::typed(plan, &typed);
    // A param given must fit; one left out shows as a placeholder, as `keyflow plan` does.
    let typed_in = |name: &str| typed.get(name).is_some_and(|t| !t.trim().is_empty());
    let errors: Vec<_> = forms::all_errors(plan, &values, read)
        .into_iter()
        .filter(|e| values.contains_key(&e.name) || typed_in(&e.name))
        .collect();
    // Opened without params (a link): the form shows the defaults.
    let sent = Sent {
        typed: (!typed.is_empty()).then_some(&typed),
        errors: &errors,
        confirm: None,
    };
    let mut body = format!("<h1>Plan of <code>{}</code></h1>\n", esc(&plan.name));
    let status = if errors.is_empty() {
        let given = values
            .iter()
            .map(|(name, value)| (name.clone(), ParamValue::Json(value.clone())))
            .collect();
        let params = preview_params(plan, &given);
        let steps = preview(plan, &params);
        body.push_str(&steps_of(plan, &steps));
        let _ = writeln!(
            body,
            "<details><summary>Params as the run would get them</summary><div>{}</div></details>",
            json(&params)
        );
        StatusCode::OK
    } else {
        body.push_str("<p class=\"field-error\" role=\"alert\">The params below do not fit the flow: nothing to plan until they do.</p>\n");
        StatusCode::UNPROCESSABLE_ENTITY
    };
    body.push_str("<h2>Start a run</h2>\n");
    body.push_str(&flow::form(plan, &browser, &sent));
    respond(status, &format!("Plan of {}", plan.name), &body)
}

/// The steps in execution order, by concurrency group, and what the destructive ones need.
fn steps_of(plan: &Plan, steps: &[StepPreview]) -> String {
    let groups = steps.iter().map(|s| s.group).max().map_or(0, |g| g + 1);
    let mut out = format!(
        "<p>{} step{} in {groups} group{}; steps of one group can run at the same time. Nothing was called to \
         make this plan: the inputs are resolved with the blocks' example outputs in place of real ones.</p>\n<ol class=\"plan\">\n",
        steps.len(),
        if steps.len() == 1 { "" } else { "s" },
        if groups == 1 { "" } else { "s" },
    );
    for step in steps {
        out.push_str(&step_of(plan, step));
    }
    out.push_str("</ol>\n");
    let destructive: Vec<&StepPreview> = steps
        .iter()
        .filter(|s| s.effect == Effect::Destructive)
        .collect();
    if !destructive.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"warn\"><strong>{} destructive step{}</strong> ({}): starting the run asks for the flow's name to confirm them.</p>",
            destructive.len(),
            if destructive.len() == 1 { "" } else { "s" },
            destructive
                .iter()
                .map(|s| format!("<code>{}</code>", esc(&s.id)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let authorising: Vec<String> = plan
            .triggers
            .iter()
            .filter(|t| t.allow_destructive)
            .map(|t| format!("<code>{}</code>", esc(&t.id)))
            .collect();
        if !authorising.is_empty() {
            let _ = writeln!(
                out,
                "<p>The schedule authorises them for the runs of trigger {} (<code>allow_destructive: true</code>).</p>",
                authorising.join(", ")
            );
        }
    }
    out
}

/// One step: its block, effect, notes, input, and a template's steps under it.
fn step_of(plan: &Plan, step: &StepPreview) -> String {
    let effect = match step.effect {
        Effect::Destructive => "<strong class=\"diag\">destructive</strong>".to_string(),
        other => esc(other.name()),
    };
    let mut out = format!(
        "<li><strong>{}</strong> <code>{}</code> ({}) · {effect} · recovery: {}",
        esc(&step.id),
        esc(&step.block),
        esc(&step.title),
        esc(step.recovery.name()),
    );
    let mut notes = vec![format!("group {}", step.group + 1)];
    if !step.after.is_empty() {
        let after: Vec<String> = step
            .after
            .iter()
            .map(|a| format!("<code>{}</code>", esc(a)))
            .collect();
        notes.push(format!("after {}", after.join(", ")));
    }
    if let Some(items) = step.items {
        notes.push(format!("for each of {items} items (the first shown)"));
    }
    if step.polls {
        notes.push("polls until its condition holds".into());
    }
    if step.recovery.at_least_once() && step.effect != Effect::Read {
        notes.push("at-least-once: a call whose answer is lost may be made twice".into());
    }
    let _ = write!(out, "<br><span class=\"muted\">{}</span>", notes.join("; "));
    if step.conditional {
        let text = condition_text(plan, &step.id).unwrap_or_else(|| "its `if:`".to_string());
        let _ = write!(out, "<br>only if <code>{}</code> holds", esc(text.trim()));
    }
    if step.input.as_object().is_some_and(|m| !m.is_empty()) {
        out.push_str(&json(&step.input));
    }
    if let Some(inner) = &step.steps {
        let template = plan
            .steps
            .iter()
            .find(|s| s.id == step.id)
            .and_then(|s| s.call.template());
        let _ = write!(
            out,
            "<p class=\"muted\">runs the {} steps of {}{}:</p><ol class=\"plan\">",
            inner.len(),
            esc(&step.block),
            if step.items.is_some() {
                " per item"
            } else {
                ""
            }
        );
        for child in inner {
            match template {
                Some(template) => out.push_str(&step_of(&template.plan, child)),
                None => out.push_str(&step_of(plan, child)),
            }
        }
        out.push_str("</ol>");
    }
    out.push_str("</li>\n");
    out
}

/// The `if:` of step `id` as the flow file writes it.
fn condition_text(plan: &Plan, id: &str) -> Option<String> {
    let step = plan.steps.iter().find(|s| s.id == id)?;
    let path = YamlPath::root().key("steps").index(step.index).key("if");
    let span = plan.source.value_span(&path)?;
    let text: String = plan
        .source
        .text
        .chars()
        .skip(span.start.offset)
        .take(span.end.offset.saturating_sub(span.start.offset))
        .collect();
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}
