//! Key policies: put as a mapping or as text, read back; bad JSON, size, the lockout bypass.

use crate::aws_kms::{flow, moto, refused};
use crate::harness::{flow_file, path_str, step};

#[test]
fn a_policy_given_as_a_mapping_or_as_text_is_put_and_read_back() {
    let Some(moto) = moto() else { return };
    let report = moto.succeed(&flow(
        r#"steps:
  - id: key
    block: aws-kms.create-key
  - id: put_mapping
    block: aws-kms.put-key-policy
    with:
      key_id: $.steps.key.output.KeyMetadata.KeyId
      policy:
        Version: "2012-10-17"
        Statement:
          - Sid: Enable IAM User Permissions
            Effect: Allow
            Principal: { AWS: "arn:aws:iam::123456789012:root" }
            Action: "kms:*"
            Resource: "*"
          - Sid: "Key {{steps.key.output.KeyMetadata.KeyId}}"
            Effect: Allow
            Principal: { AWS: "arn:aws:iam::338144066592:role/qlik" }
            Action: [kms:Encrypt, kms:Decrypt]
            Resource: "*"
  - id: mapping
    block: aws-kms.get-key-policy
    after: put_mapping
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: put_text
    block: aws-kms.put-key-policy
    after: mapping
    with:
      key_id: $.steps.key.output.KeyMetadata.Arn
      policy: '{"Version": "2012-10-17", "Statement": [{"Sid": "text", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]}'
  - id: text
    block: aws-kms.get-key-policy
    after: put_text
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, policy_name: default }
"#,
    ));
    let key_id = step(&report, "key")["output"]["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let read = |id: &str| -> serde_json::Value {
        let output = &step(&report, id)["output"];
        assert_eq!(output["PolicyName"], "default");
        serde_json::from_str(output["Policy"].as_str().unwrap_or_default())
            .expect("the policy is JSON text")
    };
    let mapping = read("mapping");
    assert_eq!(
        mapping["Statement"][1]["Sid"],
        format!("Key {key_id}"),
        "templates inside a policy are resolved"
    );
    assert_eq!(
        mapping["Statement"][1]["Action"],
        serde_json::json!(["kms:Encrypt", "kms:Decrypt"])
    );
    assert_eq!(read("text")["Statement"][0]["Sid"], "text");
}

#[test]
fn invalid_and_oversize_policies_are_refused_before_any_call() {
    let Some(moto) = moto() else { return };
    let big = "x".repeat(33 * 1024);
    let yaml = flow(&format!(
        r#"steps:
  - id: key
    block: aws-kms.create-key
  - id: not_json
    block: aws-kms.put-key-policy
    on_error: continue
    with: {{ key_id: $.steps.key.output.KeyMetadata.KeyId, policy: '{{"Version": "2012-10-17", "Statement": [' }}
  - id: no_statement
    block: aws-kms.put-key-policy
    on_error: continue
    with: {{ key_id: $.steps.key.output.KeyMetadata.KeyId, policy: {{ Version: "2012-10-17" }} }}
  - id: too_big
    block: aws-kms.put-key-policy
    on_error: continue
    with: {{ key_id: $.steps.key.output.KeyMetadata.KeyId, policy: {{ Statement: [], Pad: "{big}" }} }}
"#
    ));
    let (code, report, _) = moto.run(&yaml, &[]);
    assert_eq!(code, 0, "{report:#}");
    let message = |id: &str| refused(&report, id);
    assert!(message("not_json").contains("`policy` is not valid JSON"));
    assert!(message("no_statement").contains("has no `Statement`"));
    assert!(message("too_big").contains("AWS accepts at most 32768 (32 KiB)"));
}

#[test]
fn bypassing_the_lockout_check_needs_confirmation_and_permission() {
    let Some(moto) = moto() else { return };
    let steps = |confirm: &str| {
        flow(&format!(
            r#"steps:
  - id: key
    block: aws-kms.create-key
  - id: put
    block: aws-kms.put-key-policy
{confirm}    with:
      key_id: $.steps.key.output.KeyMetadata.KeyId
      bypass_policy_lockout_safety_check: true
      policy: {{ Version: "2012-10-17", Statement: [{{ Effect: Allow, Principal: {{ AWS: "arn:aws:iam::123456789012:root" }}, Action: "kms:*", Resource: "*" }}] }}
"#
        ))
    };
    let (_dir, path) = flow_file(&steps(""));
    let ran = moto.keyflow(&["validate", path_str(&path)]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("sets `bypass_policy_lockout_safety_check` of `aws-kms.put-key-policy`, which makes the call destructive, without `confirm: true`"), "{}", ran.stderr);

    let confirmed = steps("    confirm: true\n");
    let (code, report, stderr) = moto.run(&confirmed, &[]);
    assert_ne!(code, 0, "ran without --allow-destructive: {report:#}");
    assert!(
        stderr.contains("--allow-destructive")
            || report.to_string().contains("--allow-destructive"),
        "{stderr}\n{report:#}"
    );
    let report = moto.succeed(&confirmed);
    assert_eq!(step(&report, "put")["status"], "succeeded");
}
