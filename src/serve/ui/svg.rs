//! The run page's two pictures, as inline SVG: the plan's step graph (rows by dependency depth, each node
//! coloured by its status and labelled with it) and the timeline of attempts (one bar per attempt, so
//! retries and polls show as bars of their own).

use std::collections::HashMap;
use std::fmt::Write as _;

use keyflow_engine::exec::store::AttemptRecord;
use keyflow_engine::plan::Plan;

use super::html::{colours, duration, esc, symbol, url};
use crate::commands::graph::edges;

const NODE_W: usize = 190;
const NODE_H: usize = 46;
const GAP_X: usize = 30;
const GAP_Y: usize = 40;
const PAD: usize = 12;
/// Nodes side by side at most, so that the graph stays readable on a laptop screen.
const PER_ROW: usize = 6;

/// At most `max` characters of `text`, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

/// The step graph: a node per step at its dependency depth, an arrow per dependency. `status` names each
/// step's status (`pending` for one not on record); each node links to the step's details below.
pub fn graph(plan: &Plan, status: &HashMap<&str, &str>) -> String {
    let mut levels: Vec<Vec<usize>> = Vec::new();
    for step in &plan.steps {
        if levels.len() <= step.level {
            levels.resize_with(step.level + 1, Vec::new);
        }
        levels[step.level].push(step.index);
    }
    // A wide level (a fan-out of many independent steps) wraps onto more rows.
    let rows: Vec<&[usize]> = levels
        .iter()
        .flat_map(|level| level.chunks(PER_ROW))
        .collect();
    let widest = rows.iter().map(|row| row.len()).max().unwrap_or(1).max(1);
    let width = PAD * 2 + widest * NODE_W + (widest - 1) * GAP_X;
    let height = PAD * 2 + rows.len().max(1) * (NODE_H + GAP_Y) - GAP_Y;
    let mut at = vec![(0, 0); plan.steps.len()];
    for (level, row) in rows.iter().enumerate() {
        // Each row centred under the widest.
        let offset = (width - (row.len() * NODE_W + (row.len().saturating_sub(1)) * GAP_X)) / 2;
        for (n, &i) in row.iter().enumerate() {
            at[i] = (
                offset + n * (NODE_W + GAP_X),
                PAD + level * (NODE_H + GAP_Y),
            );
        }
    }
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"Step graph of {}\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#57606a\"/>\
         </marker></defs>\n",
        esc(&plan.name)
    );
    for (from, to) in edges(plan) {
        let (fx, fy) = at[from];
        let (tx, ty) = at[to];
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#57606a\" marker-end=\"url(#arrow)\"/>",
            fx + NODE_W / 2,
            fy + NODE_H,
            tx + NODE_W / 2,
            ty
        );
    }
    for step in &plan.steps {
        let (x, y) = at[step.index];
        let state = status.get(step.id.as_str()).copied().unwrap_or("pending");
        let (fill, stroke) = colours(state);
        // The node's `data-status` is what a live update changes: the style sheet colours the node by it,
        // and the script rewrites the status line and the title's last word.
        let _ = writeln!(
            out,
            "<g class=\"node\" data-step=\"{}\" data-status=\"{}\"><a href=\"#step-{}\"><title>{} ({}): {}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"5\" fill=\"{fill}\" \
             stroke=\"{stroke}\" stroke-width=\"2\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"600\" text-anchor=\"middle\">{}</text>\
             <text class=\"state\" x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{} {}</text></a></g>",
            esc(&step.id),
            esc(state),
            url(&step.id),
            esc(&step.id),
            esc(step.call.spec().id),
            esc(state),
            x + NODE_W / 2,
            y + 19,
            esc(&clip(&step.id, 24)),
            x + NODE_W / 2,
            y + 36,
            symbol(state),
            esc(state),
        );
    }
    out.push_str("</svg>");
    out
}

/// Epoch milliseconds of an RFC 3339 time.
pub fn epoch_ms(rfc3339: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.timestamp_millis())
}

const LABEL_W: usize = 260;
const BAR_AREA: usize = 560;
const ROW_H: usize = 22;

/// The timeline: one row per attempt (`label` names its step), its bar placed by start and length from
/// the run's start, failed attempts marked as such in words.
pub fn timeline(started_at: &str, attempts: &[(String, &AttemptRecord)]) -> String {
    let start = epoch_ms(started_at).unwrap_or(0);
    let spans: Vec<(i64, i64)> = attempts
        .iter()
        .map(|(_, a)| {
            let from = epoch_ms(&a.started_at).map_or(0, |t| (t - start).max(0));
            (
                from,
                from + i64::try_from(a.duration_ms).unwrap_or(i64::MAX / 4),
            )
        })
        .collect();
    let total = spans.iter().map(|s| s.1).max().unwrap_or(1).max(1);
    let width = LABEL_W + BAR_AREA + 170;
    let height = PAD * 2 + attempts.len() * ROW_H + 18;
    let scale = |ms: i64| (ms as f64 / total as f64 * BAR_AREA as f64).round() as usize;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"Timeline of {} attempt{}\">\n",
        attempts.len(),
        if attempts.len() == 1 { "" } else { "s" }
    );
    for (row, ((label, attempt), (from, to))) in attempts.iter().zip(&spans).enumerate() {
        let y = PAD + row * ROW_H;
        let state = if attempt.error.is_some() {
            "failed"
        } else {
            "succeeded"
        };
        let (fill, stroke) = colours(state);
        let x = LABEL_W + scale(*from);
        let w = scale(to - from).max(2);
        let _ = writeln!(
            out,
            "<g><title>{} attempt {}: {} {} at +{}</title>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>\
             <rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\">{} {} {}</text></g>",
            esc(label),
            attempt.attempt,
            esc(state),
            duration(attempt.duration_ms),
            duration(u64::try_from(*from).unwrap_or(0)),
            LABEL_W - 8,
            y + 15,
            esc(&clip(&format!("{label} #{}", attempt.attempt), 38)),
            y + 3,
            ROW_H - 6,
            x + w + 6,
            y + 15,
            symbol(state),
            esc(state),
            duration(attempt.duration_ms),
        );
    }
    let axis = PAD + attempts.len() * ROW_H + 12;
    let _ = write!(
        out,
        "<text x=\"{LABEL_W}\" y=\"{axis}\" font-size=\"11\" fill=\"#57606a\">0</text>\
         <text x=\"{}\" y=\"{axis}\" font-size=\"11\" fill=\"#57606a\" text-anchor=\"end\">{}</text></svg>",
        LABEL_W + BAR_AREA,
        duration(u64::try_from(total).unwrap_or(0))
    );
    out
}
