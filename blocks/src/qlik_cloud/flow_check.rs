//! The key-policy check as a rule over whole flows: when a flow puts a key policy on a key it also
//! registers with Qlik Cloud, the policy (as far as it is known before the run) must let Qlik use the
//! key, or the flow is refused before anything is created.
//!
//! Known before the run means: the policy as written, with references and templates previewed from the
//! blocks' example outputs and the parameters' defaults. The tenant id the policy names cannot be known
//! then, so this rule checks that a TenantId condition is there, not which tenant it names; the
//! `qlik-cloud.check-key-policy` block and Qlik Cloud itself check the tenant at run time.

use keyflow_engine::block::{CheckedFlow, CheckedStep, Finding, FlowCheck};
use serde_json::Value;

use super::policy::{self, Partition, PolicyRequirements, TENANT_CONTEXT_KEY};

const PUT_KEY_POLICY: &str = "aws-kms.put-key-policy";
const CREATE_KEY: &str = "aws-kms.create-key";
const CREATE_KEY_PROVIDER: &str = "qlik-cloud.create-key-provider";

/// The rule.
pub struct KeyPolicyForQlik;

impl FlowCheck for KeyPolicyForQlik {
    fn blocks(&self) -> &'static [&'static str] {
        &[PUT_KEY_POLICY]
    }

    fn check(&self, flow: &CheckedFlow) -> Vec<Finding> {
        let mut found = Vec::new();
        for step in flow.calling(PUT_KEY_POLICY) {
            let Some(key) = registered_key(flow, step) else {
                continue;
            };
            let document = match &step.input["policy"] {
                Value::String(text) => match serde_json::from_str::<Value>(text) {
                    Ok(document) => document,
                    // Not JSON: the block refuses it at run time with its own message.
                    Err(_) => continue,
                },
                other => other.clone(),
            };
            let tenant = tenant_named(&document).unwrap_or_default();
            let requirements = PolicyRequirements {
                tenant_id: &tenant,
                partition: partition_of(flow, step),
                multi_region: key.literals.get("multi_region") == Some(&Value::Bool(true)),
            };
            for finding in policy::check(&document, &requirements) {
                let help = finding.statement_to_add.as_ref().map(|s| {
                    format!(
                        "add this statement to the policy: {}",
                        keyflow_engine::block::check::show(s)
                    )
                });
                // The fix is shown as the diagnostic's help, not under the block output's field name.
                let said = finding
                    .message
                    .replace("`statement_to_add`", "the statement below");
                let message = format!(
                    "step `{}` registers key `{}` with Qlik Cloud, but this policy would not let Qlik use it: {said}",
                    step.id, key.id
                );
                let mut finding = Finding::at_input(&step.id, "policy", finding.code, message);
                finding.help = help;
                found.push(finding);
            }
        }
        found
    }
}

/// The `aws-kms.create-key` step whose key `step` puts a policy on, when a `qlik-cloud.create-key-provider`
/// step of the flow registers a key that comes from it (its ARN read from that step, directly or through
/// other steps such as a `describe-key`).
fn registered_key<'a>(flow: &'a CheckedFlow, step: &CheckedStep) -> Option<&'a CheckedStep> {
    let key = step
        .deps
        .iter()
        .map(|&i| &flow.steps[i])
        .find(|s| s.block == CREATE_KEY)?;
    flow.calling(CREATE_KEY_PROVIDER)
        .any(|s| flow.waits_for(s.index, key.index))
        .then_some(key)
}

/// Gov when the step's connection is in a GovCloud region.
fn partition_of(flow: &CheckedFlow, step: &CheckedStep) -> Partition {
    let region = step
        .connection
        .as_ref()
        .and_then(|name| flow.connections.get(name))
        .and_then(|c| c.literals.get("region"))
        .and_then(Value::as_str);
    if region.is_some_and(|r| r.starts_with("us-gov-")) {
        Partition::AwsUsGov
    } else {
        Partition::Aws
    }
}

/// The tenant the policy's `kms:EncryptionContext:TenantId` condition names, if any.
fn tenant_named(document: &Value) -> Option<String> {
    let statements = match &document["Statement"] {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => return None,
    };
    statements.iter().find_map(|statement| {
        statement["Condition"]
            .as_object()?
            .values()
            .find_map(|operator| match operator.get(TENANT_CONTEXT_KEY)? {
                Value::String(tenant) => Some(tenant.clone()),
                Value::Array(list) => list.first().and_then(Value::as_str).map(str::to_string),
                _ => None,
            })
    })
}
