//! The operator flows of `flows/`, each against both peers: their reports must agree.

use crate::differential::peers;
use crate::harness::step;
use crate::qlik_cloud::TENANT;

#[test]
fn kms_tenant_key_agrees() {
    let Some(peers) = peers() else { return };
    peers.agree("kms-tenant-key", &[]);
}

#[test]
fn byok_then_audit_then_rotation_agree() {
    let Some(peers) = peers() else { return };
    peers.agree("byok-tenant-encryption", &[]);
    peers.agree("audit-keys", &["--param", &format!("tenant_id={TENANT}")]);
    peers.agree("rotate-tenant-key", &["--allow-destructive"]);

    // Again, deleting the old key: a multi-Region primary whose replica is scheduled for deletion too.
    let deletion = ["schedule_deletion=true", "pending_window_in_days=7"];
    let reports = peers.agree(
        "rotate-tenant-key",
        &[
            "--allow-destructive",
            "--param",
            deletion[0],
            "--param",
            deletion[1],
        ],
    );
    // AWS waits for the replicas before it dates the primary's deletion; moto dates it at once.
    let scheduled = &step(&reports.twin.1, "schedule_deletion")["output"];
    assert_eq!(
        scheduled["KeyState"], "PendingReplicaDeletion",
        "{scheduled}"
    );
    assert_eq!(scheduled["PendingWindowInDays"], 7, "{scheduled}");
    assert_eq!(scheduled.get("DeletionDate"), None, "{scheduled}");
    let replica = &step(&reports.twin.1, "schedule_replica_deletion")["output"];
    assert_eq!(replica["KeyState"], "PendingDeletion", "{replica}");
}

/// The blocks both peers implement faithfully, beyond what the operator flows use: crypto under an
/// encryption context (and a wrong one), tags, rotation, the description, aliases, deletion scheduled
/// with a valid window and cancelled.
const BLOCKS: &str = r#"name: differential-blocks
connections:
  aws: { connector: aws-kms, region: eu-west-1 }
steps:
  - id: key
    block: aws-kms.create-key
    with: { description: first, tags: { team: data, env: test } }
  - id: alias
    block: aws-kms.create-alias
    with: { alias_name: alias/differential, target_key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: aliases
    block: aws-kms.list-aliases
    after: alias
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }

  - id: encrypt
    block: aws-kms.encrypt
    after: alias
    with: { key_id: alias/differential, plaintext: "ZGlmZmVyZW50aWFs", encryption_context: { purpose: differential } }
  - id: decrypt
    block: aws-kms.decrypt
    with: { ciphertext_blob: $.steps.encrypt.output.CiphertextBlob, encryption_context: { purpose: differential } }
  - id: wrong_context
    block: aws-kms.decrypt
    on_error: continue
    with: { ciphertext_blob: $.steps.encrypt.output.CiphertextBlob, encryption_context: { purpose: other } }
  - id: data_key
    block: aws-kms.generate-data-key
    with: { key_id: $.steps.key.output.KeyMetadata.Arn, key_spec: AES_256, encryption_context: { TenantId: t-1 } }
  - id: unwrap
    block: aws-kms.decrypt
    with: { ciphertext_blob: $.steps.data_key.output.CiphertextBlob, key_id: $.steps.key.output.KeyMetadata.KeyId, encryption_context: { TenantId: t-1 } }

  - id: tag
    block: aws-kms.add-tag
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, tags: { owner: platform } }
  - id: untag
    block: aws-kms.delete-tag
    confirm: true
    after: tag
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, tag_keys: [env] }
  - id: tags
    block: aws-kms.list-tags
    after: untag
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }

  - id: rotate
    block: aws-kms.enable-key-rotation
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, rotation_period_in_days: 180 }
  - id: rotating
    block: aws-kms.get-key-rotation-status
    after: rotate
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: stop_rotating
    block: aws-kms.disable-key-rotation
    after: rotating
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: not_rotating
    block: aws-kms.get-key-rotation-status
    after: stop_rotating
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }

  - id: describe_as
    block: aws-kms.update-key-description
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, description: second }
  - id: described
    block: aws-kms.describe-key
    after: [describe_as, alias]
    with: { key_id: alias/differential }

  - id: schedule
    block: aws-kms.schedule-key-deletion
    confirm: true
    after: [described, tags, not_rotating, aliases, decrypt, wrong_context, unwrap]
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, pending_window_in_days: 7 }
  - id: pending
    block: aws-kms.describe-key
    after: schedule
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: cancel
    block: aws-kms.cancel-key-deletion
    after: pending
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: cancelled
    block: aws-kms.describe-key
    after: cancel
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
outputs:
  decrypted: { value: $.steps.decrypt.output.Plaintext, reveal: true }
  wrong_context: $.steps.wrong_context.error.code
  state_when_pending: $.steps.pending.output.KeyMetadata.KeyState
  state_when_cancelled: $.steps.cancelled.output.KeyMetadata.KeyState
"#;

#[test]
fn the_other_blocks_agree() {
    let Some(peers) = peers() else { return };
    let reports = peers.run_yaml(BLOCKS, &["--allow-destructive"]);
    reports.assert_agree("differential-blocks");
    // Agreeing is not enough where both could be wrong alike: AWS's own answers.
    let outputs = &reports.twin.1["outputs"];
    assert_eq!(outputs["wrong_context"], "InvalidCiphertextException");
    assert_eq!(outputs["state_when_pending"], "PendingDeletion");
    assert_eq!(outputs["state_when_cancelled"], "Disabled", "{outputs}");
}
