//! The rules, one function each, applied in the order a reader fixes a policy: who, what, for which
//! tenant, and that the owner keeps control.

use serde_json::Value;

use super::statement::{Effect, Statement, TENANT_CONTEXT_KEY};
use super::{
    CRYPTO_ACTIONS, Finding, LOCKOUT_RISK, MALFORMED_POLICY, MISSING_ACTION, MISSING_DESCRIBE_KEY,
    MISSING_PROXY_ROLE, MISSING_TENANT_CONDITION, PolicyRequirements, WRONG_PARTITION,
    WRONG_TENANT, crypto_statement, describe_statement, proxy_roles, root_statement,
};

/// Every finding for `policy`, in rule order.
pub fn check(policy: &Value, req: &PolicyRequirements) -> Vec<Finding> {
    let statements = match statements(policy) {
        Ok(statements) => statements,
        Err(finding) => return vec![finding],
    };
    let allows: Vec<&Statement> = statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .collect();
    let named = |role: &&str| allows.iter().any(|s| s.names(role));
    let present: Vec<&str> = proxy_roles(req.partition)
        .iter()
        .copied()
        .filter(named)
        .collect();
    let foreign: Vec<&str> = proxy_roles(req.partition.other())
        .iter()
        .copied()
        .filter(named)
        .collect();

    let mut findings = Vec::new();
    if !foreign.is_empty() {
        findings.push(wrong_partition(req, &foreign));
    }
    // A policy written for the other partition is one mistake, not four missing roles.
    if foreign.is_empty() || !present.is_empty() {
        findings.extend(missing_roles(req, &present));
    }
    // The roles the policy does name are the ones whose grants are worth checking.
    let roles = if present.is_empty() { foreign } else { present };
    if !roles.is_empty() {
        findings.extend(missing_actions(req, &allows, &roles));
        findings.extend(tenant_conditions(req, &allows, &roles));
        if req.multi_region {
            findings.extend(missing_describe_key(req, &allows, &roles));
        }
    }
    findings.extend(lockout(req, &statements));
    findings
}

/// The statements of the policy, or the finding saying it is not a policy.
fn statements(policy: &Value) -> Result<Vec<Statement<'_>>, Finding> {
    let malformed = |what: &str| {
        Finding::new(
            MALFORMED_POLICY,
            format!(
                "{what}: a key policy is a JSON object whose `Statement` is a statement or an array of them"
            ),
            None,
        )
    };
    let Some(object) = policy.as_object() else {
        return Err(malformed("the key policy is not a JSON object"));
    };
    let entries: Vec<&Value> = match object.get("Statement") {
        Some(Value::Array(entries)) => entries.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        Some(_) => return Err(malformed("`Statement` is neither an object nor an array")),
        None => return Err(malformed("the key policy has no `Statement`")),
    };
    Ok(entries
        .into_iter()
        .enumerate()
        .filter_map(|(index, entry)| Statement::parse(index, entry))
        .collect())
}

/// Backquoted, comma-separated.
fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn wrong_partition(req: &PolicyRequirements, foreign: &[&str]) -> Finding {
    let other = req.partition.other();
    Finding::new(
        WRONG_PARTITION,
        format!(
            "the key policy names Qlik's `{other}` proxy roles ({}) but the key is in the `{}` partition, \
             where Qlik uses other roles: replace them with the `{}` roles of `statement_to_add`",
            list(foreign),
            req.partition,
            req.partition,
        ),
        Some(crypto_statement(req.tenant_id, req.partition)),
    )
}

fn missing_roles(req: &PolicyRequirements, present: &[&str]) -> Vec<Finding> {
    proxy_roles(req.partition)
        .iter()
        .filter(|role| !present.contains(role))
        .map(|role| {
            Finding::new(
                MISSING_PROXY_ROLE,
                format!(
                    "no Allow statement names Qlik's proxy role `{role}`: add it to `Principal.AWS` of the \
                     statement that lets Qlik use the key, as in `statement_to_add`"
                ),
                Some(crypto_statement(req.tenant_id, req.partition)),
            )
        })
        .collect()
}

