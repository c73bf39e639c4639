//! `core.set`: output the resolved `with:` map, to shape data for later steps.

use indexmap::IndexMap;
use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use serde_json::{Value, json};

/// Outputs its inputs, resolved: a place to name and reshape values for later steps.
pub struct Set;

impl Block for Set {
    type Input = IndexMap<String, Value>;
    type Output = IndexMap<String, Value>;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "core.set",
            title: "Set Values",
            connector: None,
            description: "Outputs its `with:` map with every reference and template resolved, so later steps can \
                          read `$.steps.<id>.output.<name>`. Any names; the checker knows their shapes.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: true,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> IndexMap<String, Value> {
        IndexMap::from([
            ("alias".to_string(), json!("alias/qlik-tenant-1")),
            ("regions".to_string(), json!(["eu-west-1", "eu-west-3"])),
        ])
    }

    async fn run(
        &self,
        _: &BlockContext,
        input: IndexMap<String, Value>,
    ) -> Result<IndexMap<String, Value>, BlockError> {
        Ok(input)
    }
}
