//! `aws-kms.disable-key`: Disable Key (DisableKey).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};

use super::Operation;
use super::shapes::{Empty, KeyIdInput};
use super::{CONNECTOR, client, sdk_error};

/// Disables a key.
pub struct DisableKey;

impl Block for DisableKey {
    type Input = KeyIdInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.disable-key",
            title: "Disable Key",
            connector: Some(CONNECTOR),
            description: "Disables a KMS key (DisableKey): nothing can encrypt or decrypt with it until it is enabled \
                          again, so whatever it protects (a Qlik Cloud tenant's data) becomes unreadable.",
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

    async fn run(&self, ctx: &BlockContext, input: KeyIdInput) -> Result<Empty, BlockError> {
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::DisableKey).await;
        kms.sdk()
            .disable_key()
            .key_id(input.key_id)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::DisableKey, e))?;
        Ok(Empty {})
    }
}
