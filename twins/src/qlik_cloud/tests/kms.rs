//! The KMS checks against moto's KMS server, reached at `KEYFLOW_MOTO_URL` (skipped, saying so, when it
//! is unset). Keys are created fresh in each test; moto is never reset, so a shared instance is safe.

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use reqwest::StatusCode;
use serde_json::json;

use super::*;
use keyflow_blocks::qlik_cloud::policy::{Partition, qlik_statements};

fn moto() -> Option<String> {
    let url = std::env::var("KEYFLOW_MOTO_URL").ok();
    if url.is_none() {
        println!("skipped: KEYFLOW_MOTO_URL is not set (start moto_server and export its URL)");
    }
    url
}

fn kms(url: &str, region: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// A policy with the account root and Qlik's statements for [`TENANT`].
fn qlik_policy(multi_region: bool) -> String {
    let mut statements = vec![json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*",
        "Resource": "*"
    })];
    statements.extend(qlik_statements(TENANT, Partition::Aws, multi_region));
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// A policy with the account root only.
fn root_only() -> String {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*", "Resource": "*"
    }]})
    .to_string()
}

/// Creates a key in `region`, giving its ARN and id.
async fn key(client: &aws_sdk_kms::Client, policy: String, multi_region: bool) -> (String, String) {
    let created = client
        .create_key()
        .policy(policy)
        .multi_region(multi_region)
        .send()
        .await
        .unwrap();
    let meta = created.key_metadata().unwrap();
    (meta.arn().unwrap().to_string(), meta.key_id().to_string())
}

async fn twin(url: &str) -> Api {
    Api::start(EmulatorConfig {
        kms: Some(KmsPeer::at(url.to_string())),
        migration_duration: Duration::ZERO,
        ..config()
    })
    .await
}

