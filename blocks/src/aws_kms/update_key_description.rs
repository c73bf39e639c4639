//! `aws-kms.update-key-description`: Update Key Description (UpdateKeyDescription).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Operation;
use super::shapes::Empty;
use super::{CONNECTOR, client, sdk_error};

/// Changes a key's description.
pub struct UpdateKeyDescription;

/// Input of `aws-kms.update-key-description`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateKeyDescriptionInput {
    /// The key: its id or ARN.
    pub key_id: String,
    /// The new description (may be empty).
    pub description: String,
}

impl Block for UpdateKeyDescription {
    type Input = UpdateKeyDescriptionInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.update-key-description",
            title: "Update Key Description",
            connector: Some(CONNECTOR),
            description: "Replaces the description of a key (UpdateKeyDescription).",
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

    async fn run(
        &self,
        ctx: &BlockContext,
        input: UpdateKeyDescriptionInput,
    ) -> Result<Empty, BlockError> {
        if input.description.chars().count() > 8192 {
            return Err(BlockError::invalid_input(
                "`description` is longer than AWS's 8192 characters",
            ));
        }
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::UpdateKeyDescription).await;
        kms.sdk()
            .update_key_description()
            .key_id(input.key_id)
            .description(input.description)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::UpdateKeyDescription, e))?;
        Ok(Empty {})
    }
}
