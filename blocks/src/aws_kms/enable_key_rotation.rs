//! `aws-kms.enable-key-rotation`: Enable Key Rotation (EnableKeyRotation).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Operation;
use super::shapes::Empty;
use super::{CONNECTOR, checks, client, sdk_error};

/// Turns on automatic rotation of a key's material.
pub struct EnableKeyRotation;

/// Input of `aws-kms.enable-key-rotation`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableKeyRotationInput {
    /// The key: its id or ARN.
    pub key_id: String,
    /// Days between rotations, 90 to 2560; AWS's default (365) without it.
    #[serde(default)]
    #[schemars(range(min = 90, max = 2560))]
    pub rotation_period_in_days: Option<i32>,
}

impl Block for EnableKeyRotation {
    type Input = EnableKeyRotationInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.enable-key-rotation",
            title: "Enable Key Rotation",
            connector: Some(CONNECTOR),
            description: "Turns on automatic rotation of a symmetric key's material every 90 to 2560 days \
                          (EnableKeyRotation); the key's id, ARN and policy stay the same.",
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
        input: EnableKeyRotationInput,
    ) -> Result<Empty, BlockError> {
        if let Some(days) = input.rotation_period_in_days {
            let (min, _, max) = super::facts::ROTATION_PERIOD_DAYS;
            checks::within("rotation_period_in_days", days, min, max)?;
        }
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::EnableKeyRotation).await;
        kms.sdk()
            .enable_key_rotation()
            .key_id(input.key_id)
            .set_rotation_period_in_days(input.rotation_period_in_days)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::EnableKeyRotation, e))?;
        Ok(Empty {})
    }
}