fn detail(answer: &Answer) -> &str {
    answer.body["errors"][0]["detail"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_compliant_multi_region_key_with_its_dr_replica_registers() {
    let Some(url) = moto() else { return };
    let (arn, id) = key(&kms(&url, "eu-west-1"), qlik_policy(true), true).await;
    kms(&url, "eu-west-1")
        .replicate_key()
        .key_id(&id)
        .replica_region("eu-west-3")
        .send()
        .await
        .unwrap();
    let api = twin(&url).await;
    let created = api
        .post(
            PROVIDERS,
            json!({"name": "mrk", "arn": arn, "keyprovider": "AWS-KMS"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["multiRegion"], true);
    assert_eq!(created.body["replicaKeys"][0]["region"], "eu-west-3");
    assert_eq!(created.body["drCompliant"], true, "{}", created.text);
    assert_eq!(
        created.body["complianceError"],
        json!({"code": "", "region": "", "message": ""})
    );
    assert!(api.twin.state().kms_calls >= 3);
}

#[tokio::test]
async fn a_compliant_single_region_key_registers_but_is_not_dr_compliant() {
    let Some(url) = moto() else { return };
    let (arn, _) = key(&kms(&url, "eu-west-1"), qlik_policy(false), false).await;
    let api = twin(&url).await;
    let created = api
        .post(PROVIDERS, json!({"name": "single", "arn": arn}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["multiRegion"], false);
    assert_eq!(created.body["drCompliant"], false);
    assert_eq!(created.body["complianceError"]["code"], "Encryption-89");
    assert_eq!(created.body["complianceError"]["region"], "eu-west-3");
}

#[tokio::test]
async fn a_policy_without_qlik_statements_is_403() {
    let Some(url) = moto() else { return };
    let (arn, _) = key(&kms(&url, "eu-west-1"), root_only(), false).await;
    let api = twin(&url).await;
    let refused = api
        .post(PROVIDERS, json!({"name": "closed", "arn": arn}))
        .await;
    assert_error(
        &refused,
        StatusCode::FORBIDDEN,
        "Unable to access the provided AWS-KMS key, access is forbidden. Check if AWS key policy allows access from Qlik Cloud.",
    );
    assert!(
        detail(&refused).contains("byok-encryption-proxy-role"),
        "{}",
        refused.text
    );
    assert_eq!(api.get(PROVIDERS).await.body, json!([]));
}

#[tokio::test]
async fn a_missing_key_is_403() {
    let Some(url) = moto() else { return };
    let api = twin(&url).await;
    let arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000";
    let refused = api
        .post(PROVIDERS, json!({"name": "ghost", "arn": arn}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(
        detail(&refused).contains("NotFoundException"),
        "{}",
        refused.text
    );
}

#[tokio::test]
async fn an_asymmetric_key_is_406() {
    let Some(url) = moto() else { return };
    let created = kms(&url, "eu-west-1")
        .create_key()
        .policy(qlik_policy(false))
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::EncryptDecrypt)
        .send()
        .await
        .unwrap();
    let arn = created.key_metadata().unwrap().arn().unwrap().to_string();
    let api = twin(&url).await;
    let refused = api
        .post(PROVIDERS, json!({"name": "rsa", "arn": arn}))
        .await;
    assert_error(
        &refused,
        StatusCode::NOT_ACCEPTABLE,
        "Failed to register the provided AWS-KMS key",
    );
    assert!(detail(&refused).contains("RSA_2048"), "{}", refused.text);
}

#[tokio::test]
async fn a_key_in_another_region_is_406() {
    let Some(url) = moto() else { return };
    let (arn, _) = key(&kms(&url, "eu-west-2"), qlik_policy(false), false).await;
    let api = twin(&url).await;
    let refused = api
        .post(PROVIDERS, json!({"name": "london", "arn": arn}))
        .await;
    assert_error(
        &refused,
        StatusCode::NOT_ACCEPTABLE,
        "Failed to register the provided AWS-KMS key",
    );
    assert!(detail(&refused).contains("`eu-west-2`") && detail(&refused).contains("`eu-west-1`"));
}

#[tokio::test]
async fn a_disabled_key_is_406() {
    let Some(url) = moto() else { return };
    let client = kms(&url, "eu-west-1");
    let (arn, id) = key(&client, qlik_policy(false), false).await;
    client.disable_key().key_id(&id).send().await.unwrap();
    let refused = twin(&url)
        .await
        .post(PROVIDERS, json!({"name": "off", "arn": arn}))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::NOT_ACCEPTABLE,
        "{}",
        refused.text
    );
    assert!(detail(&refused).contains("Disabled"), "{}", refused.text);
}

#[tokio::test]
async fn test_and_migrate_see_a_policy_changed_after_registration() {
    let Some(url) = moto() else { return };
    let client = kms(&url, "eu-west-1");
    let (arn, id) = key(&client, qlik_policy(false), false).await;
    let api = twin(&url).await;
    let fp = api.create(&arn, "drifting").await;
    client
        .put_key_policy()
        .key_id(&id)
        .policy_name("default")
        .policy(root_only())
        .send()
        .await
        .unwrap();

    let tested = api
        .post_empty(&format!("{PROVIDERS}/{fp}/actions/test"))
        .await;
    assert_eq!(tested.status, StatusCode::CREATED, "{}", tested.text);
    assert_eq!(tested.body["drCompliant"], false);
    assert_eq!(tested.body["complianceError"]["code"], "Encryption-88");
    assert_eq!(tested.body["complianceError"]["region"], "eu-west-1");
    let migrate = api
        .post_empty(&format!("{PROVIDERS}/{fp}/actions/migrate"))
        .await;
    assert_error(
        &migrate,
        StatusCode::FAILED_DEPENDENCY,
        "Failed to prepare migration",
    );
}

#[tokio::test]
async fn a_dr_replica_whose_policy_lacks_qlik_is_flagged_not_refused() {
    let Some(url) = moto() else { return };
    let (arn, id) = key(&kms(&url, "eu-west-1"), qlik_policy(true), true).await;
    let paris = kms(&url, "eu-west-3");
    kms(&url, "eu-west-1")
        .replicate_key()
        .key_id(&id)
        .replica_region("eu-west-3")
        .send()
        .await
        .unwrap();
    paris
        .put_key_policy()
        .key_id(&id)
        .policy_name("default")
        .policy(root_only())
        .send()
        .await
        .unwrap();
    let api = twin(&url).await;
    let created = api
        .post(PROVIDERS, json!({"name": "mrk", "arn": arn}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["drCompliant"], false);
    let error = &created.body["complianceError"];
    assert_eq!(
        (error["code"].as_str(), error["region"].as_str()),
        (Some("Encryption-88"), Some("eu-west-3"))
    );
    assert!(error["message"].as_str().unwrap().contains("[eu-west-3]"));
}

#[tokio::test]
async fn an_unreachable_kms_is_408() {
    // Port 9 (discard) is closed on loopback: the connection is refused at once. No moto needed.
    let api = twin("http://127.0.0.1:9").await;
    let timed_out = api.post(PROVIDERS, json!({"name": "n", "arn": ARN})).await;
    assert_eq!(
        timed_out.status,
        StatusCode::REQUEST_TIMEOUT,
        "{}",
        timed_out.text
    );
    assert!(
        detail(&timed_out).contains("DescribeKey"),
        "{}",
        timed_out.text
    );
}
