//! `aws-kms.describe-key`: Describe Key (DescribeKey).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Operation;
use super::shapes::{KeyMetadata, example_key_metadata, key_metadata};
use super::{CONNECTOR, client, sdk_error};

/// Describes a KMS key.
pub struct DescribeKey;

/// Input of `aws-kms.describe-key`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DescribeKeyInput {
    /// The key: its id, ARN, alias name (`alias/…`) or alias ARN.
    pub key_id: String,
}

/// Output of `aws-kms.describe-key`: the DescribeKey response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeKeyOutput {
    /// The key.
    pub key_metadata: KeyMetadata,
}

impl Block for DescribeKey {
    type Input = DescribeKeyInput;
    type Output = DescribeKeyOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.describe-key",
            title: "Describe Key",
            connector: Some(CONNECTOR),
            description: "Describes a KMS key (DescribeKey): its ARN, state, spec, usage, multi-Region configuration.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> DescribeKeyOutput {
        DescribeKeyOutput {
            key_metadata: example_key_metadata(),
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: DescribeKeyInput,
    ) -> Result<DescribeKeyOutput, BlockError> {
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::DescribeKey).await;
        let response = kms
            .sdk()
            .describe_key()
            .key_id(input.key_id)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::DescribeKey, e))?;
        let metadata = response.key_metadata().ok_or_else(|| {
            BlockError::fatal("InvalidResponse", "DescribeKey returned no KeyMetadata")
        })?;
        Ok(DescribeKeyOutput {
            key_metadata: key_metadata(metadata),
        })
    }
}
