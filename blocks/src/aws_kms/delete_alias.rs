//! `aws-kms.delete-alias`: Delete Alias (DeleteAlias).

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, LogLevel, Recovery,
};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Operation;
use super::shapes::Empty;
use super::{CONNECTOR, checks, client, sdk_error};

/// Deletes an alias.
pub struct DeleteAlias;

/// Input of `aws-kms.delete-alias`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAliasInput {
    /// The alias to delete (`alias/…`).
    #[schemars(pattern(r"^alias/[A-Za-z0-9/_-]+$"))]
    pub alias_name: String,
}

impl Block for DeleteAlias {
    type Input = DeleteAliasInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.delete-alias",
            title: "Delete Alias",
            connector: Some(CONNECTOR),
            description: "Deletes an alias (DeleteAlias). The key stays, but whatever finds it by this name (a policy \
                          condition, an application's configuration) no longer does.",
            effect: Effect::Destructive,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::ReadFirst,
        }
    }

    fn example_output(&self) -> Empty {
        Empty {}
    }

    async fn run(&self, ctx: &BlockContext, input: DeleteAliasInput) -> Result<Empty, BlockError> {
        checks::alias_name("alias_name", &input.alias_name)?;
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::DeleteAlias).await;
        let deleted = kms
            .sdk()
            .delete_alias()
            .alias_name(&input.alias_name)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::DeleteAlias, e));
        match deleted {
            // An earlier attempt whose answer was lost deleted it: what this call asked for is done.
            Err(error) if error.code == "NotFoundException" && ctx.recovering() => {
                ctx.log(
                    LogLevel::Info,
                    format!(
                        "{} is gone: an earlier attempt whose answer was lost deleted it",
                        input.alias_name
                    ),
                );
                Ok(Empty {})
            }
            Err(error) => Err(error),
            Ok(_) => Ok(Empty {}),
        }
    }
}
