//! `aws-kms.update-alias`: Update Alias (UpdateAlias).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};

use super::Operation;
use super::shapes::{AliasInput, Empty};
use super::{CONNECTOR, checks, client, sdk_error};

/// Points an alias at another key.
pub struct UpdateAlias;

impl Block for UpdateAlias {
    type Input = AliasInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.update-alias",
            title: "Update Alias",
            connector: Some(CONNECTOR),
            description: "Points an existing alias at another key of the same type and usage (UpdateAlias): how a \
                          rotation moves `alias/…` to the new key.",
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

    async fn run(&self, ctx: &BlockContext, input: AliasInput) -> Result<Empty, BlockError> {
        checks::alias_name("alias_name", &input.alias_name)?;
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::UpdateAlias).await;
        kms.sdk()
            .update_alias()
            .alias_name(input.alias_name)
            .target_key_id(input.target_key_id)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::UpdateAlias, e))?;
        Ok(Empty {})
    }
}
