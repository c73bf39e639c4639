//! The run page's steps: one `<details>` each, with its resolved input, output and error as pretty JSON
//! exactly as the store holds them (secrets are already redacted there), its attempts, its `for_each`
//! items, and the runs of its template.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use keyflow_engine::exec::report::StepReport;
use keyflow_engine::exec::store::AttemptRecord;
use keyflow_engine::plan::Plan;
use keyflow_store::StoredRun;

use super::html::{badge, duration, esc, json, json_in, url, when};

/// Every step's details: the plan's steps in file order (those not on record as `pending`), else the
/// report's; each with its form in `forms`, by step id, at the end of its details.
pub fn all(
    run: &StoredRun,
    plan: Option<&Plan>,
    status: &HashMap<&str, &str>,
    forms: &HashMap<String, String>,
) -> String {
    some(run, plan, status, forms, |_| true)
        .into_iter()
        .map(|(_, html)| html)
        .collect()
}

/// The ids of the steps a run page shows, in its order: the plan's, else the report's; with the block
/// the plan gives each.
pub fn ids<'a>(run: &'a StoredRun, plan: Option<&'a Plan>) -> Vec<(&'a str, Option<&'a str>)> {
    match plan {
        Some(plan) => plan
            .steps
            .iter()
            .map(|s| (s.id.as_str(), Some(s.call.spec().id)))
            .collect(),
        None => run
            .report
            .steps
            .iter()
            .map(|s| (s.id.as_str(), None))
            .collect(),
    }
}

/// The details of the steps `wanted` picks, with their ids, in page order: what the page shows, and what
/// a live update sends of the steps that changed (the same code, so escaping is the same).
pub fn some<'a>(
    run: &'a StoredRun,
    plan: Option<&'a Plan>,
    status: &HashMap<&str, &str>,
    forms: &HashMap<String, String>,
    wanted: impl Fn(&str) -> bool,
) -> Vec<(&'a str, String)> {
    // Indexed once: a run page of a thousand steps stays linear.
    let reports: HashMap<&str, &StepReport> = run
        .report
        .steps
        .iter()
        .map(|s| (s.id.as_str(), s))
        .collect();
    let mut attempts: HashMap<&str, Vec<&AttemptRecord>> = HashMap::new();
    for attempt in run
        .attempts
        .iter()
        .filter(|a| a.run_id == run.summary.run_id)
    {
        attempts
            .entry(attempt.step.as_str())
            .or_default()
            .push(attempt);
    }
    let mut out = Vec::new();
    for (id, block) in ids(run, plan) {
        if !wanted(id) {
            continue;
        }
        let report = reports.get(id).copied();
        let block = report.map(|r| r.block.as_str()).or(block).unwrap_or("");
        let state = status.get(id).copied().unwrap_or("pending");
        let attempts = attempts.get(id).map_or(&[][..], Vec::as_slice);
        let form = forms.get(id).map_or("", String::as_str);
        out.push((id, step(id, block, state, report, attempts, form)));
    }
    out
}

