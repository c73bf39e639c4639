//! `aws-kms.add-tag`: Add Tag to Key (TagResource).

use indexmap::IndexMap;
use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Operation;
use super::shapes::{Empty, tags_in};
use super::{CONNECTOR, checks, client, sdk_error};

/// Adds or overwrites tags of a key.
pub struct AddTag;

/// Input of `aws-kms.add-tag`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTagInput {
    /// The key: its id or ARN.
    pub key_id: String,
    /// The tags as a map (`{ team: data-platform }`); a key that exists gets the new value. Keys may not
    /// start with `aws:`.
    #[schemars(length(min = 1))]
    pub tags: IndexMap<String, String>,
}

impl Block for AddTag {
    type Input = AddTagInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.add-tag",
            title: "Add Tag to Key",
            connector: Some(CONNECTOR),
            description: "Adds tags to a key, or changes the value of tags it has (TagResource).",
            effect: Effect::Update,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Reapply,
        }
    }

    fn example_output(&self) -> Empty {
        Empty {}
    }

    async fn run(&self, ctx: &BlockContext, input: AddTagInput) -> Result<Empty, BlockError> {
        if input.tags.is_empty() {
            return Err(BlockError::invalid_input(
                "`tags` is empty: give at least one `key: value`",
            ));
        }
        checks::tags(&input.tags)?;
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::TagResource).await;
        kms.sdk()
            .tag_resource()
            .key_id(input.key_id)
            .set_tags(Some(tags_in(&input.tags)?))
            .send()
            .await
            .map_err(|e| sdk_error(Operation::TagResource, e))?;
        Ok(Empty {})
    }
}
