//! The rules against Qlik's own policies (the Amazon KMS connector article, the help page's commercial and
//! Government snippets), then one change at a time.

use serde_json::{Value, json};

use super::*;

const TENANT: &str = "ImTRa-bkJTD-NZRYjNBa_rDhwSVA6Qo8";

/// The article's full policy: the account root, then Qlik's proxy roles for the tenant.
fn commercial() -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": "key-consolepolicy-3",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "Enable KMS Key policy for proxy account",
                "Effect": "Allow",
                "Principal": { "AWS": [
                    "arn:aws:iam::338144066592:role/byok-encryption-proxy-role",
                    "arn:aws:iam::338144066592:role/byok-automations-proxy-role",
                    "arn:aws:iam::634246602378:role/byok-encryption-proxy-role",
                    "arn:aws:iam::634246602378:role/byok-automations-proxy-role"
                ] },
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": { "StringEquals": { "kms:EncryptionContext:TenantId": TENANT } }
            }
        ]
    })
}

/// The help page's Government snippet after a GovCloud account root.
fn gov() -> Value {
    let roles = [
        "arn:aws-us-gov:iam::014729015091:role/byok-encryption-proxy-role",
        "arn:aws-us-gov:iam::014734359703:role/byok-encryption-proxy-role",
        "arn:aws-us-gov:iam::014729015091:role/byok-automations-proxy-role",
        "arn:aws-us-gov:iam::014734359703:role/byok-automations-proxy-role",
    ];
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": { "AWS": "arn:aws-us-gov:iam::111122223333:root" },
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "Enable Qlik's proxy roles to use the Customer's AWS KMS key to encrypt and decrypt data for the Qlik cloud tenant",
                "Effect": "Allow",
                "Principal": { "AWS": roles },
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": { "StringEquals": { "kms:EncryptionContext:TenantId": [TENANT] } }
            },
            {
                "Sid": "Enable KMS Key policy for proxy account",
                "Effect": "Allow",
                "Principal": { "AWS": roles },
                "Action": "kms:DescribeKey",
                "Resource": "*"
            }
        ]
    })
}

fn req(partition: Partition, multi_region: bool) -> PolicyRequirements<'static> {
    PolicyRequirements {
        tenant_id: TENANT,
        partition,
        multi_region,
    }
}

fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code).collect()
}

/// The Qlik statement (index 1) of the commercial policy, to edit.
fn qlik_statement(policy: &mut Value) -> &mut Value {
    &mut policy["Statement"][1]
}

#[test]
fn the_articles_policy_complies_for_a_single_region_key() {
    assert_eq!(check(&commercial(), &req(Partition::Aws, false)), vec![]);
}

#[test]
fn the_gov_snippet_complies_for_gov_keys() {
    assert_eq!(check(&gov(), &req(Partition::AwsUsGov, false)), vec![]);
    assert_eq!(check(&gov(), &req(Partition::AwsUsGov, true)), vec![]);
}

#[test]
fn a_multi_region_key_also_needs_describe_key() {
    let findings = check(&commercial(), &req(Partition::Aws, true));
    assert_eq!(codes(&findings), [MISSING_DESCRIBE_KEY]);
    let to_add = findings[0].statement_to_add.clone().unwrap();
    assert_eq!(to_add["Action"], "kms:DescribeKey");
    let mut fixed = commercial();
    fixed["Statement"].as_array_mut().unwrap().push(to_add);
    assert_eq!(check(&fixed, &req(Partition::Aws, true)), vec![]);
}

#[test]
fn describe_key_under_the_tenant_condition_does_not_count() {
    let mut policy = commercial();
    qlik_statement(&mut policy)["Action"] = json!([
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey"
    ]);
    assert_eq!(
        codes(&check(&policy, &req(Partition::Aws, true))),
        [MISSING_DESCRIBE_KEY]
    );
}

#[test]
fn each_missing_role_is_its_own_finding() {
    for role in proxy_roles(Partition::Aws) {
        let mut policy = commercial();
        let principals = qlik_statement(&mut policy)["Principal"]["AWS"]
            .as_array_mut()
            .unwrap();
        principals.retain(|p| p != role);
        let findings = check(&policy, &req(Partition::Aws, false));
        assert_eq!(codes(&findings), [MISSING_PROXY_ROLE], "{role}");
        assert!(
            findings[0].message.contains(role),
            "{}",
            findings[0].message
        );
        assert!(findings[0].statement_to_add.is_some());
    }
}

#[test]
fn each_missing_action_is_its_own_finding() {
    for action in CRYPTO_ACTIONS {
        let mut policy = commercial();
        let actions = qlik_statement(&mut policy)["Action"]
            .as_array_mut()
            .unwrap();
        actions.retain(|a| a != action);
        let findings = check(&policy, &req(Partition::Aws, false));
        assert_eq!(codes(&findings), [MISSING_ACTION], "{action}");
        assert!(
            findings[0].message.contains(action),
            "{}",
            findings[0].message
        );
    }
}

