//! `aws-kms.disable-key-rotation`: Disable Key Rotation (DisableKeyRotation).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};

use super::Operation;
use super::shapes::{Empty, KeyIdInput};
use super::{CONNECTOR, client, sdk_error};

/// Turns off automatic rotation of a key's material.
pub struct DisableKeyRotation;

impl Block for DisableKeyRotation {
    type Input = KeyIdInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.disable-key-rotation",
            title: "Disable Key Rotation",
            connector: Some(CONNECTOR),
            description: "Turns off automatic rotation of a symmetric key's material (DisableKeyRotation).",
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
        kms.limit(ctx, Operation::DisableKeyRotation).await;
        kms.sdk()
            .disable_key_rotation()
            .key_id(input.key_id)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::DisableKeyRotation, e))?;
        Ok(Empty {})
    }
}
