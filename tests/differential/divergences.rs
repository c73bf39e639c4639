//! The documented divergences (listed at the top of `differential.rs`): each case goes to both peers, the
//! twin is held to what AWS documents, and what moto does is recorded (printed), not asserted. A flow
//! carries the case where keyflow's blocks make the call. Where they do not (a block refuses a 3-day
//! window before any call, and reads every page, so a page's size never shows), aws-sdk-kms carries it,
//! as any other client of the peers would.

use aws_sdk_kms::Client;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use keyflow_twins::aws_kms::{DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY};
use serde_json::Value;

use super::{Peers, Side, peers};
use crate::harness::step;

/// The head of the divergence flows.
const HEAD: &str = "name: divergence
connections:
  aws: { connector: aws-kms, region: eu-west-1 }
steps:
";

/// Runs `steps` against both peers; asserts that the twin's step `id` failed with `code`, as AWS's
/// does; records what moto's did. Gives the twin's report.
fn twin_fails_as_aws(peers: &Peers, case: &str, steps: &str, id: &str, code: &str) -> Value {
    let reports = peers.run_yaml(&format!("{HEAD}{steps}"), &["--allow-destructive"]);
    let (moto, twin) = (reports.moto.1, reports.twin.1);
    let error = &step(&twin, id)["error"];
    assert_eq!(step(&twin, id)["status"], "failed", "{twin:#}");
    assert_eq!(error["code"], code, "{twin:#}");
    let moto = step(&moto, id);
    let did = match moto["error"]["code"].as_str() {
        Some(code) => format!("{} with {code}", moto["status"]),
        None => moto["status"].to_string(),
    };
    record(case, code, did);
    twin
}

/// Prints what moto did where AWS, and the twin, do `aws`.
pub(super) fn record(case: &str, aws: &str, moto: impl std::fmt::Display) {
    println!("divergence: {case}: AWS (and the twin) {aws}; moto {moto}");
}

#[test]
fn a_disabled_key_cannot_encrypt_or_make_data_keys() {
    let Some(peers) = peers() else { return };
    let steps = "  - { id: key, block: aws-kms.create-key }
  - id: disable
    block: aws-kms.disable-key
    confirm: true
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: encrypt
    block: aws-kms.encrypt
    after: disable
    on_error: continue
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, plaintext: aGVsbG8= }
  - id: data_key
    block: aws-kms.generate-data-key
    after: disable
    on_error: continue
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, key_spec: AES_256 }
";
    let case = "Encrypt and GenerateDataKey with a disabled key";
    let twin = twin_fails_as_aws(&peers, case, steps, "encrypt", "DisabledException");
    assert_eq!(
        step(&twin, "data_key")["error"]["code"],
        "DisabledException"
    );
    assert_eq!(step(&twin, "data_key")["error"]["retryable"], false);
}

#[test]
fn a_policy_statement_with_an_effect_that_is_not_allow_or_deny_is_refused() {
    let Some(peers) = peers() else { return };
    let steps = r#"  - { id: key, block: aws-kms.create-key }
  - id: put
    block: aws-kms.put-key-policy
    on_error: continue
    with:
      key_id: $.steps.key.output.KeyMetadata.KeyId
      policy: { Version: "2012-10-17", Statement: [{ Effect: Maybe, Principal: "*", Action: "kms:*", Resource: "*" }] }
"#;
    let case = "PutKeyPolicy with `Effect: Maybe`";
    twin_fails_as_aws(
        &peers,
        case,
        steps,
        "put",
        "MalformedPolicyDocumentException",
    );
}

#[test]
fn a_single_region_key_cannot_be_replicated() {
    let Some(peers) = peers() else { return };
    let steps = "  - { id: key, block: aws-kms.create-key }
  - id: replicate
    block: aws-kms.replicate-key
    on_error: continue
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, replica_region: eu-west-3 }
";
    let case = "ReplicateKey of a single-Region key";
    let code = "UnsupportedOperationException";
    let twin = twin_fails_as_aws(&peers, case, steps, "replicate", code);
    assert_eq!(step(&twin, "replicate")["error"]["retryable"], false);
}

