//! CreateKey, DescribeKey, ListKeys and a key's life: states, deletion windows, key references.

use aws_sdk_kms::types::{KeySpec, KeyState as SdkKeyState, KeyUsageType};

use super::*;

#[tokio::test]
async fn a_new_key_has_awss_metadata() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let created = kms
        .create_key()
        .description("tenant data")
        .send()
        .await
        .unwrap();
    let meta = created.key_metadata().unwrap();
    let id = meta.key_id();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(
        meta.arn(),
        Some(format!("arn:aws:kms:{REGION}:111122223333:key/{id}").as_str())
    );
    assert_eq!(meta.aws_account_id(), Some("111122223333"));
    assert_eq!(meta.key_state(), Some(&SdkKeyState::Enabled));
    assert!(meta.enabled());
    assert_eq!(meta.description(), Some("tenant data"));
    assert_eq!(meta.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(meta.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(meta.encryption_algorithms().len(), 1);
    assert_eq!(meta.multi_region(), Some(false));
    assert!(meta.creation_date().is_some());

    let described = kms.describe_key().key_id(id).send().await.unwrap();
    assert_eq!(described.key_metadata().unwrap().key_id(), id);
    let mrk = create_mrk(&kms).await;
    assert!(mrk.starts_with("mrk-") && mrk.len() == 36, "{mrk}");
}

#[tokio::test]
async fn key_specs_go_with_their_usages_only() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let hmac = kms
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap();
    assert_eq!(hmac.key_metadata().unwrap().mac_algorithms().len(), 1);
    let rsa = kms
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    assert!(!rsa.key_metadata().unwrap().signing_algorithms().is_empty());
    // HMAC without a usage defaults to ENCRYPT_DECRYPT, which HMAC keys do not have.
    let wrong = kms.create_key().key_spec(KeySpec::Hmac256).send().await;
    assert_eq!(code(wrong), "ValidationException");
    let wrong = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::EncryptDecrypt)
        .send()
        .await;
    assert_eq!(code(wrong), "ValidationException");
}

#[tokio::test]
async fn a_key_is_found_by_id_arn_alias_and_alias_arn_only_in_its_region() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/data")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:kms:{REGION}:111122223333:key/{id}");
    let alias_arn = format!("arn:aws:kms:{REGION}:111122223333:alias/data");
    for reference in [id.as_str(), &arn, "alias/data", &alias_arn] {
        let got = kms.describe_key().key_id(reference).send().await.unwrap();
        assert_eq!(got.key_metadata().unwrap().key_id(), id, "{reference}");
    }
    // EnableKey takes a key id or ARN, not an alias.
    let by_alias = kms.enable_key().key_id("alias/data").send().await;
    assert_eq!(code(by_alias), "NotFoundException");
    let elsewhere = client(&twin, DR);
    assert_eq!(
        code(elsewhere.describe_key().key_id(&arn).send().await),
        "NotFoundException"
    );
    assert_eq!(
        code(elsewhere.describe_key().key_id(&id).send().await),
        "NotFoundException"
    );
    let other_account = format!("arn:aws:kms:{REGION}:444455556666:key/{id}");
    assert_eq!(
        code(kms.describe_key().key_id(other_account).send().await),
        "NotFoundException"
    );
}

#[tokio::test]
async fn disable_enable_and_describe_follow_the_state() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    kms.disable_key().key_id(&id).send().await.unwrap();
    let meta = kms.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        meta.key_metadata().unwrap().key_state(),
        Some(&SdkKeyState::Disabled)
    );
    assert!(!meta.key_metadata().unwrap().enabled());
    kms.enable_key().key_id(&id).send().await.unwrap();
    kms.update_key_description()
        .key_id(&id)
        .description("renamed")
        .send()
        .await
        .unwrap();
    let meta = kms.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(meta.key_metadata().unwrap().description(), Some("renamed"));
    assert!(meta.key_metadata().unwrap().enabled());
}

#[tokio::test]
async fn deletion_takes_a_7_to_30_day_window_and_cancelling_leaves_the_key_disabled() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    for days in [6, 31] {
        let refused = kms
            .schedule_key_deletion()
            .key_id(&id)
            .pending_window_in_days(days)
            .send()
            .await;
        let (code, message) = error(refused);
        assert_eq!(code, "ValidationException");
        assert!(message.contains("pendingWindowInDays"), "{message}");
    }
    let scheduled = kms
        .schedule_key_deletion()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(scheduled.pending_window_in_days(), Some(30));
    assert_eq!(scheduled.key_state(), Some(&SdkKeyState::PendingDeletion));
    let created = kms.describe_key().key_id(&id).send().await.unwrap();
    let meta = created.key_metadata().unwrap();
    let deletion = meta.deletion_date().unwrap().secs();
    let expected = meta.creation_date().unwrap().secs() + 30 * 86_400;
    assert!((deletion - expected).abs() <= 2, "{deletion} vs {expected}");

    for refused in [
        code(kms.enable_key().key_id(&id).send().await),
        code(kms.disable_key().key_id(&id).send().await),
        code(kms.schedule_key_deletion().key_id(&id).send().await),
        code(
            kms.update_key_description()
                .key_id(&id)
                .description("x")
                .send()
                .await,
        ),
    ] {
        assert_eq!(refused, "KMSInvalidStateException");
    }
    let cancelled = kms.cancel_key_deletion().key_id(&id).send().await.unwrap();
    assert!(cancelled.key_id().unwrap().ends_with(&id));
    let meta = kms.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        meta.key_metadata().unwrap().key_state(),
        Some(&SdkKeyState::Disabled)
    );
    assert!(meta.key_metadata().unwrap().deletion_date().is_none());
    assert_eq!(
        code(kms.cancel_key_deletion().key_id(&id).send().await),
        "KMSInvalidStateException"
    );
}

#[tokio::test]
async fn list_keys_pages_with_markers_in_a_stable_order() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(create_key(&kms).await);
    }
    create_key(&client(&twin, DR)).await;
    ids.sort();
    let mut seen = Vec::new();
    let mut marker = None;
    let mut pages = 0;
    loop {
        let page = kms
            .list_keys()
            .limit(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        pages += 1;
        seen.extend(page.keys().iter().map(|k| k.key_id().unwrap().to_string()));
        assert_eq!(page.truncated(), page.next_marker().is_some());
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);
    let bad = kms.list_keys().marker("not-a-marker").send().await;
    assert_eq!(code(bad), "InvalidMarkerException");
    assert_eq!(
        code(kms.list_keys().limit(1001).send().await),
        "ValidationException"
    );
}
