//! Key policy evaluation, as KMS does it for a request on one key: an explicit Deny wins, otherwise an Allow
//! statement that matches the principal, the action, the resource and every condition lets the request in.
//!
//! A grant to an account's root (`arn:aws:iam::<account>:root` or the bare account id) delegates to that
//! account's IAM; the twin has no IAM, so it treats every principal of that account as allowed by it.
//! Conditions cover the string and Bool operators (with `ForAnyValue:`/`ForAllValues:` and `…IfExists`)
//! over the encryption context, the caller's account and ARN; anything the twin does not know fails
//! closed: an Allow that uses it does not match, a Deny that uses it applies.

use std::collections::BTreeMap;

use keyflow_blocks::aws_kms::facts::Arn;
use serde_json::Value;

use super::rules::Caller;
use super::wire::KmsError;

/// One request to authorize.
pub struct Request<'a> {
    /// The caller.
    pub caller: &'a Caller,
    /// The action (`kms:Encrypt`).
    pub action: &'a str,
    /// The key's ARN.
    pub resource: &'a str,
    /// The request's encryption context (empty for other operations).
    pub context: &'a BTreeMap<String, String>,
}

/// What a policy says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An Allow matched and no Deny did.
    Allow,
    /// Nothing matched.
    ImplicitDeny,
    /// A Deny matched.
    ExplicitDeny,
}

/// The account of an IAM or STS principal ARN (`arn:aws:iam::111122223333:user/x`).
pub fn account_of(arn: &str) -> Option<&str> {
    let arn = Arn::parse(arn).filter(|arn| matches!(arn.service, "iam" | "sts"))?;
    super::rules::is_account_id(arn.account).then_some(arn.account)
}

/// Authorizes `request` by the key policy `policy`, or says why not in AWS's words.
pub fn authorize(policy: &str, request: &Request) -> Result<(), KmsError> {
    let document: Value = serde_json::from_str(policy).unwrap_or(Value::Null);
    match evaluate(&document, request) {
        Decision::Allow => Ok(()),
        Decision::ImplicitDeny => Err(denied(
            request,
            &format!(
                "because no resource-based policy allows the {} action",
                request.action
            ),
        )),
        Decision::ExplicitDeny => Err(denied(
            request,
            "with an explicit deny in a resource-based policy",
        )),
    }
}

/// The `AccessDeniedException` of `request`, ending with `why`.
pub fn denied(request: &Request, why: &str) -> KmsError {
    KmsError::new(
        "AccessDeniedException",
        format!(
            "User: {} is not authorized to perform: {} on resource: {} {why}",
            request.caller.arn, request.action, request.resource
        ),
    )
}

/// What the policy document says about `request`.
pub fn evaluate(document: &Value, request: &Request) -> Decision {
    let statements = match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let mut allowed = false;
    for statement in statements {
        let deny = statement.get("Effect").and_then(Value::as_str) == Some("Deny");
        let matched = applies(statement, request, deny);
        if matched && deny {
            return Decision::ExplicitDeny;
        }
        allowed |= matched && !deny;
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Whether one statement applies to the request; `unknown` is what an unknown condition makes it.
fn applies(statement: &Value, request: &Request, unknown: bool) -> bool {
    let principal = match (statement.get("Principal"), statement.get("NotPrincipal")) {
        (Some(p), _) => principal_matches(p, request.caller),
        (None, Some(p)) => !principal_matches(p, request.caller),
        (None, None) => false,
    };
    let action = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(a), _) => strings(a).any(|a| glob(&a.to_lowercase(), &request.action.to_lowercase())),
        (None, Some(a)) => {
            !strings(a).any(|a| glob(&a.to_lowercase(), &request.action.to_lowercase()))
        }
        (None, None) => false,
    };
    let resource = match (statement.get("Resource"), statement.get("NotResource")) {
        (Some(r), _) => strings(r).any(|r| glob(r, request.resource)),
        (None, Some(r)) => !strings(r).any(|r| glob(r, request.resource)),
        // AWS: a statement without Resource (or Action) has no effect.
        (None, None) => false,
    };
    if !(principal && action && resource) {
        return false;
    }
    match statement.get("Condition") {
        None => true,
        Some(Value::Object(block)) => block
            .iter()
            .all(|(operator, keys)| condition(operator, keys, request).unwrap_or(unknown)),
        Some(_) => unknown,
    }
}

