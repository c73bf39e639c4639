//! Every Qlik Cloud block in flows against the twin: register, inspect, rename, validate, migrate to a
//! key and back to Qlik's, delete.

use serde_json::json;

use super::{TENANT, config, flow, twin};
use crate::harness::step;

const ARN: &str = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";

#[test]
fn a_key_provider_is_registered_inspected_renamed_validated_and_migrated_to() {
    let twin = twin(config());
    let report = twin.succeed(&flow(&format!(
        r#"steps:
  - id: tenant
    block: qlik-cloud.get-tenant-info
  - id: before
    block: qlik-cloud.list-key-providers
  - id: create
    block: qlik-cloud.create-key-provider
    after: before
    with: {{ arn: "{ARN}", name: CMK - 01, description: "for {{{{steps.tenant.output.id}}}}" }}
  - id: aws_only
    block: qlik-cloud.list-key-providers
    after: create
    with: {{ aws_only: true }}
  - id: rename
    block: qlik-cloud.update-key-provider
    with: {{ fingerprint: $.steps.create.output.arnFingerPrint, name: CMK - renamed }}
  - id: renamed
    block: qlik-cloud.get-key-provider
    after: rename
    with: {{ fingerprint: $.steps.create.output.arnFingerPrint }}
  - id: validate
    block: qlik-cloud.validate-key-provider
    after: renamed
    with: {{ fingerprint: $.steps.create.output.arnFingerPrint }}
  - id: migrate
    block: qlik-cloud.trigger-migration
    after: validate
    with: {{ fingerprint: $.steps.create.output.arnFingerPrint }}
  - id: wait
    block: qlik-cloud.get-migration-details
    after: migrate
    until: {{ condition: {{ path: $.output.state, equals: Completed }}, every: 100ms, timeout: 20s }}
  - id: after
    block: qlik-cloud.list-key-providers
    after: wait
outputs:
  fingerprint: $.steps.create.output.arnFingerPrint
  migration: $.steps.migrate.output.id
  current: $.steps.after.output[?@.current == true].arnFingerPrint
"#
    )));
    let tenant = &step(&report, "tenant")["output"];
    assert_eq!(tenant["id"], TENANT);
    assert_eq!(tenant["datacenter"], "eu-west-1");
    assert_eq!(tenant["hostnames"], json!(["acme.eu.qlikcloud.com"]));

    let before = step(&report, "before")["output"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(before.len(), 1, "only Qlik's provider: {before:?}");
    assert_eq!(before[0]["keyprovider"], "Qlik");
    assert_eq!(before[0]["arnFingerPrint"], TENANT);
    assert_eq!(before[0]["current"], true);

    let created = &step(&report, "create")["output"];
    let fingerprint = created["arnFingerPrint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(fingerprint.len(), 32, "{created}");
    assert!(fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(created["arn"], ARN);
    assert_eq!(created["keyprovider"], "AWS-KMS");
    assert_eq!(created["description"], format!("for {TENANT}"));
    assert_eq!(created["current"], false);
    assert!(
        created.get("promotedToCurrentAt").is_none(),
        "zero time read as absent: {created}"
    );
    assert_eq!(
        step(&report, "aws_only")["output"].as_array().map(Vec::len),
        Some(1)
    );

    assert_eq!(step(&report, "rename")["output"], json!({}));
    assert_eq!(step(&report, "renamed")["output"]["name"], "CMK - renamed");
    assert_eq!(
        step(&report, "validate")["output"]["arnFingerPrint"],
        fingerprint.as_str()
    );

    let migration = &step(&report, "migrate")["output"];
    assert!(
        !migration["id"].as_str().unwrap_or_default().is_empty(),
        "{migration}"
    );
    assert_eq!(migration["migratingToFingerprint"], fingerprint.as_str());
    assert_eq!(migration["migratingTo"], ARN);
    assert!(
        migration["state"] == "New" || migration["state"] == "InProgress",
        "{migration}"
    );
    let waited = step(&report, "wait");
    assert_eq!(waited["output"]["state"], "Completed");
    assert_eq!(waited["output"]["progress"], 100.0);
    assert!(waited["output"]["completedAt"].is_string());
    assert!(
        waited["attempts"].as_u64().unwrap_or_default() >= 2,
        "polled: {waited}"
    );

    assert_eq!(report["outputs"]["current"], json!([fingerprint]));
    let after = step(&report, "after")["output"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let qlik = after
        .iter()
        .find(|p| p["keyprovider"] == "Qlik")
        .expect("Qlik's provider");
    assert_eq!(qlik["current"], false);
    assert!(qlik["demotedFromCurrentAt"].is_string(), "{qlik}");
}

#[test]
fn a_tenant_goes_back_to_qliks_provider_and_the_old_key_provider_is_deleted() {
    let twin = twin(config());
    let report = twin.succeed(&flow(&format!(
        r#"steps:
  - id: already
    block: qlik-cloud.reset-to-qlik-provider
    confirm: true
  - id: create
    block: qlik-cloud.create-key-provider
    after: already
    with: {{ arn: "{ARN}", name: CMK }}
  - id: migrate
    block: qlik-cloud.trigger-migration
    with: {{ fingerprint: $.steps.create.output.arnFingerPrint }}
  - id: migrated
    block: qlik-cloud.get-migration-details
    after: migrate
    until: {{ condition: {{ path: $.output.state, equals: Completed }}, every: 100ms, timeout: 20s }}
  - id: reset
    block: qlik-cloud.reset-to-qlik-provider
    after: migrated
    confirm: true
  - id: back
    block: qlik-cloud.get-migration-details
    after: reset
    until: {{ condition: {{ path: $.output.state, equals: Completed }}, every: 100ms, timeout: 20s }}
  - id: delete
    block: qlik-cloud.delete-key-provider
    after: back
    confirm: true
    with: {{ fingerprint: $.steps.create.output.arnFingerPrint }}
  - id: left
    block: qlik-cloud.list-key-providers
    after: delete
"#
    )));
    let already = &step(&report, "already")["output"];
    assert_eq!(already["migrationStarted"], false);
    assert!(
        already["message"]
            .as_str()
            .is_some_and(|m| m.contains("already using Qlik")),
        "{already}"
    );
    let reset = &step(&report, "reset")["output"];
    assert_eq!(reset["migrationStarted"], true, "{reset}");
    assert_eq!(
        reset["migration"]["migratingTo"],
        "#QLIK_MANAGED_KEY_PROVIDER#"
    );
    assert_eq!(
        step(&report, "back")["output"]["migratingTo"],
        "#QLIK_MANAGED_KEY_PROVIDER#"
    );
    // 204 carries no body over HTTP, whatever Qlik's documentation shows: the output is `{}` then.
    let deleted = &step(&report, "delete")["output"];
    assert!(
        deleted
            .get("message")
            .is_none_or(|m| m.as_str().is_some_and(|m| m.contains("deleted"))),
        "{deleted}"
    );
    let left = step(&report, "left")["output"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["keyprovider"], "Qlik");
    assert_eq!(left[0]["current"], true);
}
