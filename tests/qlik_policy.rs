//! The Qlik Cloud key-policy check: as a block (`qlik-cloud.check-key-policy`, no network) and as a rule
//! of the static checker when a flow registers with Qlik a key it puts a policy on.

use crate::harness::{run_json, step, validate_yaml};

const TENANT: &str = "BL4tTJ4S7xrHTcq0zQxQrJ5qB1_Q6cSo";

/// The seed's policy (Qlik's documentation): the account root, then Qlik's proxy roles for the tenant.
fn seed_policy(tenant: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "Enable Qlik's proxy roles to use the Customer's AWS KMS key to encrypt and decrypt data for the Qlik cloud tenant",
             "Effect": "Allow",
             "Principal": {"AWS": [
                 "arn:aws:iam::338144066592:role/byok-encryption-proxy-role",
                 "arn:aws:iam::634246602378:role/byok-encryption-proxy-role",
                 "arn:aws:iam::338144066592:role/byok-automations-proxy-role",
                 "arn:aws:iam::634246602378:role/byok-automations-proxy-role"]},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": "*",
             "Condition": {"StringEquals": {"kms:EncryptionContext:TenantId": [tenant]}}}
        ]
    })
}

/// Runs `qlik-cloud.check-key-policy` on `policy` (as JSON text) and gives the finding codes.
fn findings(policy: &serde_json::Value, partition: &str) -> (bool, Vec<String>) {
    let text = serde_json::to_string(&policy.to_string()).expect("quote");
    let yaml = format!(
        "name: check\nsteps:\n  - id: check\n    block: qlik-cloud.check-key-policy\n    with: {{ policy: {text}, tenant_id: {TENANT}, partition: {partition} }}\n"
    );
    let (code, report, stderr) = run_json(&yaml, &[]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let output = &step(&report, "check")["output"];
    let codes = output["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| f["code"].as_str().unwrap_or_default().to_string())
        .collect();
    (output["compliant"].as_bool().unwrap_or_default(), codes)
}

#[test]
fn the_seed_policy_passes_and_each_removal_has_its_own_finding() {
    assert_eq!(findings(&seed_policy(TENANT), "aws"), (true, vec![]));

    let mut no_role = seed_policy(TENANT);
    no_role["Statement"][1]["Principal"]["AWS"]
        .as_array_mut()
        .expect("roles")
        .remove(3);
    assert_eq!(
        findings(&no_role, "aws"),
        (false, vec!["missing-proxy-role".to_string()])
    );

    let mut no_action = seed_policy(TENANT);
    no_action["Statement"][1]["Action"] = serde_json::json!(["kms:Encrypt", "kms:Decrypt"]);
    assert_eq!(
        findings(&no_action, "aws"),
        (false, vec!["missing-action".to_string()])
    );

    let mut no_condition = seed_policy(TENANT);
    no_condition["Statement"][1]
        .as_object_mut()
        .expect("statement")
        .remove("Condition");
    assert_eq!(
        findings(&no_condition, "aws"),
        (false, vec!["missing-tenant-condition".to_string()])
    );

    assert_eq!(
        findings(&seed_policy("another-tenant"), "aws"),
        (false, vec!["wrong-tenant".to_string()])
    );

    let (compliant, codes) = findings(&seed_policy(TENANT), "aws-us-gov");
    assert!(
        !compliant && codes.contains(&"wrong-partition".to_string()),
        "{codes:?}"
    );
}

const REGISTERS: &str = r#"name: registers
connections:
  aws: { connector: aws-kms, region: eu-west-1 }
  qlik: { connector: qlik-cloud, tenant_url: https://acme.eu.qlikcloud.com, api_key: { env: QLIK_API_KEY } }
steps:
  - id: tenant
    block: qlik-cloud.get-tenant-info
  - id: create_key
    block: aws-kms.create-key
  - id: put_key_policy
    block: aws-kms.put-key-policy
    with:
      key_id: $.steps.create_key.output.KeyMetadata.KeyId
      policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { AWS: "arn:aws:iam::{{steps.create_key.output.KeyMetadata.AWSAccountId}}:root" }
            Action: "kms:*"
            Resource: "*"
          - Effect: Allow
            Principal:
              AWS:
                - arn:aws:iam::338144066592:role/byok-encryption-proxy-role
                - arn:aws:iam::634246602378:role/byok-encryption-proxy-role
                - arn:aws:iam::338144066592:role/byok-automations-proxy-role
                - arn:aws:iam::634246602378:role/byok-automations-proxy-role
            Action: [kms:Encrypt, kms:Decrypt, kms:GenerateDataKey]
            Resource: "*"
            Condition: { StringEquals: { "kms:EncryptionContext:TenantId": "{{steps.tenant.output.id}}" } }
  - id: provider
    block: qlik-cloud.create-key-provider
    after: put_key_policy
    with: { arn: $.steps.create_key.output.KeyMetadata.Arn, name: tenant key }
"#;

#[test]
fn a_flow_registering_its_key_with_qlik_has_the_policy_checked_before_it_runs() {
    let ran = validate_yaml(REGISTERS);
    assert_eq!(ran.code, 0, "{}", ran.stderr);

    let missing = REGISTERS.replace("kms:Decrypt, kms:GenerateDataKey]", "kms:Decrypt]");
    let ran = validate_yaml(&missing);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("error[missing-action]: step `put_key_policy` registers key `create_key` with Qlik Cloud"), "{}", ran.stderr);
    assert!(ran.stderr.contains("kms:GenerateDataKey"), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("help: add this statement to the policy:"),
        "{}",
        ran.stderr
    );

    let no_condition = REGISTERS.replace(
        "            Condition: { StringEquals: { \"kms:EncryptionContext:TenantId\": \"{{steps.tenant.output.id}}\" } }\n",
        "",
    );
    let ran = validate_yaml(&no_condition);
    assert!(
        ran.stderr.contains("error[missing-tenant-condition]"),
        "{}",
        ran.stderr
    );

    let gov = REGISTERS.replace("region: eu-west-1", "region: us-gov-west-1");
    let ran = validate_yaml(&gov);
    assert!(
        ran.stderr.contains("error[wrong-partition]"),
        "{}",
        ran.stderr
    );

    // Without the registration the same policy is nobody's business but the flow's.
    let unregistered = missing
        .split("  - id: provider")
        .next()
        .unwrap_or_default()
        .to_string();
    let ran = validate_yaml(&unregistered);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
}
