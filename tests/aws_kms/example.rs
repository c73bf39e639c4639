//! `flows/kms-tenant-key.yaml`, the AWS half of a Qlik Cloud BYOK set-up, end to end against moto.

use super::{flow, moto};
use crate::harness::step;

#[test]
fn the_tenant_key_flow_creates_a_working_key_with_qlik_policy_alias_and_rotation() {
    let Some(moto) = moto() else { return };
    let ran = moto.keyflow(&[
        "run",
        "flows/kms-tenant-key.yaml",
        "--param",
        "tenant_id=t-42",
        "--output",
        "json",
        "-q",
    ]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON report");
    let arn = report["outputs"]["key_arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        arn.starts_with("arn:aws:kms:eu-west-1:123456789012:key/"),
        "{report:#}"
    );
    assert_eq!(report["outputs"]["alias"], "alias/qlik/t-42");
    assert_eq!(report["outputs"]["key_state"], "Enabled");
    assert_eq!(
        step(&report, "data_key")["output"]["Plaintext"],
        "<redacted>"
    );

    // What the flow left behind, read by another flow.
    let after = moto.succeed(&flow(
        r#"steps:
  - id: policy
    block: aws-kms.get-key-policy
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: tags
    block: aws-kms.list-tags
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: key
    block: aws-kms.describe-key
    with: { key_id: alias/qlik/t-42 }
  - id: rotation
    block: aws-kms.get-key-rotation-status
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
"#,
    ));
    assert_eq!(
        step(&after, "key")["output"]["KeyMetadata"]["Arn"],
        arn.as_str()
    );
    let policy: serde_json::Value = serde_json::from_str(
        step(&after, "policy")["output"]["Policy"]
            .as_str()
            .unwrap_or_default(),
    )
    .expect("policy JSON");
    let statements = policy["Statement"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        statements[0]["Principal"]["AWS"],
        "arn:aws:iam::123456789012:root"
    );
    assert_eq!(
        statements[1]["Principal"]["AWS"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(
        statements[1]["Condition"]["StringEquals"]["kms:EncryptionContext:TenantId"],
        serde_json::json!(["t-42"])
    );
    let tags = step(&after, "tags")["output"]["Tags"].to_string();
    assert!(
        tags.contains(r#"{"TagKey":"qlik-tenant","TagValue":"t-42"}"#),
        "{tags}"
    );
    assert_eq!(
        step(&after, "rotation")["output"]["KeyRotationEnabled"],
        true
    );
}
