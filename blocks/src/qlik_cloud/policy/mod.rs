//! The key-policy rules of Qlik Cloud's customer-managed keys: what a KMS key policy must grant Qlik's
//! proxy roles, for which tenant, and that it must not lock its owner out. Pure: a policy document in,
//! findings out. Used by the Qlik Cloud twin (create and test) and by the policy-check block.
//!
//! The statements are those of Qlik's help page ("Configuring tenant encryption", commercial and
//! Government snippets) and of its Amazon KMS connector article.

mod rules;
mod statement;

#[cfg(test)]
mod tests;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::aws_kms::facts::Arn;

pub use statement::TENANT_CONTEXT_KEY;

/// Finding code: a Qlik proxy role of the key's partition is not named by any Allow statement.
pub const MISSING_PROXY_ROLE: &str = "missing-proxy-role";
/// Finding code: the policy names the proxy roles of the other partition.
pub const WRONG_PARTITION: &str = "wrong-partition";
/// Finding code: the proxy roles are not allowed one of Encrypt, Decrypt, GenerateDataKey.
pub const MISSING_ACTION: &str = "missing-action";
/// Finding code: the statement for the proxy roles has no tenant encryption-context condition.
pub const MISSING_TENANT_CONDITION: &str = "missing-tenant-condition";
/// Finding code: the tenant encryption-context condition names other tenants only.
pub const WRONG_TENANT: &str = "wrong-tenant";
/// Finding code: a multi-Region key does not allow the proxy roles `kms:DescribeKey`.
pub const MISSING_DESCRIBE_KEY: &str = "missing-describe-key";
/// Finding code: nobody may be able to change the key policy again.
pub const LOCKOUT_RISK: &str = "lockout-risk";
/// Finding code: the document is not a policy (no object, no `Statement`).
pub const MALFORMED_POLICY: &str = "malformed-policy";

/// The cryptographic actions Qlik's proxy roles need on the key.
pub const CRYPTO_ACTIONS: [&str; 3] = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"];

/// The `Sid` of Qlik's snippet that lets the proxy roles use the key.
const CRYPTO_SID: &str = "Enable Qlik's proxy roles to use the Customer's AWS KMS key to encrypt and decrypt data for the Qlik cloud tenant";
/// The `Sid` of Qlik's snippet that lets the proxy roles describe the key.
const DESCRIBE_SID: &str = "Enable KMS Key policy for proxy account";

const COMMERCIAL_ROLES: &[&str] = &[
    "arn:aws:iam::338144066592:role/byok-encryption-proxy-role",
    "arn:aws:iam::634246602378:role/byok-encryption-proxy-role",
    "arn:aws:iam::338144066592:role/byok-automations-proxy-role",
    "arn:aws:iam::634246602378:role/byok-automations-proxy-role",
];

const GOV_ROLES: &[&str] = &[
    "arn:aws-us-gov:iam::014729015091:role/byok-encryption-proxy-role",
    "arn:aws-us-gov:iam::014734359703:role/byok-encryption-proxy-role",
    "arn:aws-us-gov:iam::014729015091:role/byok-automations-proxy-role",
    "arn:aws-us-gov:iam::014734359703:role/byok-automations-proxy-role",
];

/// The AWS partition of a key: Qlik Cloud (commercial) or Qlik Cloud Government.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Partition {
    /// The commercial partition, `arn:aws:…`.
    #[serde(rename = "aws")]
    Aws,
    /// AWS GovCloud (US), `arn:aws-us-gov:…`, used by Qlik Cloud Government.
    #[serde(rename = "aws-us-gov")]
    AwsUsGov,
}

impl Partition {
    /// The partition an ARN is in (`arn:aws:…` or `arn:aws-us-gov:…`); `None` for anything else.
    pub fn of_arn(arn: &str) -> Option<Partition> {
        match Arn::parse(arn)?.partition {
            "aws" => Some(Partition::Aws),
            "aws-us-gov" => Some(Partition::AwsUsGov),
            _ => None,
        }
    }

    /// The partition as ARNs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }

    /// The partition that is not this one.
    fn other(self) -> Partition {
        match self {
            Partition::Aws => Partition::AwsUsGov,
            Partition::AwsUsGov => Partition::Aws,
        }
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the policy of one key must allow.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRequirements<'a> {
    /// The Qlik Cloud tenant the key encrypts (its id, as in the encryption context).
    pub tenant_id: &'a str,
    /// The key's partition, which decides which proxy roles Qlik uses.
    pub partition: Partition,
    /// Whether the key is multi-Region (then Qlik also needs `kms:DescribeKey`).
    pub multi_region: bool,
}

/// One thing the policy lacks for Qlik Cloud, and how to fix it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Finding {
    /// A stable kebab-case code (`missing-proxy-role`, `missing-action`, `wrong-tenant`…).
    pub code: &'static str,
    /// What is missing and what to do.
    pub message: String,
    /// The statement to add to the policy that fixes it, when one does.
    pub statement_to_add: Option<Value>,
}

impl Finding {
    fn new(code: &'static str, message: String, statement_to_add: Option<Value>) -> Finding {
        Finding {
            code,
            message,
            statement_to_add,
        }
    }
}

/// Everything `policy` lacks for Qlik Cloud to use the key of `req`; empty when it complies.
pub fn check(policy: &Value, req: &PolicyRequirements) -> Vec<Finding> {
    rules::check(policy, req)
}

/// The statements Qlik's documentation says to add to the key policy: the one letting the proxy roles
/// encrypt, decrypt and generate data keys for `tenant_id`, and — for multi-Region keys, and always in
/// the Government snippet — the one letting them describe the key.
pub fn qlik_statements(tenant_id: &str, partition: Partition, multi_region: bool) -> Vec<Value> {
    let mut statements = vec![crypto_statement(tenant_id, partition)];
    if multi_region || partition == Partition::AwsUsGov {
        statements.push(describe_statement(partition));
    }
    statements
}

/// Qlik's proxy roles in `partition`: the encryption service's and the automations' roles, in both of
/// Qlik's accounts.
pub fn proxy_roles(partition: Partition) -> &'static [&'static str] {
    match partition {
        Partition::Aws => COMMERCIAL_ROLES,
        Partition::AwsUsGov => GOV_ROLES,
    }
}

/// The statement letting the proxy roles use the key for `tenant_id`.
fn crypto_statement(tenant_id: &str, partition: Partition) -> Value {
    json!({
        "Sid": CRYPTO_SID,
        "Effect": "Allow",
        "Principal": { "AWS": proxy_roles(partition) },
        "Action": CRYPTO_ACTIONS,
        "Resource": "*",
        "Condition": { "StringEquals": { TENANT_CONTEXT_KEY: [tenant_id] } }
    })
}

/// The statement letting the proxy roles describe the key.
fn describe_statement(partition: Partition) -> Value {
    json!({
        "Sid": DESCRIBE_SID,
        "Effect": "Allow",
        "Principal": { "AWS": proxy_roles(partition) },
        "Action": "kms:DescribeKey",
        "Resource": "*"
    })
}

/// The statement keeping the account in control of its key; `ACCOUNT_ID` is for the user to replace.
fn root_statement(partition: Partition) -> Value {
    json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": { "AWS": format!("arn:{partition}:iam::ACCOUNT_ID:root") },
        "Action": "kms:*",
        "Resource": "*"
    })
}
