//! `aws-kms.enable-key`: Enable Key (EnableKey).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};

use super::Operation;
use super::shapes::{Empty, KeyIdInput};
use super::{CONNECTOR, client, sdk_error};

/// Enables a disabled key.
pub struct EnableKey;

impl Block for EnableKey {
    type Input = KeyIdInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.enable-key",
            title: "Enable Key",
            connector: Some(CONNECTOR),
            description: "Enables a KMS key (EnableKey), so that it can encrypt and decrypt again.",
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

    async fn run(&self, ctx: &BlockContext, input: KeyIdInput) -> Result<Empty, BlockError> {
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::EnableKey).await;
        kms.sdk()
            .enable_key()
            .key_id(input.key_id)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::EnableKey, e))?;
        Ok(Empty {})
    }
}
