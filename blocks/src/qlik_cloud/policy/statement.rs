//! One statement of a key policy, read the way IAM reads it: principals, actions (with `*` and `?`
//! wildcards, case-insensitive), and the conditions the Qlik rules look at.

use serde_json::{Map, Value};

use super::Partition;

/// The condition key that carries the Qlik tenant id in every encryption context Qlik sends.
pub const TENANT_CONTEXT_KEY: &str = "kms:EncryptionContext:TenantId";

/// The condition operators that pin the tenant id to exact values.
const TENANT_OPERATORS: &[(&str, bool)] = &[
    ("StringEquals", false),
    ("StringEqualsIgnoreCase", true),
    ("ForAnyValue:StringEquals", false),
    ("ForAnyValue:StringEqualsIgnoreCase", true),
];

/// Whether a statement allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `"Effect": "Allow"`.
    Allow,
    /// `"Effect": "Deny"`.
    Deny,
}

/// The actions a statement covers: listed (`Action`) or all but the listed (`NotAction`).
#[derive(Debug)]
enum Actions<'a> {
    Only(Vec<&'a str>),
    AllBut(Vec<&'a str>),
}

/// The tenant ids a statement's condition allows in `kms:EncryptionContext:TenantId`.
#[derive(Debug)]
pub struct TenantCondition<'a> {
    /// The values named.
    pub values: Vec<&'a str>,
    /// Whether the operator compares without case.
    pub ignore_case: bool,
}

impl TenantCondition<'_> {
    /// Whether `tenant_id` is among the values.
    pub fn allows(&self, tenant_id: &str) -> bool {
        self.values.iter().any(|value| {
            if self.ignore_case {
                value.eq_ignore_ascii_case(tenant_id)
            } else {
                *value == tenant_id
            }
        })
    }
}

/// A statement of a key policy.
#[derive(Debug)]
pub struct Statement<'a> {
    /// How to name it in a message: its `Sid`, or its position.
    pub label: String,
    /// Allow or Deny.
    pub effect: Effect,
    /// `Principal: "*"` or `Principal: {"AWS": "*"}`: everyone.
    pub everyone: bool,
    /// The `Principal.AWS` entries.
    principals: Vec<&'a str>,
    actions: Actions<'a>,
    condition: Option<&'a Map<String, Value>>,
}

