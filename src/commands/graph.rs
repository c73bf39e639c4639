//! `keyflow graph FILE --format mermaid|dot`: the step graph, for docs and reviews.

use keyflow_engine::block::Effect;
use keyflow_engine::plan::Plan;

use crate::cli::{GraphArgs, GraphFormat};
use crate::exit::{Exit, Failure};
use crate::flowfile;
use crate::out::Colors;

pub fn run(args: &GraphArgs, colors: Colors) -> Result<Exit, Failure> {
    let Ok(plan) = flowfile::checked(&args.file, colors.err)? else {
        return Ok(Exit::Invalid);
    };
    out!(
        "{}",
        match args.format {
            GraphFormat::Mermaid => mermaid(&plan),
            GraphFormat::Dot => dot(&plan),
        }
    )?;
    Ok(Exit::Success)
}

/// The graph's edges as (dependency, dependent) step indices, in run order: what every drawing of the
/// graph (Mermaid, dot, the web UI's SVG) draws.
pub fn edges(plan: &Plan) -> impl Iterator<Item = (usize, usize)> + '_ {
    plan.order
        .iter()
        .flat_map(|&i| plan.steps[i].deps.iter().map(move |&d| (d, i)))
}

/// A Mermaid flowchart: one node per step (id and block), an edge per dependency, destructive steps marked.
pub fn mermaid(plan: &Plan) -> String {
    let mut out = String::from("flowchart TD\n");
    for step in &plan.steps {
        let shape = if step.condition.is_some() {
            ("{{", "}}")
        } else {
            ("[", "]")
        };
        out.push_str(&format!(
            "  {}{}\"{}<br/><small>{}</small>\"{}\n",
            step.id,
            shape.0,
            step.id,
            step.call.spec().id,
            shape.1
        ));
    }
    for (from, to) in edges(plan) {
        out.push_str(&format!(
            "  {} --> {}\n",
            plan.steps[from].id, plan.steps[to].id
        ));
    }
    let destructive: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.effect() == Effect::Destructive)
        .map(|s| s.id.as_str())
        .collect();
    if !destructive.is_empty() {
        out.push_str("  classDef destructive fill:#fdd,stroke:#c00\n");
        out.push_str(&format!("  class {} destructive\n", destructive.join(",")));
    }
    out
}

/// A Graphviz digraph with the same nodes and edges.
pub fn dot(plan: &Plan) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=TB;\n  node [shape=box, fontname=\"sans-serif\"];\n",
        plan.name
    );
    for step in &plan.steps {
        let style = match (step.effect(), step.condition.is_some()) {
            (Effect::Destructive, _) => ", style=filled, fillcolor=\"#ffdddd\", color=\"#cc0000\"",
            (_, true) => ", style=dashed",
            _ => "",
        };
        out.push_str(&format!(
            "  \"{}\" [label=\"{}\\n{}\"{style}];\n",
            step.id,
            step.id,
            step.call.spec().id
        ));
    }
    for (from, to) in edges(plan) {
        out.push_str(&format!(
            "  \"{}\" -> \"{}\";\n",
            plan.steps[from].id, plan.steps[to].id
        ));
    }
    out.push_str("}\n");
    out
}
