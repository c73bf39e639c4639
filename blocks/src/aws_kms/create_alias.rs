//! `aws-kms.create-alias`: Create Alias (CreateAlias).

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, LogLevel, Recovery,
};

use super::recovery::describe;
use super::shapes::{AliasInput, Empty};
use super::{CONNECTOR, KmsClient, Operation, checks, client, sdk_error};

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
            description: "Creates an alias (`alias/…`) for a key (CreateAlias). An alias that already points at the \
                          same key is success (a retry or `keyflow resume` after a lost answer); one that points at \
                          another key fails with AlreadyExistsException: use `aws-kms.update-alias` to move it.",
            effect: Effect::Create,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::FindFirst,
        }
    }

    fn example_output(&self) -> Empty {
        Empty {}
    }

    async fn run(&self, ctx: &BlockContext, input: AliasInput) -> Result<Empty, BlockError> {
        checks::alias_name("alias_name", &input.alias_name)?;
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::CreateAlias).await;
        let created = kms
            .sdk()
            .create_alias()
            .alias_name(&input.alias_name)
            .target_key_id(&input.target_key_id)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::CreateAlias, e));
        match created {
            Err(error) if error.code == "AlreadyExistsException" => {
                if same_key(ctx, kms, &input.alias_name, &input.target_key_id).await? {
                    ctx.log(
                        LogLevel::Info,
                        format!(
                            "{} already points at the key: nothing to do",
                            input.alias_name
                        ),
                    );
                    Ok(Empty {})
                } else {
                    Err(error)
                }
            }
            Err(error) => Err(error),
            Ok(_) => Ok(Empty {}),
        }
    }
}

/// Whether alias `alias_name` and `target` (a key id or ARN) name the same key, both resolved by
/// DescribeKey: an id, an ARN and another alias of one key compare equal.
async fn same_key(
    ctx: &BlockContext,
    kms: &KmsClient,
    alias_name: &str,
    target: &str,
) -> Result<bool, BlockError> {
    let (Some(aliased), Some(wanted)) = (
        describe(ctx, kms, alias_name, None).await?,
        describe(ctx, kms, target, None).await?,
    ) else {
        return Ok(false);
    };
    // Both in the connection's region, where a key id names one key.
    Ok(aliased.key_id() == wanted.key_id())
}