/// The strings of a member that is a string or a list of them.
fn strings(value: &Value) -> Box<dyn Iterator<Item = &str> + '_> {
    match value {
        Value::String(s) => Box::new(std::iter::once(s.as_str())),
        Value::Array(list) => Box::new(list.iter().filter_map(Value::as_str)),
        _ => Box::new(std::iter::empty()),
    }
}

fn principal_matches(principal: &Value, caller: &Caller) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(map) => map
            .get("AWS")
            .is_some_and(|aws| strings(aws).any(|entry| entry_matches(entry, caller))),
        _ => false,
    }
}

/// One `AWS` principal entry against the caller.
fn entry_matches(entry: &str, caller: &Caller) -> bool {
    if entry == "*" || entry == caller.arn || Some(entry) == role_of(&caller.arn).as_deref() {
        return true;
    }
    let root = entry
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.strip_suffix(":root"));
    root.or(super::rules::is_account_id(entry).then_some(entry)) == Some(caller.account.as_str())
}

/// The IAM role of an assumed-role session ARN (`arn:aws:sts::A:assumed-role/R/s` → `arn:aws:iam::A:role/R`).
fn role_of(arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:aws:sts::")?;
    let (account, resource) = rest.split_once(':')?;
    let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    Some(format!("arn:aws:iam::{account}:role/{role}"))
}

/// The request's values of condition key `key` (case-insensitive); `None` when the request has none.
fn values_of(key: &str, request: &Request) -> Option<Vec<String>> {
    let lower = key.to_lowercase();
    if let Some(wanted) = lower.strip_prefix("kms:encryptioncontext:") {
        return request
            .context
            .iter()
            .find(|(k, _)| k.to_lowercase() == wanted)
            .map(|(_, v)| vec![v.clone()]);
    }
    match lower.as_str() {
        "kms:encryptioncontextkeys" if !request.context.is_empty() => {
            Some(request.context.keys().cloned().collect())
        }
        "kms:calleraccount" | "aws:principalaccount" => Some(vec![request.caller.account.clone()]),
        "aws:principalarn" => Some(vec![
            role_of(&request.caller.arn).unwrap_or_else(|| request.caller.arn.clone()),
        ]),
        _ => None,
    }
}

/// One operator of a `Condition` block over its keys; `None` when the operator is unknown.
fn condition(operator: &str, keys: &Value, request: &Request) -> Option<bool> {
    let (set, rest) = if let Some(rest) = operator.strip_prefix("ForAnyValue:") {
        (Some(false), rest)
    } else if let Some(rest) = operator.strip_prefix("ForAllValues:") {
        (Some(true), rest)
    } else {
        (None, operator)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    let Value::Object(keys) = keys else {
        return None;
    };
    let mut all = true;
    for (key, wanted) in keys {
        let wanted: Vec<&str> = strings(wanted).collect();
        let wanted_bools: Vec<String>;
        let wanted = if wanted.is_empty() {
            wanted_bools = match keys.get(key) {
                Some(Value::Bool(b)) => vec![b.to_string()],
                _ => Vec::new(),
            };
            wanted_bools.iter().map(String::as_str).collect()
        } else {
            wanted
        };
        let present = values_of(key, request);
        if base == "Null" {
            all &= wanted.iter().any(|w| (*w == "true") == present.is_none());
            continue;
        }
        let (negated, matcher): (bool, fn(&str, &str) -> bool) = match base {
            "StringEquals" | "ArnEquals" | "Bool" => (false, |p, v| p == v),
            "StringNotEquals" | "ArnNotEquals" => (true, |p, v| p == v),
            "StringEqualsIgnoreCase" => (false, |p, v| p.eq_ignore_ascii_case(v)),
            "StringNotEqualsIgnoreCase" => (true, |p, v| p.eq_ignore_ascii_case(v)),
            "StringLike" | "ArnLike" => (false, glob),
            "StringNotLike" | "ArnNotLike" => (true, glob),
            _ => return None,
        };
        let one = |value: &str| wanted.iter().any(|p| matcher(p, value)) != negated;
        all &= match (set, present) {
            (_, None) if if_exists => true,
            (Some(false), None) => false,
            (Some(true), None) => true,
            (None, None) => negated,
            (Some(false), Some(values)) => values.iter().any(|v| one(v)),
            (Some(true), Some(values)) => values.iter().all(|v| one(v)),
            (None, Some(values)) => values.iter().any(|v| one(v)),
        };
    }
    Some(all)
}

/// Whether `text` matches `pattern`, where `*` is any run of characters and `?` any one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
