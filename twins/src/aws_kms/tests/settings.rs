//! Rotation and tags.

use aws_sdk_kms::types::{KeySpec, KeyUsageType, Tag};

use super::*;

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder()
        .tag_key(key)
        .tag_value(value)
        .build()
        .unwrap()
}

#[tokio::test]
async fn rotation_takes_90_to_2560_days_on_symmetric_keys_only() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let status = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(!status.key_rotation_enabled());
    assert!(status.rotation_period_in_days().is_none());
    kms.enable_key_rotation().key_id(&id).send().await.unwrap();
    let status = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(365));
    let next = status.next_rotation_date().unwrap().secs();
    let in_a_year = chrono::Utc::now().timestamp() + 365 * 86_400;
    assert!((next - in_a_year).abs() < 60, "{next} vs {in_a_year}");
    kms.enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let status = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(status.rotation_period_in_days(), Some(90));
    for days in [89, 2561] {
        let refused = kms
            .enable_key_rotation()
            .key_id(&id)
            .rotation_period_in_days(days)
            .send()
            .await;
        assert_eq!(code(refused), "ValidationException", "{days}");
    }
    kms.disable_key_rotation().key_id(&id).send().await.unwrap();
    let status = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(!status.key_rotation_enabled());

    let rsa = kms
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::EncryptDecrypt)
        .send()
        .await
        .unwrap();
    let refused = kms
        .enable_key_rotation()
        .key_id(rsa.key_metadata().unwrap().key_id())
        .send()
        .await;
    assert_eq!(code(refused), "UnsupportedOperationException");
    kms.disable_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        code(kms.enable_key_rotation().key_id(&id).send().await),
        "DisabledException"
    );
}

#[tokio::test]
async fn tags_are_set_replaced_removed_and_listed() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let created = kms
        .create_key()
        .tags(tag("team", "data"))
        .send()
        .await
        .unwrap();
    let id = created.key_metadata().unwrap().key_id().to_string();
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("team", "security"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    let listed = kms.list_resource_tags().key_id(&id).send().await.unwrap();
    let tags: Vec<(&str, &str)> = listed
        .tags()
        .iter()
        .map(|t| (t.tag_key(), t.tag_value()))
        .collect();
    assert_eq!(tags, [("env", "prod"), ("team", "security")]);
    assert!(!listed.truncated());
    kms.untag_resource()
        .key_id(&id)
        .tag_keys("env")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    let listed = kms.list_resource_tags().key_id(&id).send().await.unwrap();
    assert_eq!(listed.tags().len(), 1);
}

#[tokio::test]
async fn aws_tags_long_tags_and_a_51st_tag_are_refused() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let refused = kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("aws:x", "1"))
        .send()
        .await;
    assert_eq!(code(refused), "TagException");
    let refused = kms.create_key().tags(tag("AWS:team", "1")).send().await;
    assert_eq!(code(refused), "TagException");
    let long_key = kms
        .tag_resource()
        .key_id(&id)
        .tags(tag(&"k".repeat(129), "1"))
        .send()
        .await;
    assert_eq!(code(long_key), "ValidationException");
    let long_value = kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("k", &"v".repeat(257)))
        .send()
        .await;
    assert_eq!(code(long_value), "ValidationException");

    let mut request = kms.tag_resource().key_id(&id);
    for i in 0..50 {
        request = request.tags(tag(&format!("k{i:02}"), "v"));
    }
    request.send().await.unwrap();
    let refused = kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("k50", "v"))
        .send()
        .await;
    assert_eq!(code(refused), "LimitExceededException");
    // Replacing a value is not a new tag.
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("k00", "w"))
        .send()
        .await
        .unwrap();

    let first = kms
        .list_resource_tags()
        .key_id(&id)
        .limit(30)
        .send()
        .await
        .unwrap();
    assert!(first.truncated());
    let second = kms
        .list_resource_tags()
        .key_id(&id)
        .limit(30)
        .marker(first.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(first.tags().len() + second.tags().len(), 50);
    assert_eq!(second.tags()[0].tag_key(), "k30");
}