impl<'a> Statement<'a> {
    /// Reads the statement at `index`; `None` when it has no valid `Effect` or no `Action`/`NotAction`.
    pub fn parse(index: usize, value: &'a Value) -> Option<Statement<'a>> {
        let object = value.as_object()?;
        let effect = match object.get("Effect")?.as_str()? {
            "Allow" => Effect::Allow,
            "Deny" => Effect::Deny,
            _ => return None,
        };
        let actions = match (object.get("Action"), object.get("NotAction")) {
            (Some(listed), _) => Actions::Only(strings(listed)),
            (None, Some(excluded)) => Actions::AllBut(strings(excluded)),
            (None, None) => return None,
        };
        let (everyone, principals) = match object.get("Principal") {
            Some(Value::String(star)) => (star == "*", Vec::new()),
            Some(Value::Object(principal)) => {
                let aws = principal.get("AWS").map(strings).unwrap_or_default();
                (aws.contains(&"*"), aws)
            }
            _ => (false, Vec::new()),
        };
        let label = match object.get("Sid").and_then(Value::as_str) {
            Some(sid) if !sid.is_empty() => format!("`{sid}`"),
            _ => format!("#{}", index + 1),
        };
        Some(Statement {
            label,
            effect,
            everyone,
            principals,
            actions,
            condition: object.get("Condition").and_then(Value::as_object),
        })
    }

    /// Whether `Principal.AWS` names `principal` exactly.
    pub fn names(&self, principal: &str) -> bool {
        self.principals.contains(&principal)
    }

    /// Whether `Principal.AWS` names the root of an account of `partition` (`arn:…:iam::<id>:root` or a
    /// bare 12-digit account id).
    pub fn names_account_root(&self, partition: Partition) -> bool {
        let prefix = format!("arn:{}:iam::", partition.as_str());
        self.principals.iter().any(|principal| {
            let account = match principal.strip_prefix(&prefix) {
                Some(rest) => rest.strip_suffix(":root"),
                None => Some(*principal),
            };
            account.is_some_and(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
        })
    }

    /// Whether the statement covers `action` (`kms:Decrypt`), wildcards and `NotAction` included.
    pub fn covers(&self, action: &str) -> bool {
        match &self.actions {
            Actions::Only(patterns) => patterns.iter().any(|p| wildcard_match(p, action)),
            Actions::AllBut(patterns) => !patterns.iter().any(|p| wildcard_match(p, action)),
        }
    }

    /// Whether the statement has any condition.
    pub fn is_conditional(&self) -> bool {
        self.condition.is_some_and(|c| !c.is_empty())
    }

    /// Whether a condition looks at the encryption context, which requests without one (`DescribeKey`)
    /// can never satisfy.
    pub fn needs_encryption_context(&self) -> bool {
        self.condition.is_some_and(|operators| {
            operators.values().filter_map(Value::as_object).any(|keys| {
                keys.keys().any(|key| {
                    key.to_ascii_lowercase()
                        .starts_with("kms:encryptioncontext")
                })
            })
        })
    }

    /// The tenant ids pinned by a string-equality condition on `kms:EncryptionContext:TenantId`, or
    /// `None` when there is no such condition.
    pub fn tenant_condition(&self) -> Option<TenantCondition<'a>> {
        let operators = self.condition?;
        let mut found: Option<TenantCondition<'a>> = None;
        for (operator, ignore_case) in TENANT_OPERATORS {
            let Some(keys) = operators.get(*operator).and_then(Value::as_object) else {
                continue;
            };
            for (key, values) in keys {
                if key.eq_ignore_ascii_case(TENANT_CONTEXT_KEY) {
                    let condition = found.get_or_insert(TenantCondition {
                        values: Vec::new(),
                        ignore_case: *ignore_case,
                    });
                    condition.values.extend(strings(values));
                    condition.ignore_case |= *ignore_case;
                }
            }
        }
        found
    }
}

/// A string, or the strings of an array (other entries skipped).
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// IAM action matching: `*` is any run of characters, `?` any one, case-insensitive.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let text: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and how much of the text it has swallowed so far.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_match_like_iam() {
        assert!(wildcard_match("kms:*", "kms:Decrypt"));
        assert!(wildcard_match("*", "kms:Decrypt"));
        assert!(wildcard_match(
            "kms:GenerateDataKey*",
            "kms:GenerateDataKey"
        ));
        assert!(wildcard_match("KMS:generatedatakey", "kms:GenerateDataKey"));
        assert!(wildcard_match("kms:?ecrypt", "kms:Decrypt"));
        assert!(wildcard_match("kms:*Key*", "kms:PutKeyPolicy"));
        assert!(!wildcard_match("kms:Encrypt", "kms:Decrypt"));
        assert!(!wildcard_match(
            "kms:GenerateDataKeyPair*",
            "kms:GenerateDataKey"
        ));
        assert!(!wildcard_match("kms:Re*", "kms:Decrypt"));
    }

    #[test]
    fn not_action_covers_everything_else() {
        let value = json!({"Effect": "Allow", "Principal": "*", "NotAction": "kms:Decrypt"});
        let statement = Statement::parse(0, &value).unwrap();
        assert!(statement.everyone);
        assert!(statement.covers("kms:Encrypt"));
        assert!(!statement.covers("kms:Decrypt"));
    }

    #[test]
    fn tenant_condition_reads_every_accepted_operator() {
        let value = json!({"Effect": "Allow", "Action": "kms:*", "Condition": {
            "StringEqualsIgnoreCase": {"kms:encryptioncontext:tenantid": "ABC"}}});
        let statement = Statement::parse(0, &value).unwrap();
        let condition = statement.tenant_condition().unwrap();
        assert!(condition.allows("abc"));
        assert!(statement.needs_encryption_context());
        assert_eq!(statement.label, "#1");
    }
}
