//! ReplicateKey: replicas share the primary's id and material, keep their own policy and tags, and a
//! primary with replicas waits for them before its own deletion.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeyState as SdkKeyState, MultiRegionKeyType, Tag};

use super::*;

#[tokio::test]
async fn a_replica_decrypts_its_primarys_ciphertext_in_its_own_region() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_mrk(&kms).await;
    let replicated = kms
        .replicate_key()
        .key_id(&id)
        .replica_region(DR)
        .description("dr copy")
        .tags(
            Tag::builder()
                .tag_key("site")
                .tag_value("dr")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let replica = replicated.replica_key_metadata().unwrap();
    assert_eq!(replica.key_id(), id);
    assert_eq!(
        replica.arn(),
        Some(format!("arn:aws:kms:{DR}:111122223333:key/{id}").as_str())
    );
    assert_eq!(replica.description(), Some("dr copy"));
    let config = replica.multi_region_configuration().unwrap();
    assert_eq!(
        config.multi_region_key_type(),
        Some(&MultiRegionKeyType::Replica)
    );
    assert_eq!(config.primary_key().unwrap().region(), Some(REGION));
    assert_eq!(replicated.replica_tags().len(), 1);
    assert!(replicated.replica_policy().unwrap().contains("kms:*"));

    let primary = kms.describe_key().key_id(&id).send().await.unwrap();
    let config = primary
        .key_metadata()
        .unwrap()
        .multi_region_configuration()
        .unwrap();
    assert_eq!(
        config.multi_region_key_type(),
        Some(&MultiRegionKeyType::Primary)
    );
    assert_eq!(config.replica_keys().len(), 1);
    assert_eq!(config.replica_keys()[0].region(), Some(DR));

    let sealed = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("replicated"))
        .encryption_context("TenantId", TENANT)
        .send()
        .await
        .unwrap();
    let paris = client(&twin, DR);
    let opened = paris
        .decrypt()
        .ciphertext_blob(sealed.ciphertext_blob().unwrap().clone())
        .encryption_context("TenantId", TENANT)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.plaintext().unwrap().as_ref(), b"replicated");
    assert!(
        opened
            .key_id()
            .unwrap()
            .starts_with(&format!("arn:aws:kms:{DR}:"))
    );
    let tags = paris.list_resource_tags().key_id(&id).send().await.unwrap();
    assert_eq!(tags.tags().len(), 1);
    let primary_tags = kms.list_resource_tags().key_id(&id).send().await.unwrap();
    assert!(primary_tags.tags().is_empty());
}

#[tokio::test]
async fn only_a_primary_replicates_once_per_other_region() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let single = create_key(&kms).await;
    let refused = kms
        .replicate_key()
        .key_id(&single)
        .replica_region(DR)
        .send()
        .await;
    assert_eq!(code(refused), "UnsupportedOperationException");
    let id = create_mrk(&kms).await;
    let same_region = kms
        .replicate_key()
        .key_id(&id)
        .replica_region(REGION)
        .send()
        .await;
    assert_eq!(code(same_region), "AlreadyExistsException");
    kms.replicate_key()
        .key_id(&id)
        .replica_region(DR)
        .send()
        .await
        .unwrap();
    let again = kms
        .replicate_key()
        .key_id(&id)
        .replica_region(DR)
        .send()
        .await;
    assert_eq!(code(again), "AlreadyExistsException");
    let from_replica = client(&twin, DR)
        .replicate_key()
        .key_id(&id)
        .replica_region("eu-central-1")
        .send()
        .await;
    assert_eq!(code(from_replica), "UnsupportedOperationException");
    let bad_region = kms
        .replicate_key()
        .key_id(&id)
        .replica_region("Mars")
        .send()
        .await;
    assert_eq!(code(bad_region), "ValidationException");
}

#[tokio::test]
async fn a_primary_with_replicas_waits_for_them_before_its_own_deletion() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_mrk(&kms).await;
    kms.replicate_key()
        .key_id(&id)
        .replica_region(DR)
        .send()
        .await
        .unwrap();
    let scheduled = kms
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(
        scheduled.key_state(),
        Some(&SdkKeyState::PendingReplicaDeletion)
    );
    assert!(scheduled.deletion_date().is_none());
    let meta = kms.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        meta.key_metadata()
            .unwrap()
            .pending_deletion_window_in_days(),
        Some(7)
    );
    let refused = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .send()
        .await;
    assert_eq!(code(refused), "KMSInvalidStateException");
    // The replica goes first; once it is gone the primary's own 7 days begin.
    client(&twin, DR)
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let mut state = twin.snapshot();
    state
        .regions
        .get_mut(DR)
        .unwrap()
        .keys
        .get_mut(&id)
        .unwrap()
        .deletion_date = Some(1.0);
    let later = start(KmsTwinConfig {
        state: Some(state),
        ..config()
    })
    .await
    .unwrap();
    let kms = client(&later, REGION);
    let meta = kms.describe_key().key_id(&id).send().await.unwrap();
    let meta = meta.key_metadata().unwrap();
    assert_eq!(meta.key_state(), Some(&SdkKeyState::PendingDeletion));
    assert!(meta.deletion_date().is_some());
    assert!(
        meta.multi_region_configuration()
            .unwrap()
            .replica_keys()
            .is_empty()
    );
    let gone = client(&later, DR).describe_key().key_id(&id).send().await;
    assert_eq!(code(gone), "NotFoundException");
}
