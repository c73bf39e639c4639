//! Key policy documents: the default policy of a key created without one, the checks KMS makes before it
//! accepts a policy (well formed, at most 32 KB, the lockout safety check), and the authorization of one
//! operation on one key.

use std::collections::BTreeMap;

use serde_json::Value;

use super::access::{self, Decision, Request};
use super::rules::Caller;
use super::state::KeyRecord;
use super::wire::KmsError;

/// The largest key policy, in bytes.
use keyflow_blocks::aws_kms::facts::MAX_POLICY_BYTES as MAX_POLICY;

/// The only policy name KMS has.
pub const POLICY_NAME: &str = "default";

/// The policy KMS gives a key created without one: the account's root may do everything, which delegates
/// access to the account's IAM policies.
pub fn default_policy(account: &str) -> String {
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

fn malformed(message: impl Into<String>) -> KmsError {
    KmsError::new("MalformedPolicyDocumentException", message)
}

/// Checks a policy document's form, saying what is wrong. A statement without Action or Resource is
/// accepted and has no effect, as AWS documents it.
pub fn check(policy: &str) -> Result<Value, KmsError> {
    if policy.len() > MAX_POLICY {
        return Err(malformed(format!(
            "The policy has {} bytes; a key policy is at most {MAX_POLICY} bytes",
            policy.len()
        )));
    }
    let document: Value = serde_json::from_str(policy)
        .map_err(|e| malformed(format!("The policy is not valid JSON: {e}")))?;
    if !document.is_object() {
        return Err(malformed("The policy must be a JSON object"));
    }
    let statements: Vec<&Value> = match document.get("Statement") {
        Some(Value::Array(list)) if !list.is_empty() => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => {
            return Err(malformed(
                "The policy has no Statement: give it a list of statements",
            ));
        }
    };
    for (i, statement) in statements.iter().enumerate() {
        let n = i + 1;
        let Value::Object(fields) = statement else {
            return Err(malformed(format!("Statement {n} is not a JSON object")));
        };
        match fields.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            _ => {
                return Err(malformed(format!(
                    "Statement {n} has no valid Effect: it must be \"Allow\" or \"Deny\""
                )));
            }
        }
        if !fields.contains_key("Principal") && !fields.contains_key("NotPrincipal") {
            return Err(malformed(format!(
                "Statement {n} has no Principal: key policies must name who they apply to"
            )));
        }
        if let Some(condition) = fields.get("Condition")
            && !condition.is_object()
        {
            return Err(malformed(format!(
                "Statement {n} has a Condition that is not an object of operators"
            )));
        }
    }
    Ok(document)
}

/// Checks a policy about to be set on a key: its form and, unless bypassed, that the caller could still
/// change it afterwards.
pub fn check_new(
    policy: &str,
    caller: &Caller,
    key_arn: &str,
    bypass_lockout_check: bool,
) -> Result<(), KmsError> {
    let document = check(policy)?;
    if bypass_lockout_check {
        return Ok(());
    }
    let context = BTreeMap::new();
    let request = Request {
        caller,
        action: "kms:PutKeyPolicy",
        resource: key_arn,
        context: &context,
    };
    if access::evaluate(&document, &request) != Decision::Allow {
        return Err(malformed(
            "The new key policy will not allow you to update the key policy in the future.",
        ));
    }
    Ok(())
}

/// Authorizes `operation` (`Encrypt`) on `key` for `caller` by the key's policy.
pub fn authorize(
    key: &KeyRecord,
    caller: &Caller,
    operation: &str,
    context: &BTreeMap<String, String>,
) -> Result<(), KmsError> {
    let action = format!("kms:{operation}");
    access::authorize(
        &key.policy,
        &Request {
            caller,
            action: &action,
            resource: &key.arn,
            context,
        },
    )
}

/// Authorizes an operation AWS governs by IAM policies alone (CreateKey, ListKeys, ListAliases): the twin's
/// own principals may, others may not.
pub fn authorize_iam(caller: &Caller, account: &str, operation: &str) -> Result<(), KmsError> {
    if caller.account == account {
        return Ok(());
    }
    let action = format!("kms:{operation}");
    let resource = format!("arn:aws:kms:{}:{account}:*", caller.region);
    let context = BTreeMap::new();
    Err(access::denied(
        &Request {
            caller,
            action: &action,
            resource: &resource,
            context: &context,
        },
        "because no identity-based policy allows the action",
    ))
}