#[test]
fn action_wildcards_grant() {
    for actions in [
        json!("kms:*"),
        json!("*"),
        json!(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"]),
    ] {
        let mut policy = commercial();
        qlik_statement(&mut policy)["Action"] = actions.clone();
        assert_eq!(
            check(&policy, &req(Partition::Aws, false)),
            vec![],
            "{actions}"
        );
    }
}

#[test]
fn a_missing_condition_is_its_own_finding() {
    let mut policy = commercial();
    qlik_statement(&mut policy)
        .as_object_mut()
        .unwrap()
        .remove("Condition");
    let findings = check(&policy, &req(Partition::Aws, false));
    assert_eq!(codes(&findings), [MISSING_TENANT_CONDITION]);
    assert!(
        findings[0].message.contains(TENANT),
        "{}",
        findings[0].message
    );
}

#[test]
fn another_tenant_is_named_in_the_finding() {
    let mut policy = commercial();
    qlik_statement(&mut policy)["Condition"]["StringEquals"][TENANT_CONTEXT_KEY] =
        json!("other-tenant");
    let findings = check(&policy, &req(Partition::Aws, false));
    assert_eq!(codes(&findings), [WRONG_TENANT]);
    assert!(
        findings[0].message.contains("`other-tenant`"),
        "{}",
        findings[0].message
    );
    assert!(
        findings[0].message.contains(TENANT),
        "{}",
        findings[0].message
    );
}

#[test]
fn other_equality_operators_pin_the_tenant_too() {
    for operator in ["StringEqualsIgnoreCase", "ForAnyValue:StringEquals"] {
        let mut policy = commercial();
        qlik_statement(&mut policy)["Condition"] =
            json!({ operator: { TENANT_CONTEXT_KEY: ["other", TENANT] } });
        assert_eq!(
            check(&policy, &req(Partition::Aws, false)),
            vec![],
            "{operator}"
        );
    }
}

#[test]
fn gov_roles_checked_as_commercial_are_one_finding() {
    let mut policy = commercial();
    qlik_statement(&mut policy)["Principal"]["AWS"] = json!(proxy_roles(Partition::AwsUsGov));
    let findings = check(&policy, &req(Partition::Aws, false));
    assert_eq!(codes(&findings), [WRONG_PARTITION]);
    let to_add = findings[0].statement_to_add.as_ref().unwrap();
    assert_eq!(
        to_add["Principal"]["AWS"],
        json!(proxy_roles(Partition::Aws))
    );
}

#[test]
fn without_qlik_roles_each_role_is_missing_and_nothing_else() {
    let mut policy = commercial();
    policy["Statement"].as_array_mut().unwrap().truncate(1);
    let findings = check(&policy, &req(Partition::Aws, false));
    assert_eq!(codes(&findings), [MISSING_PROXY_ROLE; 4]);
}

#[test]
fn the_root_needs_put_key_policy() {
    let mut policy = commercial();
    policy["Statement"][0]["Action"] = json!("kms:Describe*");
    let findings = check(&policy, &req(Partition::Aws, false));
    assert_eq!(codes(&findings), [LOCKOUT_RISK]);
    assert!(findings[0].statement_to_add.is_some());

    policy["Statement"][0]["Action"] = json!(["kms:PutKeyPolicy"]);
    assert_eq!(check(&policy, &req(Partition::Aws, false)), vec![]);
    policy["Statement"][0]["Principal"]["AWS"] = json!("111122223333");
    assert_eq!(check(&policy, &req(Partition::Aws, false)), vec![]);
    policy["Statement"][0]["Principal"]["AWS"] = json!("arn:aws:iam::111122223333:user/admin");
    assert_eq!(
        codes(&check(&policy, &req(Partition::Aws, false))),
        [LOCKOUT_RISK]
    );
}

#[test]
fn an_unconditional_deny_of_everyone_locks_out() {
    let deny = json!({"Sid": "NoChanges", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"});
    let mut policy = commercial();
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .push(deny.clone());
    let findings = check(&policy, &req(Partition::Aws, false));
    assert_eq!(codes(&findings), [LOCKOUT_RISK]);
    assert!(
        findings[0].message.contains("`NoChanges`"),
        "{}",
        findings[0].message
    );
    assert_eq!(findings[0].statement_to_add, None);

    let mut conditioned = deny;
    conditioned["Condition"] = json!({"Bool": {"aws:SecureTransport": "false"}});
    let mut policy = commercial();
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .push(conditioned);
    assert_eq!(check(&policy, &req(Partition::Aws, false)), vec![]);
}

#[test]
fn a_single_statement_object_is_read() {
    let policy = json!({"Statement": qlik_statements(TENANT, Partition::Aws, false)[0]});
    assert_eq!(
        codes(&check(&policy, &req(Partition::Aws, false))),
        [LOCKOUT_RISK]
    );
}

#[test]
fn a_document_that_is_no_policy_is_one_finding() {
    for policy in [json!([]), json!({}), json!({"Statement": "x"})] {
        assert_eq!(
            codes(&check(&policy, &req(Partition::Aws, false))),
            [MALFORMED_POLICY],
            "{policy}"
        );
    }
}

#[test]
fn qlik_statements_make_any_policy_with_a_root_comply() {
    for partition in [Partition::Aws, Partition::AwsUsGov] {
        for multi_region in [false, true] {
            let mut statements = vec![json!({
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::111122223333:root")},
                "Action": "kms:*",
                "Resource": "*"
            })];
            statements.extend(qlik_statements(TENANT, partition, multi_region));
            let policy = json!({"Version": "2012-10-17", "Statement": statements});
            assert_eq!(
                check(&policy, &req(partition, multi_region)),
                vec![],
                "{partition} {multi_region}"
            );
        }
    }
}

#[test]
fn partitions_come_from_arns_and_serialize_as_aws_spells_them() {
    let key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd";
    assert_eq!(Partition::of_arn(key), Some(Partition::Aws));
    assert_eq!(
        Partition::of_arn("arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/1"),
        Some(Partition::AwsUsGov)
    );
    assert_eq!(
        Partition::of_arn("arn:aws-cn:kms:cn-north-1:111122223333:key/1"),
        None
    );
    assert_eq!(Partition::of_arn("aws:kms"), None);
    assert_eq!(
        serde_json::to_value(Partition::AwsUsGov).unwrap(),
        json!("aws-us-gov")
    );
    assert_eq!(
        serde_json::from_value::<Partition>(json!("aws")).unwrap(),
        Partition::Aws
    );
}
