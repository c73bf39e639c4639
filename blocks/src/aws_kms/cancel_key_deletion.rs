//! `aws-kms.cancel-key-deletion`: Cancel Key Deletion (CancelKeyDeletion).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::Serialize;

use super::Operation;
use super::shapes::{KeyIdInput, required};
use super::{CONNECTOR, client, sdk_error};

/// Cancels the scheduled deletion of a key.
pub struct CancelKeyDeletion;

/// Output of `aws-kms.cancel-key-deletion`: the CancelKeyDeletion response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct CancelKeyDeletionOutput {
    /// The ARN of the key, now `Disabled` (enable it with `aws-kms.enable-key`).
    pub key_id: String,
}

impl Block for CancelKeyDeletion {
    type Input = KeyIdInput;
    type Output = CancelKeyDeletionOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.cancel-key-deletion",
            title: "Cancel Key Deletion",
            connector: Some(CONNECTOR),
            description: "Cancels the deletion of a key pending deletion (CancelKeyDeletion). The key comes back \
                          `Disabled`: follow with `aws-kms.enable-key` to use it again.",
            effect: Effect::Update,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Reapply,
        }
    }

    fn example_output(&self) -> CancelKeyDeletionOutput {
        CancelKeyDeletionOutput {
            key_id: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                .into(),
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: KeyIdInput,
    ) -> Result<CancelKeyDeletionOutput, BlockError> {
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::CancelKeyDeletion).await;
        let response = kms
            .sdk()
            .cancel_key_deletion()
            .key_id(input.key_id)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::CancelKeyDeletion, e))?;
        let key_id = required("CancelKeyDeletion", "KeyId", response.key_id())?;
        Ok(CancelKeyDeletionOutput {
            key_id: key_id.to_string(),
        })
    }
}
