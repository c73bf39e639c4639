//! Snapshots: a twin started from another's state holds the same keys, which decrypt the same
//! ciphertexts; keys past their deletion date are gone with their aliases.

use aws_sdk_kms::primitives::Blob;

use super::*;

#[tokio::test]
async fn a_twin_started_from_a_snapshot_decrypts_the_first_ones_ciphertexts() {
    let first = twin().await;
    let kms = client(&first, REGION);
    let id = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/tenant")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    kms.enable_key_rotation().key_id(&id).send().await.unwrap();
    let sealed = kms
        .encrypt()
        .key_id("alias/tenant")
        .plaintext(Blob::new("kept"))
        .send()
        .await
        .unwrap();
    let snapshot = first.snapshot();
    // Through JSON, as `--state FILE` keeps it.
    let saved = serde_json::to_string(&snapshot).unwrap();
    let restored: KmsState = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored, snapshot);
    first.shutdown().await.unwrap();

    let second = start(KmsTwinConfig {
        state: Some(restored),
        ..config()
    })
    .await
    .unwrap();
    let kms = client(&second, REGION);
    let opened = kms
        .decrypt()
        .ciphertext_blob(sealed.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(opened.plaintext().unwrap().as_ref(), b"kept");
    let rotation = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(rotation.key_rotation_enabled());
    let summary = second.snapshot().summary();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].region, REGION);
    assert_eq!(summary[0].key_id, id);
    assert_eq!(summary[0].key_state, "Enabled");
    assert_eq!(summary[0].aliases, vec!["alias/tenant".to_string()]);
}

#[tokio::test]
async fn a_key_past_its_deletion_date_is_gone_with_its_aliases() {
    let first = twin().await;
    let kms = client(&first, REGION);
    let id = create_key(&kms).await;
    let kept = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/doomed")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    kms.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let mut state = first.snapshot();
    let key = state
        .regions
        .get_mut(REGION)
        .unwrap()
        .keys
        .get_mut(&id)
        .unwrap();
    key.deletion_date = Some(rules::now() - 1.0);
    let later = start(KmsTwinConfig {
        state: Some(state),
        ..config()
    })
    .await
    .unwrap();
    let kms = client(&later, REGION);
    assert_eq!(
        code(kms.describe_key().key_id(&id).send().await),
        "NotFoundException"
    );
    assert!(
        kms.list_aliases()
            .send()
            .await
            .unwrap()
            .aliases()
            .is_empty()
    );
    let keys = kms.list_keys().send().await.unwrap();
    let ids: Vec<&str> = keys.keys().iter().filter_map(|k| k.key_id()).collect();
    assert_eq!(ids, vec![kept.as_str()]);
}
