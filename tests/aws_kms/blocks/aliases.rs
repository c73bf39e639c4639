//! Aliases: create, list, move to another key, delete; a taken name, a malformed or reserved one.

use serde_json::json;

use crate::aws_kms::{flow, moto, refused};
use crate::harness::{flow_file, path_str, step};

#[test]
fn an_alias_is_created_listed_moved_and_deleted() {
    let Some(moto) = moto() else { return };
    let report = moto.succeed(&flow(
        r#"steps:
  - id: old
    block: aws-kms.create-key
  - id: new
    block: aws-kms.create-key
  - id: create_alias
    block: aws-kms.create-alias
    with: { alias_name: alias/qlik/tenant-1, target_key_id: $.steps.old.output.KeyMetadata.KeyId }
  - id: before
    block: aws-kms.list-aliases
    after: create_alias
    with: { key_id: $.steps.old.output.KeyMetadata.KeyId }
  - id: move
    block: aws-kms.update-alias
    after: before
    with: { alias_name: alias/qlik/tenant-1, target_key_id: $.steps.new.output.KeyMetadata.Arn }
  - id: after_move
    block: aws-kms.list-aliases
    after: move
  - id: by_alias
    block: aws-kms.describe-key
    after: move
    with: { key_id: alias/qlik/tenant-1 }
  - id: delete
    block: aws-kms.delete-alias
    after: by_alias
    confirm: true
    with: { alias_name: alias/qlik/tenant-1 }
  - id: after_delete
    block: aws-kms.list-aliases
    after: delete
    with: { key_id: $.steps.new.output.KeyMetadata.KeyId }
"#,
    ));
    let key = |id: &str| step(&report, id)["output"]["KeyMetadata"]["KeyId"].clone();
    assert_eq!(step(&report, "create_alias")["output"], json!({}));
    let before = &step(&report, "before")["output"]["Aliases"];
    assert_eq!(before.as_array().map(Vec::len), Some(1), "{before}");
    assert_eq!(before[0]["AliasName"], "alias/qlik/tenant-1");
    assert_eq!(before[0]["TargetKeyId"], key("old"));
    assert!(
        before[0]["AliasArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":alias/qlik/tenant-1")),
        "{before}"
    );

    let moved: Vec<_> = step(&report, "after_move")["output"]["Aliases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["AliasName"] == "alias/qlik/tenant-1")
        .collect();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["TargetKeyId"], key("new"));
    assert_eq!(key("by_alias"), key("new"));
    assert_eq!(
        step(&report, "after_delete")["output"]["Aliases"],
        json!([])
    );
}

#[test]
fn a_taken_alias_name_is_an_already_exists_error_that_is_not_retried() {
    let Some(moto) = moto() else { return };
    let (code, report, _) = moto.run(
        &flow(
            r#"steps:
  - id: key
    block: aws-kms.create-key
  - id: other
    block: aws-kms.create-key
  - id: first
    block: aws-kms.create-alias
    with: { alias_name: alias/taken, target_key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: second
    block: aws-kms.create-alias
    after: first
    retry: { attempts: 3, backoff: 10ms }
    with: { alias_name: alias/taken, target_key_id: $.steps.other.output.KeyMetadata.KeyId }
"#,
        ),
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(step(&report, "first")["status"], "succeeded");
    let failed = step(&report, "second");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["attempts"], 1);
    assert_eq!(failed["error"]["code"], "AlreadyExistsException");
    assert_eq!(failed["error"]["retryable"], false);
    assert!(
        failed["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("CreateAlias: ") && m.contains("alias/taken")),
        "{failed}"
    );
}

#[test]
fn malformed_alias_names_are_caught_when_the_flow_is_checked() {
    let Some(moto) = moto() else { return };
    let yaml = flow(
        r#"steps:
  - id: key
    block: aws-kms.create-key
  - id: alias
    block: aws-kms.create-alias
    with: { alias_name: qlik-tenant-1, target_key_id: $.steps.key.output.KeyMetadata.KeyId }
"#,
    );
    let (_dir, path) = flow_file(&yaml);
    let ran = moto.keyflow(&["run", path_str(&path)]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("input `alias_name` expects a string matching `^alias/"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains(":9:25"),
        "points at the value: {}",
        ran.stderr
    );
}

#[test]
fn reserved_and_computed_bad_alias_names_are_refused_before_any_call() {
    let Some(moto) = moto() else { return };
    let (code, report, _) = moto.run(
        &flow(
            r#"params:
  tenant: { type: string, default: "tenant 1" }
steps:
  - id: key
    block: aws-kms.create-key
  - id: reserved
    block: aws-kms.create-alias
    on_error: continue
    with: { alias_name: alias/aws/qlik, target_key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: computed
    block: aws-kms.create-alias
    on_error: continue
    with: { alias_name: "alias/{{params.tenant}}", target_key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: aliases
    block: aws-kms.list-aliases
    after: [reserved, computed]
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
"#,
        ),
        &[],
    );
    assert_eq!(code, 0, "{report:#}");
    assert!(refused(&report, "reserved").contains("reserved for AWS managed keys"));
    assert!(refused(&report, "computed").contains("` ` is not allowed"));
    assert_eq!(step(&report, "aliases")["output"]["Aliases"], json!([]));
}
