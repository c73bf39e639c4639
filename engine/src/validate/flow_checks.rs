//! Pass: what the preview of a whole flow finds, last, on a flow that passed every other pass, so it can
//! rely on a plan and on inputs previewed with the blocks' example outputs: blocks that compute their output
//! when checked (`core.render`) and cannot, and the connectors' rules over whole flows ([`FlowCheck`]).

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::block::{CheckedConnection, CheckedFlow, CheckedStep, FlowCheck, Registry, Segment};
use crate::diagnostic::{Diagnostic, Kind};
use crate::expr::ValueExpr;
use crate::plan::preview::{StepPreview, preview, preview_params};
use crate::plan::{Plan, Setting};
use crate::source::YamlPath;

pub(crate) fn check(plan: &Plan, registry: &Registry) -> Vec<Diagnostic> {
    let inputs = preview(plan, &preview_params(plan, &IndexMap::new()));
    let mut out = Vec::new();
    for (step, failure) in inputs.iter().filter_map(|p| Some((p, p.failure.as_ref()?))) {
        let Some(planned) = plan.steps.iter().find(|s| s.id == step.id) else {
            continue;
        };
        let mut at = YamlPath::root().key("steps").index(planned.index);
        if !failure.input.is_empty() {
            at = at.key("with").key(failure.input);
        }
        out.push(Diagnostic::value(
            Kind::Check {
                code: "cannot-preview",
                message: format!("step `{}`: {}", step.id, failure.message),
                help: None,
            },
            &at,
        ));
    }
    let wanted: Vec<&std::sync::Arc<dyn FlowCheck>> = registry
        .checks()
        .filter(|c| {
            plan.steps
                .iter()
                .any(|s| c.blocks().contains(&s.call.spec().id))
        })
        .collect();
    if wanted.is_empty() {
        return out;
    }
    let flow = checked_flow(plan, &inputs);
    for rule in wanted {
        for finding in rule.check(&flow) {
            let Some(index) = plan
                .steps
                .iter()
                .find(|s| s.id == finding.step)
                .map(|s| s.index)
            else {
                continue;
            };
            let mut at = YamlPath::root().key("steps").index(index);
            if !finding.input.is_empty() {
                at = at.key("with");
            }
            for segment in &finding.input {
                at = match segment {
                    Segment::Key(key) => at.key(key.clone()),
                    Segment::Index(i) => at.index(*i),
                };
            }
            out.push(Diagnostic::value(
                Kind::Check {
                    code: finding.code,
                    message: finding.message,
                    help: finding.help,
                },
                &at,
            ));
        }
    }
    out
}

/// The flow as the connectors' rules see it.
fn checked_flow(plan: &Plan, previews: &[StepPreview]) -> CheckedFlow {
    let steps = plan
        .steps
        .iter()
        .map(|step| CheckedStep {
            index: step.index,
            id: step.id.clone(),
            block: step.call.spec().id.to_string(),
            connector: step.call.spec().connector.map(str::to_string),
            connection: step.connection.clone(),
            deps: step.deps.clone(),
            input: previews
                .iter()
                .find(|p| p.id == step.id)
                .map_or(Value::Null, |p| p.input.clone()),
            literals: literals(step.with.iter()),
        })
        .collect();
    let connections = plan
        .connections
        .iter()
        .map(|(name, connection)| {
            let settings = connection.settings.iter().filter_map(|(k, s)| match s {
                Setting::Value(expr) => Some((k, expr)),
                Setting::Secret(_) => None,
            });
            let checked = CheckedConnection {
                connector: connection.connector.spec.id.to_string(),
                literals: literals(settings),
            };
            (name.clone(), checked)
        })
        .collect();
    CheckedFlow { steps, connections }
}

/// The values written literally among `exprs`.
fn literals<'a>(exprs: impl Iterator<Item = (&'a String, &'a ValueExpr)>) -> Map<String, Value> {
    exprs
        .filter_map(|(key, expr)| match expr {
            ValueExpr::Literal(value) => Some((key.clone(), value.clone())),
            _ => None,
        })
        .collect()
}
