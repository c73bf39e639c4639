//! Keys: create, describe, update the description, disable, enable, schedule and cancel deletion, list.

use serde_json::json;

use crate::aws_kms::{flow, moto};
use crate::harness::{flow_file, path_str, step};

#[test]
fn a_key_goes_through_its_whole_lifecycle() {
    let Some(moto) = moto() else { return };
    let report = moto.succeed(&flow(
        r#"steps:
  - id: create_key
    block: aws-kms.create-key
    with: { description: lifecycle, tags: { team: data } }
  - id: describe
    block: aws-kms.update-key-description
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId, description: renamed }
  - id: renamed
    block: aws-kms.describe-key
    after: describe
    with: { key_id: $.steps.create_key.output.KeyMetadata.Arn }
  - id: disable
    block: aws-kms.disable-key
    after: renamed
    confirm: true
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId }
  - id: disabled
    block: aws-kms.describe-key
    after: disable
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId }
  - id: enable
    block: aws-kms.enable-key
    after: disabled
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId }
  - id: enabled
    block: aws-kms.describe-key
    after: enable
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId }
  - id: schedule
    block: aws-kms.schedule-key-deletion
    after: enabled
    confirm: true
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId, pending_window_in_days: 7 }
  - id: pending
    block: aws-kms.describe-key
    after: schedule
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId }
  - id: cancel
    block: aws-kms.cancel-key-deletion
    after: pending
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId }
  - id: cancelled
    block: aws-kms.describe-key
    after: cancel
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId }
"#,
    ));
    let metadata = |id: &str| step(&report, id)["output"]["KeyMetadata"].clone();
    let key_id = metadata("create_key")["KeyId"].clone();
    assert_eq!(step(&report, "describe")["output"], json!({}));
    assert_eq!(metadata("renamed")["Description"], "renamed");
    assert_eq!(metadata("renamed")["KeyId"], key_id);
    assert_eq!(metadata("disabled")["KeyState"], "Disabled");
    assert_eq!(metadata("disabled")["Enabled"], false);
    assert_eq!(metadata("enabled")["KeyState"], "Enabled");

    let scheduled = &step(&report, "schedule")["output"];
    // moto answers KeyId and DeletionDate only; AWS adds KeyState and PendingWindowInDays (the `pending`
    // step reads the state instead).
    assert!(
        scheduled["KeyId"]
            .as_str()
            .is_some_and(|k| k.ends_with(key_id.as_str().unwrap_or("?"))),
        "{scheduled}"
    );
    assert!(
        scheduled["DeletionDate"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z')),
        "{scheduled}"
    );
    assert_eq!(metadata("pending")["KeyState"], "PendingDeletion");
    assert!(metadata("pending")["DeletionDate"].is_string());

    assert!(
        step(&report, "cancel")["output"]["KeyId"]
            .as_str()
            .is_some_and(|k| k.ends_with(key_id.as_str().unwrap_or("?")))
    );
    // AWS brings a key whose deletion is cancelled back disabled.
    assert_eq!(metadata("cancelled")["KeyState"], "Disabled");
}

#[test]
fn list_keys_returns_every_key_and_the_limit_caps_the_total() {
    let Some(moto) = moto() else { return };
    let report = moto.succeed(&flow(
        r#"steps:
  - id: create_key
    block: aws-kms.create-key
    for_each: [a, b, c]
    with: { description: "key {{item}}" }
  - id: all
    block: aws-kms.list-keys
    after: create_key
  - id: two
    block: aws-kms.list-keys
    after: create_key
    with: { limit: 2 }
"#,
    ));
    let created: Vec<&str> = step(&report, "create_key")["output"]
        .as_array()
        .expect("one output per item")
        .iter()
        .filter_map(|o| o["KeyMetadata"]["KeyId"].as_str())
        .collect();
    assert_eq!(created.len(), 3);
    let listed = step(&report, "all")["output"]["Keys"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ids: Vec<&str> = listed.iter().filter_map(|k| k["KeyId"].as_str()).collect();
    for id in &created {
        assert!(ids.contains(id), "{id} not listed in {listed:?}");
    }
    assert!(listed.iter().all(|k| {
        k["KeyArn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:kms:eu-west-1:"))
    }));
    // moto ignores `Limit` and answers with every key: the block still returns no more than asked.
    assert_eq!(
        step(&report, "two")["output"]["Keys"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn incompatible_key_spec_and_usage_fail_before_any_call() {
    let Some(moto) = moto() else { return };
    let (code, report, _) = moto.run(
        &flow(
            r#"steps:
  - id: create_key
    block: aws-kms.create-key
    with: { key_spec: HMAC_256, key_usage: ENCRYPT_DECRYPT }
"#,
        ),
        &[],
    );
    assert_eq!(code, 1);
    let error = &step(&report, "create_key")["error"];
    assert_eq!(error["code"], "InvalidInput");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("GENERATE_VERIFY_MAC")),
        "{error}"
    );
    // Nothing reached AWS: there is no key.
    let listed = moto
        .run(
            &flow("steps:\n  - id: keys\n    block: aws-kms.list-keys\n"),
            &[],
        )
        .1;
    assert_eq!(step(&listed, "keys")["output"]["Keys"], json!([]));
}

#[test]
fn destructive_key_blocks_need_confirmation_before_anything_runs() {
    let Some(moto) = moto() else { return };
    let yaml = flow(
        r#"steps:
  - id: create_key
    block: aws-kms.create-key
  - id: disable
    block: aws-kms.disable-key
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId }
  - id: schedule
    block: aws-kms.schedule-key-deletion
    with: { key_id: $.steps.create_key.output.KeyMetadata.KeyId, pending_window_in_days: 3 }
"#,
    );
    let (_dir, path) = flow_file(&yaml);
    let ran = moto.keyflow(&["run", path_str(&path)]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "step `disable` calls destructive block `aws-kms.disable-key` without `confirm: true`"
        ),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("step `schedule` calls destructive block"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("input `pending_window_in_days` expects at least 7, found `3`"),
        "{}",
        ran.stderr
    );
    let listed = moto
        .run(
            &flow("steps:\n  - id: keys\n    block: aws-kms.list-keys\n"),
            &[],
        )
        .1;
    assert_eq!(
        step(&listed, "keys")["output"]["Keys"],
        json!([]),
        "an invalid flow created a key"
    );
}
