//! `aws-kms.get-key-policy`: Get Key Policy (GetKeyPolicy).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Operation;
use super::put_key_policy::DEFAULT_POLICY;
use super::{CONNECTOR, client, sdk_error};

/// Reads a key's policy.
pub struct GetKeyPolicy;

fn default_policy() -> String {
    DEFAULT_POLICY.to_string()
}

/// Input of `aws-kms.get-key-policy`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetKeyPolicyInput {
    /// The key: its id or ARN.
    pub key_id: String,
    /// The policy's name: `default`, the only one KMS has.
    #[serde(default = "default_policy")]
    pub policy_name: String,
}

/// Output of `aws-kms.get-key-policy`: the GetKeyPolicy response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyOutput {
    /// The key policy as JSON text (`qlik-cloud.check-key-policy` and `put-key-policy` take it as is).
    pub policy: String,
    /// The policy's name.
    pub policy_name: String,
}

impl Block for GetKeyPolicy {
    type Input = GetKeyPolicyInput;
    type Output = GetKeyPolicyOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.get-key-policy",
            title: "Get Key Policy",
            connector: Some(CONNECTOR),
            description: "Reads the key policy of a key (GetKeyPolicy) as JSON text.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> GetKeyPolicyOutput {
        GetKeyPolicyOutput {
            policy: r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#.into(),
            policy_name: DEFAULT_POLICY.into(),
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: GetKeyPolicyInput,
    ) -> Result<GetKeyPolicyOutput, BlockError> {
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::GetKeyPolicy).await;
        let response = kms
            .sdk()
            .get_key_policy()
            .key_id(input.key_id)
            .policy_name(&input.policy_name)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::GetKeyPolicy, e))?;
        Ok(GetKeyPolicyOutput {
            policy: response.policy().unwrap_or_default().to_string(),
            policy_name: response
                .policy_name()
                .map_or(input.policy_name, str::to_string),
        })
    }
}
