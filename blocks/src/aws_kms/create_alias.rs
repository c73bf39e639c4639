//! `aws-kms.create-alias`: Create Alias (CreateAlias).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};

use super::Operation;
use super::shapes::{AliasInput, Empty};
use super::{CONNECTOR, checks, client, sdk_error};

/// Gives a key a friendly name.
pub struct CreateAlias;

impl Block for CreateAlias {
    type Input = AliasInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.create-alias",
            title: "Create Alias",
            connector: Some(CONNECTOR),
            description: "Creates an alias (`alias/…`) for a key (CreateAlias); fails with AlreadyExistsException when \
                          the name is taken: use `aws-kms.update-alias` to move an alias to another key.",
            effect: Effect::Create,
            secret_outputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::AtLeastOnce,
        }
    }

    fn example_output(&self) -> Empty {
        Empty {}
    }

    async fn run(&self, ctx: &BlockContext, input: AliasInput) -> Result<Empty, BlockError> {
        checks::alias_name("alias_name", &input.alias_name)?;
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::CreateAlias).await;
        kms.sdk()
            .create_alias()
            .alias_name(input.alias_name)
            .target_key_id(input.target_key_id)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::CreateAlias, e))?;
        Ok(Empty {})
    }
}