fn missing_actions(
    req: &PolicyRequirements,
    allows: &[&Statement],
    roles: &[&str],
) -> Vec<Finding> {
    CRYPTO_ACTIONS
        .iter()
        .filter_map(|action| {
            let lacking: Vec<&str> = roles
                .iter()
                .copied()
                .filter(|role| !allows.iter().any(|s| s.names(role) && s.covers(action)))
                .collect();
            (!lacking.is_empty()).then(|| {
                Finding::new(
                    MISSING_ACTION,
                    format!(
                        "the key policy does not allow `{action}` to Qlik's proxy roles {}: add `{action}` to \
                         the `Action` of the statement that names them",
                        list(&lacking)
                    ),
                    Some(crypto_statement(req.tenant_id, req.partition)),
                )
            })
        })
        .collect()
}

fn tenant_conditions(
    req: &PolicyRequirements,
    allows: &[&Statement],
    roles: &[&str],
) -> Vec<Finding> {
    let mut unconditioned = Vec::new();
    let mut others = Vec::new();
    let mut wrong_in = Vec::new();
    let granting = allows.iter().filter(|s| {
        roles.iter().any(|role| s.names(role)) && CRYPTO_ACTIONS.iter().any(|a| s.covers(a))
    });
    for statement in granting {
        match statement.tenant_condition() {
            None => unconditioned.push(statement.label.as_str()),
            Some(condition) if !condition.allows(req.tenant_id) => {
                wrong_in.push(statement.label.as_str());
                others.extend(condition.values);
            }
            Some(_) => {}
        }
    }
    let tenant = req.tenant_id;
    let mut findings = Vec::new();
    if !unconditioned.is_empty() {
        findings.push(Finding::new(
            MISSING_TENANT_CONDITION,
            format!(
                "statement {} lets Qlik's proxy roles use the key with no `StringEquals` condition on \
                 `{TENANT_CONTEXT_KEY}`: add one naming tenant `{tenant}`",
                unconditioned.join(", ")
            ),
            Some(crypto_statement(tenant, req.partition)),
        ));
    }
    if !wrong_in.is_empty() {
        let found = if others.is_empty() {
            "no tenant".to_string()
        } else {
            format!("tenant {}", list(&others))
        };
        findings.push(Finding::new(
            WRONG_TENANT,
            format!(
                "the `{TENANT_CONTEXT_KEY}` condition of statement {} names {found}, not this tenant \
                 `{tenant}`: add `{tenant}` to its values",
                wrong_in.join(", ")
            ),
            Some(crypto_statement(tenant, req.partition)),
        ));
    }
    findings
}

fn missing_describe_key(
    req: &PolicyRequirements,
    allows: &[&Statement],
    roles: &[&str],
) -> Option<Finding> {
    // DescribeKey carries no encryption context, so a grant under a context condition never applies.
    let lacking: Vec<&str> = roles
        .iter()
        .copied()
        .filter(|role| {
            !allows.iter().any(|s| {
                s.names(role) && s.covers("kms:DescribeKey") && !s.needs_encryption_context()
            })
        })
        .collect();
    (!lacking.is_empty()).then(|| {
        Finding::new(
            MISSING_DESCRIBE_KEY,
            format!(
                "the key is multi-Region but the key policy does not allow `kms:DescribeKey` to Qlik's proxy \
                 roles {} in a statement without an encryption-context condition: add `statement_to_add`",
                list(&lacking)
            ),
            Some(describe_statement(req.partition)),
        )
    })
}

fn lockout(req: &PolicyRequirements, statements: &[Statement]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let owner_keeps_control = statements.iter().any(|s| {
        s.effect == Effect::Allow
            && s.names_account_root(req.partition)
            && s.covers("kms:PutKeyPolicy")
    });
    if !owner_keeps_control {
        findings.push(Finding::new(
            LOCKOUT_RISK,
            format!(
                "no Allow statement gives the account root (`arn:{}:iam::<account>:root`) `kms:*` or \
                 `kms:PutKeyPolicy`: nobody might be able to change this key policy again; add \
                 `statement_to_add` with your account id in place of `ACCOUNT_ID`",
                req.partition
            ),
            Some(root_statement(req.partition)),
        ));
    }
    for deny in statements.iter().filter(|s| {
        s.effect == Effect::Deny
            && s.everyone
            && s.covers("kms:PutKeyPolicy")
            && !s.is_conditional()
    }) {
        findings.push(Finding::new(
            LOCKOUT_RISK,
            format!(
                "Deny statement {} denies `kms:PutKeyPolicy` to every principal without a condition: \
                 nobody could change this key policy again; remove it or add a condition",
                deny.label
            ),
            None,
        ));
    }
    findings
}
