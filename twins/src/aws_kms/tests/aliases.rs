//! Aliases: names, the reserved `alias/aws/` prefix, one target per alias, moves, and listing.

use super::*;

#[tokio::test]
async fn aliases_are_created_moved_listed_and_deleted() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let first = create_key(&kms).await;
    let second = create_key(&kms).await;
    for name in ["alias/a", "alias/b"] {
        kms.create_alias()
            .alias_name(name)
            .target_key_id(&first)
            .send()
            .await
            .unwrap();
    }
    let again = kms
        .create_alias()
        .alias_name("alias/a")
        .target_key_id(&second)
        .send()
        .await;
    assert_eq!(code(again), "AlreadyExistsException");

    kms.update_alias()
        .alias_name("alias/b")
        .target_key_id(&second)
        .send()
        .await
        .unwrap();
    let of_second = kms.list_aliases().key_id(&second).send().await.unwrap();
    let aliases = of_second.aliases();
    assert_eq!(aliases.len(), 1);
    assert_eq!(aliases[0].alias_name(), Some("alias/b"));
    assert_eq!(
        aliases[0].alias_arn(),
        Some(format!("arn:aws:kms:{REGION}:111122223333:alias/b").as_str())
    );
    assert_eq!(aliases[0].target_key_id(), Some(second.as_str()));
    assert!(aliases[0].creation_date().is_some() && aliases[0].last_updated_date().is_some());

    kms.delete_alias()
        .alias_name("alias/a")
        .send()
        .await
        .unwrap();
    let all = kms.list_aliases().send().await.unwrap();
    assert_eq!(all.aliases().len(), 1);
    assert_eq!(
        code(kms.delete_alias().alias_name("alias/a").send().await),
        "NotFoundException"
    );
}

#[tokio::test]
async fn alias_names_follow_awss_rules() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let long = format!("alias/{}", "a".repeat(251));
    for (name, expected) in [
        ("alias/aws/mine", "NotAuthorizedException"),
        ("no-prefix", "ValidationException"),
        ("alias/has space", "ValidationException"),
        ("alias/", "ValidationException"),
        (long.as_str(), "ValidationException"),
    ] {
        let refused = kms
            .create_alias()
            .alias_name(name)
            .target_key_id(&id)
            .send()
            .await;
        assert_eq!(code(refused), expected, "{name}");
    }
    assert_eq!(
        code(kms.delete_alias().alias_name("alias/aws/ebs").send().await),
        "NotAuthorizedException"
    );
    kms.create_alias()
        .alias_name("alias/ok:a/b_c-1")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_alias_targets_a_live_key_of_its_own_region_and_type() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let elsewhere = create_key(&client(&twin, DR)).await;
    let refused = kms
        .create_alias()
        .alias_name("alias/x")
        .target_key_id(&elsewhere)
        .send()
        .await;
    assert_eq!(code(refused), "NotFoundException");
    let id = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/x")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let hmac = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap();
    let hmac = hmac.key_metadata().unwrap().key_id();
    let moved = kms
        .update_alias()
        .alias_name("alias/x")
        .target_key_id(hmac)
        .send()
        .await;
    assert_eq!(code(moved), "ValidationException");
    let doomed = create_key(&kms).await;
    kms.schedule_key_deletion()
        .key_id(&doomed)
        .send()
        .await
        .unwrap();
    let refused = kms
        .create_alias()
        .alias_name("alias/y")
        .target_key_id(&doomed)
        .send()
        .await;
    assert_eq!(code(refused), "KMSInvalidStateException");
}

#[tokio::test]
async fn list_aliases_pages_with_markers() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    for i in 0..5 {
        kms.create_alias()
            .alias_name(format!("alias/n{i}"))
            .target_key_id(&id)
            .send()
            .await
            .unwrap();
    }
    let first = kms.list_aliases().limit(3).send().await.unwrap();
    assert!(first.truncated());
    let second = kms
        .list_aliases()
        .limit(3)
        .marker(first.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert!(!second.truncated());
    assert!(second.next_marker().is_none());
    let names: Vec<&str> = first
        .aliases()
        .iter()
        .chain(second.aliases())
        .filter_map(|a| a.alias_name())
        .collect();
    assert_eq!(
        names,
        ["alias/n0", "alias/n1", "alias/n2", "alias/n3", "alias/n4"]
    );
    assert_eq!(
        code(kms.list_aliases().limit(101).send().await),
        "ValidationException"
    );
}
