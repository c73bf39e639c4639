//! Multi-Region keys: a primary replicated into another region.

use crate::aws_kms::{flow, moto};
use crate::harness::step;

#[test]
fn a_multi_region_key_is_replicated_into_another_region() {
    let Some(moto) = moto() else { return };
    let report = moto.succeed(&flow(
        r#"steps:
  - id: primary
    block: aws-kms.create-key
    with: { multi_region: true, description: primary }
  - id: replica
    block: aws-kms.replicate-key
    with:
      key_id: $.steps.primary.output.KeyMetadata.KeyId
      replica_region: eu-central-1
      description: disaster recovery
      tags: { role: dr }
  - id: described
    block: aws-kms.describe-key
    after: replica
    with: { key_id: $.steps.primary.output.KeyMetadata.KeyId }
"#,
    ));
    let primary = &step(&report, "primary")["output"]["KeyMetadata"];
    assert_eq!(primary["MultiRegion"], true);
    assert!(
        primary["KeyId"]
            .as_str()
            .is_some_and(|k| k.starts_with("mrk-")),
        "{primary}"
    );
    let replica = &step(&report, "replica")["output"];
    let metadata = &replica["ReplicaKeyMetadata"];
    assert_eq!(
        metadata["KeyId"], primary["KeyId"],
        "a replica keeps the primary's key id"
    );
    assert!(
        metadata["Arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:kms:eu-central-1:")),
        "{metadata}"
    );
    // moto ignores Description, Tags and Policy of ReplicateKey and answers no ReplicaTags; AWS applies
    // them. It also needs the key id: given an ARN it fails with HTTP 500.
    assert_eq!(replica["ReplicaTags"], serde_json::json!([]));
    let configuration =
        &step(&report, "described")["output"]["KeyMetadata"]["MultiRegionConfiguration"];
    assert_eq!(configuration["MultiRegionKeyType"], "PRIMARY");
    let regions: Vec<&str> = configuration["ReplicaKeys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["Region"].as_str())
        .collect();
    assert_eq!(regions, ["eu-central-1"]);
}

#[test]
fn a_replica_in_the_keys_own_region_is_refused_before_any_call() {
    let Some(moto) = moto() else { return };
    let (code, report, _) = moto.run(
        &flow(
            r#"steps:
  - id: primary
    block: aws-kms.create-key
    with: { multi_region: true }
  - id: replica
    block: aws-kms.replicate-key
    with: { key_id: $.steps.primary.output.KeyMetadata.KeyId, replica_region: eu-west-1 }
"#,
        ),
        &[],
    );
    assert_eq!(code, 1);
    let error = &step(&report, "replica")["error"];
    assert_eq!(error["code"], "InvalidInput");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("the region of the key itself")),
        "{error}"
    );
}
