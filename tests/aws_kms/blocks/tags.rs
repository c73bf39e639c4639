//! Tags: add (and overwrite), list, delete; reserved keys.

use serde_json::json;

use crate::aws_kms::{flow, moto, refused};
use crate::harness::step;

/// The tags step `id` listed, sorted, but for the one `create-key` always writes
/// (`keyflow:idempotency-key`, checked in `tests/recovery`).
fn tags(report: &serde_json::Value, id: &str) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = step(report, id)["output"]["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["TagKey"] != "keyflow:idempotency-key")
        .map(|t| {
            (
                t["TagKey"].as_str().unwrap_or_default().to_string(),
                t["TagValue"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    tags.sort();
    tags
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn tags_are_added_overwritten_listed_and_deleted() {
    let Some(moto) = moto() else { return };
    let report = moto.succeed(&flow(
        r#"steps:
  - id: key
    block: aws-kms.create-key
    with: { tags: { team: data } }
  - id: add
    block: aws-kms.add-tag
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, tags: { team: platform, env: prod, cost-center: "42" } }
  - id: added
    block: aws-kms.list-tags
    after: add
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: first_two
    block: aws-kms.list-tags
    after: add
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, limit: 2 }
  - id: delete
    block: aws-kms.delete-tag
    after: added
    confirm: true
    with: { key_id: $.steps.key.output.KeyMetadata.Arn, tag_keys: [env, cost-center] }
  - id: left
    block: aws-kms.list-tags
    after: delete
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
"#,
    ));
    assert_eq!(step(&report, "add")["output"], json!({}));
    assert_eq!(
        tags(&report, "added"),
        pairs(&[("cost-center", "42"), ("env", "prod"), ("team", "platform")])
    );
    let first_two = step(&report, "first_two")["output"]["Tags"]
        .as_array()
        .map(Vec::len);
    assert_eq!(first_two, Some(2));
    assert_eq!(tags(&report, "left"), pairs(&[("team", "platform")]));
}

#[test]
fn reserved_tag_keys_are_refused_before_any_call() {
    let Some(moto) = moto() else { return };
    let (code, report, _) = moto.run(
        &flow(
            r#"steps:
  - id: key
    block: aws-kms.create-key
  - id: add
    block: aws-kms.add-tag
    on_error: continue
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, tags: { "aws:owner": me } }
  - id: tags
    block: aws-kms.list-tags
    after: add
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
"#,
        ),
        &[],
    );
    assert_eq!(code, 0, "{report:#}");
    let message = refused(&report, "add");
    assert!(
        message.contains("`aws:owner`") && message.contains("reserved"),
        "{message}"
    );
    assert_eq!(tags(&report, "tags"), Vec::new());
}
