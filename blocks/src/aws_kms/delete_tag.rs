//! `aws-kms.delete-tag`: Delete Tag from Key (UntagResource).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Operation;
use super::shapes::Empty;
use super::{CONNECTOR, checks, client, sdk_error};

/// Removes tags from a key.
pub struct DeleteTag;

/// Input of `aws-kms.delete-tag`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteTagInput {
    /// The key: its id or ARN.
    pub key_id: String,
    /// The keys of the tags to remove (`[team, cost-center]`).
    #[schemars(length(min = 1))]
    pub tag_keys: Vec<String>,
}

impl Block for DeleteTag {
    type Input = DeleteTagInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.delete-tag",
            title: "Delete Tag from Key",
            connector: Some(CONNECTOR),
            description: "Removes tags from a key (UntagResource). Tags can grant access (attribute-based access \
                          control), so removing one can revoke it.",
            effect: Effect::Destructive,
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

    async fn run(&self, ctx: &BlockContext, input: DeleteTagInput) -> Result<Empty, BlockError> {
        if input.tag_keys.is_empty() {
            return Err(BlockError::invalid_input(
                "`tag_keys` is empty: name at least one tag key",
            ));
        }
        for key in &input.tag_keys {
            checks::tag_key(key)?;
        }
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::UntagResource).await;
        kms.sdk()
            .untag_resource()
            .key_id(input.key_id)
            .set_tag_keys(Some(input.tag_keys))
            .send()
            .await
            .map_err(|e| sdk_error(Operation::UntagResource, e))?;
        Ok(Empty {})
    }
}
