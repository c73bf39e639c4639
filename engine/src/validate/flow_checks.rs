//! Pass: what the preview of a whole flow finds, last, on a flow that passed every other pass, so it can
//! rely on a plan and on inputs previewed with the blocks' example outputs: blocks that compute their output
//! when checked (`core.render`) and cannot, and the connectors' rules over whole flows ([`FlowCheck`]).

use indexmap::IndexMap;

use crate::block::{FlowCheck, Registry, Segment};
use crate::diagnostic::{Diagnostic, Kind};
use crate::plan::Plan;
use crate::plan::preview::{preview, preview_params};
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
                .any(|s| c.blocks().contains(&s.block.spec.id))
        })
        .collect();
    for rule in wanted {
        for finding in rule.check(plan, &inputs) {
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
