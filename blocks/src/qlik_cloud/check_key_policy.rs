//! `qlik-cloud.check-key-policy`: Check Key Policy for Qlik Cloud (no network).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::policy::{self, Finding, Partition, PolicyRequirements};
use crate::aws_kms::shapes::PolicyInput;

/// Checks a key policy against what Qlik Cloud needs, without calling anything.
pub struct CheckKeyPolicy;

fn aws() -> Partition {
    Partition::Aws
}

/// Input of `qlik-cloud.check-key-policy`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckKeyPolicyInput {
    /// The key policy, as a mapping or JSON text (`$.steps.get_policy.output.Policy`).
    pub policy: PolicyInput,
    /// The Qlik Cloud tenant the key is for (`$.steps.tenant.output.id`).
    #[schemars(length(min = 1))]
    pub tenant_id: String,
    /// `aws` (Qlik Cloud) or `aws-us-gov` (Qlik Cloud Government): which proxy roles must be named.
    #[serde(default = "aws")]
    pub partition: Partition,
    /// Whether the key is multi-Region (then Qlik also needs `kms:DescribeKey`).
    #[serde(default)]
    pub multi_region: bool,
}

/// Output of `qlik-cloud.check-key-policy`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckKeyPolicyOutput {
    /// Whether Qlik Cloud can use a key with this policy for the tenant.
    pub compliant: bool,
    /// What is missing, each with the statement that fixes it.
    pub findings: Vec<Finding>,
    /// The statements Qlik's documentation says to add for this tenant and partition.
    pub statements: Vec<Value>,
}

impl Block for CheckKeyPolicy {
    type Input = CheckKeyPolicyInput;
    type Output = CheckKeyPolicyOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.check-key-policy",
            title: "Check Key Policy for Qlik Cloud",
            connector: None,
            description: "Checks a KMS key policy against what Qlik Cloud needs for a tenant, without calling \
                          anything: its proxy roles (commercial or Gov) allowed Encrypt, Decrypt and \
                          GenerateDataKey under the tenant's encryption context, DescribeKey for multi-Region keys, \
                          and no statement locking the account out. Each finding says what to add.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> CheckKeyPolicyOutput {
        let tenant = "ImTRa-bkJTD-NZRYjNBa_rDhwSVA6Qo8";
        let statements = policy::qlik_statements(tenant, Partition::Aws, false);
        CheckKeyPolicyOutput {
            compliant: false,
            findings: vec![Finding {
                code: policy::MISSING_TENANT_CONDITION,
                message: format!(
                    "no statement limits Qlik's proxy roles to tenant `{tenant}`: add the condition StringEquals \
                     `kms:EncryptionContext:TenantId: [\"{tenant}\"]`"
                ),
                statement_to_add: statements.first().cloned(),
            }],
            statements,
        }
    }

    async fn run(
        &self,
        _ctx: &BlockContext,
        input: CheckKeyPolicyInput,
    ) -> Result<CheckKeyPolicyOutput, BlockError> {
        let document = match input.policy {
            PolicyInput::Document(map) => Value::Object(map),
            PolicyInput::Text(text) => serde_json::from_str(&text).map_err(|e| {
                BlockError::invalid_input(format!("`policy` is not valid JSON: {e}"))
            })?,
        };
        let requirements = PolicyRequirements {
            tenant_id: &input.tenant_id,
            partition: input.partition,
            multi_region: input.multi_region,
        };
        let findings = policy::check(&document, &requirements);
        Ok(CheckKeyPolicyOutput {
            compliant: findings.is_empty(),
            findings,
            statements: policy::qlik_statements(
                &input.tenant_id,
                input.partition,
                input.multi_region,
            ),
        })
    }
}
