//! Quotas: a low override throttles, a throttled request changes nothing, `Quotas::Off` never throttles,
//! and the stats count it all.

use std::collections::HashMap;

use keyflow_blocks::aws_kms::operation::Quota;

use super::*;

#[tokio::test]
async fn a_call_beyond_the_quota_is_throttled_and_changes_nothing() {
    let twin = start(KmsTwinConfig {
        quotas: Quotas::Overrides(HashMap::from([(Quota::CreateKey, 2.0)])),
        ..config()
    })
    .await
    .unwrap();
    let kms = client(&twin, REGION);
    create_key(&kms).await;
    create_key(&kms).await;
    let (code_, message) = error(kms.create_key().send().await);
    assert_eq!(code_, "ThrottlingException");
    assert_eq!(message, "Rate exceeded");
    // Nothing was created by the throttled call; other quotas and regions are unaffected.
    let listed = kms.list_keys().send().await.unwrap();
    assert_eq!(listed.keys().len(), 2);
    create_key(&client(&twin, DR)).await;

    let stats = twin.stats();
    assert_eq!(stats.throttled, 1);
    assert_eq!(stats.operations["CreateKey"].requests, 4);
    assert_eq!(stats.operations["CreateKey"].throttled, 1);
    assert_eq!(stats.operations["ListKeys"].requests, 1);
    assert_eq!(stats.requests, 5);

    // The bucket refills at its rate.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    create_key(&kms).await;
}

#[tokio::test]
async fn replicate_key_also_needs_room_in_the_replica_regions_create_key_quota() {
    let twin = start(KmsTwinConfig {
        quotas: Quotas::Overrides(HashMap::from([(Quota::ReplicaCreateKey, 1.0)])),
        ..config()
    })
    .await
    .unwrap();
    let kms = client(&twin, REGION);
    let first = create_mrk(&kms).await;
    let second = create_mrk(&kms).await;
    kms.replicate_key()
        .key_id(&first)
        .replica_region(DR)
        .send()
        .await
        .unwrap();
    let throttled = kms
        .replicate_key()
        .key_id(&second)
        .replica_region(DR)
        .send()
        .await;
    assert_eq!(code(throttled), "ThrottlingException");
    let described = kms.describe_key().key_id(&second).send().await.unwrap();
    let replicas = described
        .key_metadata()
        .unwrap()
        .multi_region_configuration()
        .unwrap()
        .replica_keys()
        .len();
    assert_eq!(replicas, 0);
    // Another replica region has its own quota.
    kms.replicate_key()
        .key_id(&second)
        .replica_region("eu-central-1")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn published_quotas_throttle_a_burst_and_off_never_does() {
    let published = start(KmsTwinConfig {
        quotas: Quotas::Published,
        ..config()
    })
    .await
    .unwrap();
    let kms = client(&published, REGION);
    let started = std::time::Instant::now();
    let mut throttled = 0;
    for _ in 0..20 {
        if kms.create_key().send().await.is_err() {
            throttled += 1;
        }
    }
    // CreateKey's published quota is 5 per second, with a burst of 5.
    let admitted_at_most = 5 + (started.elapsed().as_secs_f64() * 5.0).ceil() as u64;
    assert!(throttled > 0, "a burst of 20 was never throttled");
    assert!(
        20 - throttled <= admitted_at_most,
        "{} of 20 admitted",
        20 - throttled
    );
    assert_eq!(published.stats().throttled, throttled);

    let off = twin().await;
    let kms = client(&off, REGION);
    for _ in 0..20 {
        create_key(&kms).await;
    }
    assert_eq!(off.stats().throttled, 0);
}
