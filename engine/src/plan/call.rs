//! What a step calls: a registered block, or a template flow (`uses:`) that runs as a child run.
//!
//! Both have the same interface as far as the checker is concerned (a [`BlockSpec`], input and output
//! schemas, an example output), so every pass reads [`Call::spec`] and the schemas without asking which;
//! the executor and the previewer branch on the variant, and only there.

use std::sync::Arc;

use serde_json::Value;

use super::Plan;
use crate::block::{BlockSpec, RegisteredBlock};

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

    /// The template, for a `uses:` step.
    pub fn template(&self) -> Option<&Arc<Template>> {
        match self {
            Call::Template(template) => Some(template),
            Call::Block(_) => None,
        }
    }
}
