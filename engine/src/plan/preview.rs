//! `keyflow plan`: what each step would be called with, computed with the upstream blocks' example
//! outputs in place of real ones. Nothing is called.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use super::Plan;
use super::params::ParamValue;
use crate::block::{Effect, PreviewError, Recovery};
use crate::context::{RunFacts, StepEntries, StepEntry};
use crate::expr::Scope;
use crate::plan::Call;
use crate::redact::SecretFields;

/// One step as `keyflow plan` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StepPreview {
    /// The step's id.
    pub id: String,
    /// The block.
    pub block: String,
    /// The block's title.
    pub title: String,
    /// What a call does.
    pub effect: Effect,
    /// How a call whose answer was lost is settled when made again.
    pub recovery: Recovery,
    /// The concurrency group (steps of one group can run at the same time).
    pub group: usize,
    /// Steps it waits for.
    pub after: Vec<String>,
    /// Its input, resolved with example outputs (unresolvable values shown as `<why>`).
    pub input: Value,
    /// Items of its `for_each` (the input shown is the first item's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<usize>,
    /// Whether it has an `if:` condition.
    pub conditional: bool,
    /// Whether it polls with `until:`.
    pub polls: bool,
    /// A `uses:` step's template, previewed with this step's input (the first item's) as its params.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepPreview>>,
    /// Why its block could not compute its output from this input (see [`crate::block::Block::preview`]).
    #[serde(skip)]
    pub failure: Option<PreviewError>,
}

/// Items of a `for_each` previewed (the rest are left out of the example output).
const PREVIEW_ITEMS: usize = 100;

/// Previews every step in execution order, with `params` bound (missing ones shown as `<name>`).
pub fn preview(plan: &Plan, params: &Value) -> Vec<StepPreview> {
    let run = RunFacts {
        id: "<run id>".into(),
        flow: plan.name.clone(),
        started_at: "<started at>".into(),
    }
    .to_value();
    let mut entries = StepEntries::new();
    let mut previews = Vec::new();
    for &i in &plan.order {
        let step = &plan.steps[i];
        let scope = Scope {
            params,
            run: &run,
            steps: &entries,
            item: None,
            output: None,
        };
        let items = match &step.for_each {
            Some(for_each) => match for_each.items.resolve(&scope) {
                Ok(Value::Array(items)) => Some(items),
                _ => Some(Vec::new()),
            },
            None => None,
        };
        let resolve = |scope: &Scope<'_>| {
            let input: Map<String, Value> = step
                .with
                .iter()
                .map(|(key, expr)| {
                    let value = expr
                        .resolve(scope)
                        .unwrap_or_else(|e| Value::String(format!("<{e}>")));
                    (key.clone(), value)
                })
                .collect();
            Value::Object(input)
        };
        let mut failure = None;
        let mut output_of = |input: &Value| {
            let block = match &step.call {
                Call::Block(block) if block.spec.output_mirrors_input => return input.clone(),
                Call::Block(block) => block,
                // A template's outputs as far as they are known before a run.
                Call::Template(template) => return template.example_output.clone(),
            };
            match block.preview(input, plan.files_dir()) {
                Some(Ok(output)) => return output,
                // Later steps see why, as for any value the preview cannot resolve, rather than an example
                // that rules would check as if it were what the run passes.
                Some(Err(e)) => {
                    let shown = Value::String(format!("<{}>", e.message));
                    failure = failure.take().or(Some(e));
                    return shown;
                }
                None => {}
            }
            // A preview never shows a value in a secret's place, not even a made-up one.
            let mut example = block.example_output.clone();
            SecretFields::of(block.spec.secret_outputs).redact(&mut example);
            example
        };
        let (input, output) = match &items {
            Some(items) => {
                let inputs: Vec<Value> = items
                    .iter()
                    .take(PREVIEW_ITEMS)
                    .enumerate()
                    .map(|(k, item)| resolve(&scope.with_item(item, &Value::from(k))))
                    .collect();
                let first = inputs.first().cloned().unwrap_or(Value::Object(Map::new()));
                let outputs = inputs.iter().map(&mut output_of).collect();
                (first, Value::Array(outputs))
            }
            None => {
                let input = resolve(&scope);
                let output = output_of(&input);
                (input, output)
            }
        };
        let items = items.map(|items| items.len());
        let template_steps = step.call.template().map(|template| {
            let template = &template.plan;
            let given = input
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.clone(), ParamValue::Json(value.clone())))
                .collect();
            preview(template, &preview_params(template, &given))
        });
        entries.insert(
            step.id.clone(),
            Arc::new(StepEntry::succeeded_value(output)),
        );
        previews.push(StepPreview {
            id: step.id.clone(),
            block: step.call.spec().id.to_string(),
            title: step.call.spec().title.to_string(),
            effect: step.effect(),
            recovery: step.recovery(),
            group: step.level,
            after: step
                .deps
                .iter()
                .map(|&d| plan.steps[d].id.clone())
                .collect(),
            input,
            items,
            conditional: step.condition.is_some(),
            polls: step.until.is_some(),
            steps: template_steps,
            failure,
        });
    }
    previews
}

/// Parameters for a preview: the given ones, defaults, and `<name>` for required ones not given.
pub fn preview_params(
    plan: &Plan,
    given: &indexmap::IndexMap<String, super::params::ParamValue>,
) -> Value {
    let mut params = Map::new();
    for (name, spec) in &plan.params {
        let value = match given.get(name) {
            Some(super::params::ParamValue::Json(value)) => Some(value.clone()),
            Some(super::params::ParamValue::Text(text)) => spec.parse(text).ok(),
            None => spec.default.clone(),
        };
        params.insert(
            name.clone(),
            value.unwrap_or_else(|| Value::String(format!("<{name}>"))),
        );
    }
    Value::Object(params)
}
