//! `aws-kms.get-key-rotation-status`: Get Key Rotation Status (GetKeyRotationStatus).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::Serialize;

use super::Operation;
use super::shapes::{KeyIdInput, time};
use super::{CONNECTOR, client, sdk_error};

/// Tells whether a key's material rotates automatically.
pub struct GetKeyRotationStatus;

/// Output of `aws-kms.get-key-rotation-status`: the GetKeyRotationStatus response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyRotationStatusOutput {
    /// Whether automatic rotation is on.
    pub key_rotation_enabled: bool,
    /// The key's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Days between rotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<i32>,
    /// When the next automatic rotation happens (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_date: Option<String>,
    /// When an on-demand rotation in progress started (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_rotation_start_date: Option<String>,
}

impl Block for GetKeyRotationStatus {
    type Input = KeyIdInput;
    type Output = GetKeyRotationStatusOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.get-key-rotation-status",
            title: "Get Key Rotation Status",
            connector: Some(CONNECTOR),
            description: "Tells whether a key's material rotates automatically, how often and when next \
                          (GetKeyRotationStatus).",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> GetKeyRotationStatusOutput {
        GetKeyRotationStatusOutput {
            key_rotation_enabled: true,
            key_id: Some("1234abcd-12ab-34cd-56ef-1234567890ab".into()),
            rotation_period_in_days: Some(365),
            next_rotation_date: Some("2027-11-23T09:00:00Z".into()),
            on_demand_rotation_start_date: None,
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: KeyIdInput,
    ) -> Result<GetKeyRotationStatusOutput, BlockError> {
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::GetKeyRotationStatus).await;
        let response = kms
            .sdk()
            .get_key_rotation_status()
            .key_id(input.key_id)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::GetKeyRotationStatus, e))?;
        Ok(GetKeyRotationStatusOutput {
            key_rotation_enabled: response.key_rotation_enabled(),
            key_id: response.key_id().map(str::to_string),
            rotation_period_in_days: response.rotation_period_in_days(),
            next_rotation_date: time(response.next_rotation_date()),
            on_demand_rotation_start_date: time(response.on_demand_rotation_start_date()),
        })
    }
}
