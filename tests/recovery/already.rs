//! The "already" answers the create and destructive blocks settle (a repeat of a call that took effect),
//! against the twins and, for the AWS blocks, against moto.

use serde_json::Value;

use super::beside_policies;
use crate::aws_kms::{flow, moto};
use crate::harness::{Ran, path_str, root, step};
use crate::sandbox::bare;

/// Steps that create an alias for a key twice, then once for another key.
const ALIAS_TWICE: &str = "steps:
  - id: key
    block: aws-kms.create-key
  - id: other
    block: aws-kms.create-key
  - id: first
    block: aws-kms.create-alias
    with: { alias_name: alias/recovery/once, target_key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: again
    block: aws-kms.create-alias
    after: first
    with: { alias_name: alias/recovery/once, target_key_id: $.steps.key.output.KeyMetadata.Arn }
  - id: elsewhere
    block: aws-kms.create-alias
    after: again
    with: { alias_name: alias/recovery/once, target_key_id: $.steps.other.output.KeyMetadata.KeyId }
";

fn check_alias_twice(report: &Value) {
    assert_eq!(step(report, "first")["status"], "succeeded", "{report:#}");
    assert_eq!(
        step(report, "again")["status"],
        "succeeded",
        "the same key, named by its ARN: {report:#}"
    );
    let elsewhere = step(report, "elsewhere");
    assert_eq!(elsewhere["status"], "failed", "{report:#}");
    assert_eq!(elsewhere["error"]["code"], "AlreadyExistsException");
}

/// Runs `steps` (YAML from `steps:`) in the sandbox.
fn in_sandbox(steps: &str) -> (i32, Value, String) {
    let (_dir, file) = crate::harness::flow_file(&flow(steps));
    let (ran, report) = crate::sandbox::sandboxed(path_str(&file), &["--allow-destructive"]);
    (ran.code, report, ran.stderr)
}

#[test]
fn an_alias_already_on_the_same_key_is_success_and_on_another_an_error() {
    let (code, report, stderr) = in_sandbox(ALIAS_TWICE);
    assert_eq!(code, 1, "{stderr}");
    check_alias_twice(&report);
    let Some(moto) = moto() else { return };
    let (code, report, stderr) = moto.run(&flow(ALIAS_TWICE), &[]);
    assert_eq!(code, 1, "{stderr}");
    check_alias_twice(&report);
}

/// Steps that schedule a key's deletion twice.
const DELETE_TWICE: &str = "steps:
  - id: key
    block: aws-kms.create-key
  - id: first
    block: aws-kms.schedule-key-deletion
    confirm: true
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, pending_window_in_days: 7 }
  - id: again
    block: aws-kms.schedule-key-deletion
    confirm: true
    after: first
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, pending_window_in_days: 30 }
";

fn check_delete_twice(report: &Value) {
    let (first, again) = (step(report, "first"), step(report, "again"));
    assert_eq!(again["status"], "succeeded", "{report:#}");
    assert_eq!(
        again["output"]["DeletionDate"], first["output"]["DeletionDate"],
        "the date the first call set: {report:#}"
    );
    assert_eq!(again["output"]["KeyState"], "PendingDeletion");
}

