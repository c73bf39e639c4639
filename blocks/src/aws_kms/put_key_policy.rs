//! `aws-kms.put-key-policy`: Put Key Policy (PutKeyPolicy).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Operation;
use super::shapes::{Empty, PolicyInput};
use super::{CONNECTOR, checks, client, sdk_error};

/// Replaces a key's policy.
pub struct PutKeyPolicy;

/// The only policy name KMS knows.
pub const DEFAULT_POLICY: &str = "default";

/// Input of `aws-kms.put-key-policy`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PutKeyPolicyInput {
    /// The key: its id or ARN.
    pub key_id: String,
    /// The whole new key policy, as a mapping or JSON text (valid JSON, at most 32 KiB).
    pub policy: PolicyInput,
    /// Skip AWS's check that the policy does not lock the caller out of the key. Destructive: the step
    /// needs `confirm: true` and the run `--allow-destructive`.
    #[serde(default)]
    pub bypass_policy_lockout_safety_check: bool,
}

impl Block for PutKeyPolicy {
    type Input = PutKeyPolicyInput;
    type Output = Empty;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.put-key-policy",
            title: "Put Key Policy",
            connector: Some(CONNECTOR),
            description: "Replaces the key policy of a key (PutKeyPolicy, policy name `default`): who may use and \
                          manage it, such as Qlik Cloud's roles for a tenant's key provider.",
            effect: Effect::Update,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: Some("bypass_policy_lockout_safety_check"),
            recovery: Recovery::Reapply,
        }
    }

    fn example_output(&self) -> Empty {
        Empty {}
    }

    async fn run(&self, ctx: &BlockContext, input: PutKeyPolicyInput) -> Result<Empty, BlockError> {
        let policy = checks::policy("policy", &input.policy)?;
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::PutKeyPolicy).await;
        kms.sdk()
            .put_key_policy()
            .key_id(input.key_id)
            .policy_name(DEFAULT_POLICY)
            .policy(policy)
            .bypass_policy_lockout_safety_check(input.bypass_policy_lockout_safety_check)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::PutKeyPolicy, e))?;
        Ok(Empty {})
    }
}