#[test]
fn a_replica_is_a_replica_key_with_the_description_and_policy_asked_for() {
    let Some(peers) = peers() else { return };
    let flow = r#"name: replica
connections:
  aws: { connector: aws-kms, region: eu-west-1 }
  aws_dr: { connector: aws-kms, region: eu-west-3 }
steps:
  - { id: key, block: aws-kms.create-key, connection: aws, with: { multi_region: true, description: primary } }
  - id: replicate
    block: aws-kms.replicate-key
    connection: aws
    with:
      key_id: $.steps.key.output.KeyMetadata.KeyId
      replica_region: eu-west-3
      description: disaster recovery
      policy: { Version: "2012-10-17", Statement: [{ Sid: replica, Effect: Allow, Principal: { AWS: "arn:aws:iam::{{steps.key.output.KeyMetadata.AWSAccountId}}:root" }, Action: "kms:*", Resource: "*" }] }
  - id: replica
    block: aws-kms.describe-key
    connection: aws_dr
    after: replicate
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: policy
    block: aws-kms.get-key-policy
    connection: aws_dr
    after: replicate
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, policy_name: default }
"#;
    let reports = peers.run_yaml(flow, &[]);
    reports.assert_both_succeeded("replica");
    let (moto, twin) = (reports.moto.1, reports.twin.1);
    let answered = &step(&twin, "replicate")["output"]["ReplicaKeyMetadata"];
    let described = &step(&twin, "replica")["output"]["KeyMetadata"];
    for metadata in [answered, described] {
        let kind = &metadata["MultiRegionConfiguration"]["MultiRegionKeyType"];
        assert_eq!(kind, "REPLICA", "{metadata:#}");
        assert_eq!(metadata["Description"], "disaster recovery", "{metadata:#}");
    }
    let policy = &step(&twin, "policy")["output"]["Policy"];
    let policy: Value = serde_json::from_str(policy.as_str().unwrap_or_default()).expect("JSON");
    assert_eq!(policy["Statement"][0]["Sid"], "replica", "{policy:#}");
    let answered = &step(&moto, "replicate")["output"]["ReplicaKeyMetadata"];
    let described = &step(&moto, "replica")["output"]["KeyMetadata"];
    for (case, metadata) in [("ReplicateKey", answered), ("DescribeKey", described)] {
        let kind = &metadata["MultiRegionConfiguration"]["MultiRegionKeyType"];
        let description = &metadata["Description"];
        let case = format!("{case} of the new replica");
        let aws = r#"REPLICA, "disaster recovery""#;
        record(&case, aws, format!("{kind}, {description}"));
    }
    let policy = &step(&moto, "policy")["output"]["Policy"];
    record(
        "GetKeyPolicy of the new replica",
        "the policy asked for",
        policy,
    );
}

/// A client of one peer in eu-west-1, without retries.
pub(super) fn sdk(peers: &Peers, side: Side) -> Client {
    let (url, key, secret) = match side {
        Side::Moto => (peers.moto.url.as_str(), "testing", "testing"),
        Side::Twin => (
            peers.kms.url.as_str(),
            DEFAULT_ACCESS_KEY_ID,
            DEFAULT_SECRET_ACCESS_KEY,
        ),
    };
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(key, secret, None, None, "differential"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

#[test]
fn a_deletion_window_shorter_than_seven_days_is_refused() {
    let Some(peers) = peers() else { return };
    let outcome = |side| {
        let kms = sdk(&peers, side);
        peers.block_on(async {
            let key = kms.create_key().send().await.expect("CreateKey");
            let id = key.key_metadata().map(|m| m.key_id().to_string());
            let scheduled = kms
                .schedule_key_deletion()
                .set_key_id(id)
                .pending_window_in_days(3)
                .send()
                .await;
            match scheduled {
                Ok(answer) => format!("accepted it ({answer:?})"),
                Err(e) => format!("refused it: {:?}", e.into_service_error().meta().code()),
            }
        })
    };
    let twin = outcome(Side::Twin);
    assert!(
        twin.starts_with(r#"refused it: Some("ValidationException")"#),
        "{twin}"
    );
    let case = "ScheduleKeyDeletion with a 3-day window";
    record(case, "ValidationException", outcome(Side::Moto));
}

#[test]
fn list_keys_answers_at_most_limit_keys_a_page() {
    let Some(peers) = peers() else { return };
    let outcome = |side| {
        let kms = sdk(&peers, side);
        peers.block_on(async {
            for _ in 0..3 {
                kms.create_key().send().await.expect("CreateKey");
            }
            let page = kms.list_keys().limit(1).send().await.expect("ListKeys");
            (
                page.keys().len(),
                page.truncated(),
                page.next_marker().is_some(),
            )
        })
    };
    assert_eq!(
        outcome(Side::Twin),
        (1, true, true),
        "keys, truncated, marker"
    );
    let (keys, truncated, marker) = outcome(Side::Moto);
    record(
        "ListKeys with Limit 1 of 3 keys",
        "1 key, Truncated, a NextMarker",
        format!("{keys} keys, Truncated {truncated}, NextMarker {marker}"),
    );
}