fn step(
    id: &str,
    block: &str,
    state: &str,
    report: Option<&StepReport>,
    attempts: &[&AttemptRecord],
    form: &str,
) -> String {
    let mut out = format!(
        "<details id=\"step-{}\" class=\"step\" data-step=\"{}\" data-status=\"{}\"><summary><strong>{}</strong> <code>{}</code> {}",
        url(id),
        esc(id),
        esc(state),
        esc(id),
        esc(block),
        badge(state)
    );
    if let Some(report) = report {
        let _ = write!(
            out,
            " {} · {} attempt{}",
            duration(report.duration_ms),
            report.attempts,
            if report.attempts == 1 { "" } else { "s" }
        );
        if report.reused {
            out.push_str(" · reused from an earlier attempt of the run");
        }
    }
    out.push_str("</summary><div>\n");
    if let Some(reason) = report.and_then(|r| r.reason.as_ref()) {
        let _ = writeln!(out, "<p>Reason: {}</p>", esc(reason));
    }
    let items: BTreeMap<usize, Vec<&AttemptRecord>> =
        attempts.iter().fold(BTreeMap::new(), |mut items, a| {
            if let Some(item) = a.item {
                items.entry(item).or_insert_with(Vec::new).push(*a);
            }
            items
        });
    // The input of the step's last call (for `for_each`, each item's is under the item).
    if let Some(last) = attempts.iter().rev().find(|a| a.item.is_none()) {
        let _ = writeln!(out, "<h4>Input</h4>{}", json_in("input", &last.input));
    }
    match report.and_then(|r| r.output.as_ref()) {
        Some(output) => {
            let _ = writeln!(out, "<h4>Output</h4>{}", json_in("output", output));
        }
        None if report.is_some() => out.push_str("<p class=\"muted\">No output.</p>\n"),
        None => {}
    }
    if let Some(error) = report.and_then(|r| r.error.as_ref()) {
        let error = serde_json::to_value(error).unwrap_or_default();
        let _ = writeln!(out, "<h4>Error</h4>{}", json_in("error", &error));
    }
    if !attempts.is_empty() {
        out.push_str(&attempt_table(attempts));
    }
    if !items.is_empty() {
        let _ = writeln!(out, "<h4>Items ({})</h4>", items.len());
        for (item, tries) in &items {
            out.push_str(&item_details(*item, tries));
        }
    }
    if let Some(runs) = report.and_then(|r| r.runs.as_ref()) {
        let _ = writeln!(out, "<h4>Template runs ({})</h4><ul>", runs.len());
        for (n, child) in runs.iter().enumerate() {
            let _ = writeln!(
                out,
                "<li>{}<a href=\"/ui/runs/{}\"><code>{}</code></a> of <code>{}</code> {} {}</li>",
                if runs.len() > 1 {
                    format!("item {n}: ")
                } else {
                    String::new()
                },
                url(&child.run_id),
                esc(&child.run_id),
                esc(&child.flow),
                badge(child.status.name()),
                duration(child.duration_ms),
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str(form);
    out.push_str("</div></details>\n");
    out
}

/// The calls of a step (or an item): number, start, length, outcome.
fn attempt_table(attempts: &[&AttemptRecord]) -> String {
    let mut out = String::from(
        "<table><caption class=\"muted\">Attempts</caption><thead><tr><th scope=\"col\">Item</th>\
         <th scope=\"col\">Attempt</th><th scope=\"col\">Started</th><th scope=\"col\">Duration</th>\
         <th scope=\"col\">Outcome</th></tr></thead><tbody>",
    );
    for a in attempts {
        let outcome = match &a.error {
            Some(error) => format!("{} <code>{}</code>", badge("failed"), esc(&error.code)),
            None => badge("succeeded"),
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{outcome}</td></tr>",
            a.item.map_or_else(|| "—".to_string(), |i| i.to_string()),
            a.attempt,
            esc(&when(&a.started_at)),
            duration(a.duration_ms),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

/// One `for_each` item: its last call's input, output and error.
fn item_details(item: usize, tries: &[&AttemptRecord]) -> String {
    let Some(last) = tries.last() else {
        return String::new();
    };
    let state = if last.error.is_some() {
        "failed"
    } else {
        "succeeded"
    };
    let mut out = format!(
        "<details><summary>item {item} {} {} attempt{}</summary><div><h4>Input</h4>{}",
        badge(state),
        tries.len(),
        if tries.len() == 1 { "" } else { "s" },
        json(&last.input)
    );
    if let Some(output) = &last.output {
        let _ = write!(out, "<h4>Output</h4>{}", json(output));
    }
    if let Some(error) = &last.error {
        let error = serde_json::to_value(error).unwrap_or_default();
        let _ = write!(out, "<h4>Error</h4>{}", json(&error));
    }
    out.push_str("</div></details>\n");
    out
}
