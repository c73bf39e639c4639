//! What a step calls: a registered block, or a template flow (`uses:`) that runs as a child run.
//!
//! Both have the same interface as far as the checker is concerned (a [`BlockSpec`], input and output
//! schemas, an example output), so every pass reads [`Call::spec`] and the schemas without asking which;
//! the executor and the previewer branch on the variant, and only there.

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use super::Plan;
use crate::block::{BlockSpec, Effect, EffectBy, Recovery, RegisteredBlock};
use crate::expr::ValueExpr;

/// What a step calls.
#[derive(Debug, Clone)]
pub enum Call {
    /// A block from the registry.
    Block(Arc<RegisteredBlock>),
    /// A template flow, run as a run of its own with the step's input as its params.
    Template(Arc<Template>),
}

/// A template flow as a `uses:` step sees it: its interface and its plan.
#[derive(Debug)]
pub struct Template {
    /// The interface: the template's params as inputs, its outputs as the output, and its steps'
    /// strongest effect as the effect (so a template that deletes keys needs `confirm: true` where used).
    pub spec: BlockSpec,
    /// JSON Schema of its params, as a block's input schema.
    pub input_schema: Value,
    /// JSON Schema of its outputs, as a block's output schema.
    pub output_schema: Value,
    /// Its outputs as far as they are known before a run (literals, else `<name>`).
    pub example_output: Value,
    /// The checked template flow.
    pub plan: Arc<Plan>,
    /// A digest of the template's text.
    pub digest: String,
}

impl Call {
    /// The static facts: the block's, or the template's interface.
    pub fn spec(&self) -> &BlockSpec {
        match self {
            Call::Block(block) => &block.spec,
            Call::Template(template) => &template.spec,
        }
    }

    /// JSON Schema of the input.
    pub fn input_schema(&self) -> &Value {
        match self {
            Call::Block(block) => &block.input_schema,
            Call::Template(template) => &template.input_schema,
        }
    }

    /// JSON Schema of the output.
    pub fn output_schema(&self) -> &Value {
        match self {
            Call::Block(block) => &block.output_schema,
            Call::Template(template) => &template.output_schema,
        }
    }

    /// The example output that `keyflow plan` previews later steps with.
    pub fn example_output(&self) -> &Value {
        match self {
            Call::Block(block) => &block.example_output,
            Call::Template(template) => &template.example_output,
        }
    }

    /// What a call with inputs `with` does, as far as it is known before the run, and the input that made
    /// it destructive when the block alone does not: a block's escalating input (`destructive_when`) given
    /// and not literally `false`, or the input that decides its effect ([`EffectBy`]) naming a destructive
    /// operation — or an expression, whose value only the run knows.
    pub fn effect_before_run(
        &self,
        with: &IndexMap<String, ValueExpr>,
    ) -> (Effect, Option<String>) {
        let spec = self.spec();
        if let Some(by) = self.effect_by() {
            return match with.get(by.input) {
                Some(ValueExpr::Literal(value)) => {
                    let effect = by.effect(value);
                    let because = (effect == Effect::Destructive)
                        .then(|| format!("{}: {}", by.input, value.as_str().unwrap_or_default()));
                    (effect, because)
                }
                Some(_) => (Effect::Destructive, Some(by.input.to_string())),
                None => (spec.effect, None),
            };
        }
        let escalation = spec.destructive_when.filter(|input| {
            with.get(*input)
                .is_some_and(|expr| !matches!(expr, ValueExpr::Literal(Value::Bool(false))))
        });
        match escalation {
            Some(input) => (Effect::Destructive, Some(input.to_string())),
            None => (spec.effect, None),
        }
    }

    /// What a call with inputs `with` does, its inputs resolved by `resolve` (`None`: not resolvable,
    /// taken as destructive).
    pub fn effect_at_run(
        &self,
        with: &IndexMap<String, ValueExpr>,
        resolve: impl Fn(&ValueExpr) -> Option<Value>,
    ) -> Effect {
        let spec = self.spec();
        if let Some(by) = self.effect_by() {
            return match with.get(by.input) {
                Some(expr) => resolve(expr).map_or(Effect::Destructive, |v| by.effect(&v)),
                None => spec.effect,
            };
        }
        match spec.destructive_when.and_then(|input| with.get(input)) {
            Some(expr) if !matches!(resolve(expr), Some(Value::Bool(false))) => Effect::Destructive,
            _ => spec.effect,
        }
    }

    /// How a call with inputs `with` is settled when its answer was lost, as far as it is known before
    /// the run: the [`EffectBy`] table's rule for the operation a literal deciding input names, at-least-once
    /// when that input is an expression (only the run knows the operation), else the block's.
    pub fn recovery_before_run(&self, with: &IndexMap<String, ValueExpr>) -> Recovery {
        let spec = self.spec();
        match self
            .effect_by()
            .and_then(|by| Some((by, with.get(by.input)?)))
        {
            Some((by, ValueExpr::Literal(value))) => by.recovery(value),
            Some(_) => Recovery::AtLeastOnce,
            None => spec.recovery,
        }
    }

    /// The input that decides a block's effect, if it has one.
    pub fn effect_by(&self) -> Option<EffectBy> {
        match self {
            Call::Block(block) => block.effect_by,
            Call::Template(_) => None,
        }
    }

    /// The template, for a `uses:` step.
    pub fn template(&self) -> Option<&Arc<Template>> {
        match self {
            Call::Template(template) => Some(template),
            Call::Block(_) => None,
        }
    }
}