#[test]
fn a_key_already_pending_deletion_answers_its_deletion_date() {
    let (code, report, stderr) = in_sandbox(DELETE_TWICE);
    assert_eq!(code, 0, "{stderr}");
    check_delete_twice(&report);
    let Some(moto) = moto() else { return };
    // moto 5.2.5 deviates: it schedules a key already pending deletion again, with the new window, where
    // AWS refuses with KMSInvalidStateException. The second call still succeeds there.
    let (code, report, stderr) = moto.run(&flow(DELETE_TWICE), &["--allow-destructive"]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(step(&report, "again")["status"], "succeeded", "{report:#}");
}

#[test]
fn a_replica_already_made_is_answered_instead_of_refused() {
    let steps = "steps:
  - id: primary
    block: aws-kms.create-key
    with: { multi_region: true }
  - id: first
    block: aws-kms.replicate-key
    with: { key_id: $.steps.primary.output.KeyMetadata.KeyId, replica_region: eu-central-1, tags: { site: dr } }
  - id: again
    block: aws-kms.replicate-key
    after: first
    with: { key_id: $.steps.primary.output.KeyMetadata.Arn, replica_region: eu-central-1 }
";
    let (code, report, stderr) = in_sandbox(steps);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let (first, again) = (step(&report, "first"), step(&report, "again"));
    assert_eq!(
        again["output"]["ReplicaKeyMetadata"]["Arn"],
        first["output"]["ReplicaKeyMetadata"]["Arn"]
    );
    assert_eq!(
        again["output"]["ReplicaTags"], first["output"]["ReplicaTags"],
        "{report:#}"
    );
    assert!(again["output"]["ReplicaPolicy"].is_string(), "{report:#}");
}

#[test]
fn a_key_provider_and_a_migration_already_made_are_answered() {
    // The BYOK flow's steps up to the migration, then the provider and the migration asked for again.
    let byok = std::fs::read_to_string(root().join("flows/byok-tenant-encryption.yaml"))
        .expect("the BYOK flow");
    let (head, _) = byok
        .split_once("  - id: wait_for_migration")
        .expect("the wait step");
    let yaml = format!(
        "{head}  - id: provider_again
    block: qlik-cloud.create-key-provider
    after: migrate
    with:
      arn: $.steps.create_key.output.KeyMetadata.Arn
      name: again
  - id: migrate_again
    block: qlik-cloud.trigger-migration
    after: provider_again
    with: {{ fingerprint: $.steps.create_key_provider.output.arnFingerPrint }}
"
    );
    let (_dir, file) = beside_policies(&yaml);
    // A migration that takes ten minutes is still under way when it is asked for again.
    let ran: Ran = bare()
        .args(["run", path_str(&file), "--sandbox", "--output", "json"])
        .args(["--migration-seconds", "600"])
        .output()
        .expect("run keyflow")
        .into();
    let report: Value = serde_json::from_str(&ran.stdout).unwrap_or(Value::Null);
    assert_eq!(ran.code, 0, "{report:#}\n{}", ran.stderr);
    assert_eq!(
        step(&report, "provider_again")["output"]["arnFingerPrint"],
        step(&report, "create_key_provider")["output"]["arnFingerPrint"]
    );
    assert_eq!(
        step(&report, "migrate_again")["output"]["id"],
        step(&report, "migrate")["output"]["id"],
        "the migration under way, not a second one"
    );
}

/// Steps that disable a key twice and remove a tag twice (the reapplied blocks).
const UNDONE_TWICE: &str = "steps:
  - id: key
    block: aws-kms.create-key
    with: { tags: { team: data } }
  - id: disable
    block: aws-kms.disable-key
    confirm: true
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: disable_again
    block: aws-kms.disable-key
    confirm: true
    after: disable
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: untag
    block: aws-kms.delete-tag
    confirm: true
    after: disable_again
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, tag_keys: [team] }
  - id: untag_again
    block: aws-kms.delete-tag
    confirm: true
    after: untag
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, tag_keys: [team] }
  - id: after
    block: aws-kms.describe-key
    after: untag_again
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
";

#[test]
fn disabling_a_disabled_key_and_removing_an_absent_tag_succeed() {
    let check = |report: &Value| {
        for id in ["disable_again", "untag_again"] {
            assert_eq!(step(report, id)["status"], "succeeded", "{report:#}");
        }
        assert_eq!(
            step(report, "after")["output"]["KeyMetadata"]["KeyState"],
            "Disabled"
        );
    };
    let (code, report, stderr) = in_sandbox(UNDONE_TWICE);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    check(&report);
    let Some(moto) = moto() else { return };
    let (code, report, stderr) = moto.run(&flow(UNDONE_TWICE), &["--allow-destructive"]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    check(&report);
}
