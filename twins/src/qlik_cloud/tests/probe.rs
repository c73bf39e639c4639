//! The KMS checks against the sandbox's own KMS twin, in-process: the Qlik twin uses the key as Qlik's
//! proxy role and the KMS twin's key policy evaluation decides. No moto needed.

use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::aws_kms::{
    self as kms_twin, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, KmsTwinConfig, Principal,
    Quotas,
};
use keyflow_blocks::qlik_cloud::policy::{self, Partition, PolicyRequirements, qlik_statements};

/// Qlik's proxy role, in Qlik's account.
const ROLE: &str = "arn:aws:iam::338144066592:role/byok-encryption-proxy-role";
/// The access key the KMS twin knows the role by.
const ROLE_KEY: &str = "AKIAQLIKPROXYTEST000";
/// Its secret.
const ROLE_SECRET: &str = "qlik-proxy-role-test-secret";
/// The KMS twin's account.
const ACCOUNT: &str = "111122223333";
/// The DR region of the tenant's `eu-west-1`.
const DR: &str = "eu-west-3";

/// Both twins: the KMS twin knowing the proxy role, the Qlik twin probing with it.
struct Twins {
    kms: kms_twin::Running,
    api: Api,
}

async fn twins() -> Twins {
    let mut kms_config = KmsTwinConfig {
        quotas: Quotas::Off,
        ..KmsTwinConfig::default()
    };
    kms_config
        .principals
        .push(Principal::new(ROLE_KEY, ROLE_SECRET, ROLE));
    let kms = kms_twin::start(kms_config).await.unwrap();
    let mut peer =
        KmsPeer::at(kms.url.clone()).with_proxy(ProxyRole::new(ROLE, ROLE_KEY, ROLE_SECRET));
    peer.credentials = Some((
        DEFAULT_ACCESS_KEY_ID.into(),
        DEFAULT_SECRET_ACCESS_KEY.into(),
    ));
    let api = Api::start(EmulatorConfig {
        kms: Some(peer),
        ..config()
    })
    .await;
    Twins { kms, api }
}

impl Twins {
    /// A client of the KMS twin in `region` as the account.
    fn account(&self, region: &str) -> aws_sdk_kms::Client {
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(&self.kms.url)
            .credentials_provider(Credentials::new(
                DEFAULT_ACCESS_KEY_ID,
                DEFAULT_SECRET_ACCESS_KEY,
                None,
                None,
                "test",
            ))
            .retry_config(RetryConfig::disabled())
            .build();
        aws_sdk_kms::Client::from_conf(config)
    }

    /// A key of eu-west-1 with `policy`, replicated to the DR region with `replica_policy` when given;
    /// gives its ARN and id.
    async fn key(&self, policy: &Value, replica_policy: Option<&Value>) -> (String, String) {
        let created = self
            .account("eu-west-1")
            .create_key()
            .policy(policy.to_string())
            .multi_region(replica_policy.is_some())
            .send()
            .await
            .unwrap();
        let meta = created.key_metadata().unwrap();
        let (arn, id) = (meta.arn().unwrap().to_string(), meta.key_id().to_string());
        if let Some(replica_policy) = replica_policy {
            self.account("eu-west-1")
                .replicate_key()
                .key_id(&id)
                .replica_region(DR)
                .policy(replica_policy.to_string())
                .send()
                .await
                .unwrap();
        }
        (arn, id)
    }

    /// Requests the KMS twin answered for `operation`.
    fn requests(&self, operation: &str) -> u64 {
        self.kms
            .stats()
            .operations
            .get(operation)
            .map_or(0, |op| op.requests)
    }
}

/// The account root and Qlik's statements for `tenant`, as the template renders them.
fn qlik_policy(tenant: &str, multi_region: bool) -> Value {
    let mut statements = vec![root()];
    statements.extend(qlik_statements(tenant, Partition::Aws, multi_region));
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn root() -> Value {
    json!({
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"
    })
}

fn detail(answer: &Answer) -> &str {
    answer.body["errors"][0]["detail"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_key_the_proxy_role_may_use_for_the_tenant_validates_clean_and_was_really_used() {
    let twins = twins().await;
    let policy = qlik_policy(TENANT, true);
    let (arn, _) = twins.key(&policy, Some(&policy)).await;
    let fp = twins.api.create(&arn, "probed").await;
    let tested = twins
        .api
        .post_empty(&format!("{PROVIDERS}/{fp}/actions/test"))
        .await;
    assert_eq!(tested.status, StatusCode::CREATED, "{}", tested.text);
    assert_eq!(tested.body["drCompliant"], true, "{}", tested.text);
    assert_eq!(
        tested.body["complianceError"],
        json!({"code": "", "region": "", "message": ""})
    );
    assert_eq!(tested.body["replicaKeys"][0]["region"], DR);
    // Create and test each used the key in both regions as the proxy role; the policy was never read.
    for operation in ["Encrypt", "Decrypt", "GenerateDataKey"] {
        assert_eq!(twins.requests(operation), 4, "{operation}");
    }
    assert_eq!(twins.requests("GetKeyPolicy"), 0);
    assert_eq!(twins.kms.stats().access_denied, 0);
}

#[tokio::test]
async fn a_policy_without_the_proxy_statement_is_refused_at_create_and_flagged_at_test() {
    let twins = twins().await;
    let root_only = json!({"Version": "2012-10-17", "Statement": [root()]});
    let (arn, _) = twins.key(&root_only, None).await;
    let refused = twins
        .api
        .post(PROVIDERS, json!({"name": "closed", "arn": arn}))
        .await;
    assert_error(
        &refused,
        StatusCode::FORBIDDEN,
        "Unable to access the provided AWS-KMS key, access is forbidden. Check if AWS key policy allows access from Qlik Cloud.",
    );
    let said = detail(&refused);
    for part in [
        "[eu-west-1] [Encrypt]",
        "`kms:Encrypt`",
        ROLE,
        "AccessDeniedException",
    ] {
        assert!(said.contains(part), "{part} in {said}");
    }
    assert_eq!(twins.kms.stats().access_denied, 1);

    // Registered while the policy let Qlik in, then closed: validation reports Encryption-88.
    let (arn, id) = twins.key(&qlik_policy(TENANT, false), None).await;
    let fp = twins.api.create(&arn, "closing").await;
    twins
        .account("eu-west-1")
        .put_key_policy()
        .key_id(&id)
        .policy_name("default")
        .policy(root_only.to_string())
        .send()
        .await
        .unwrap();
    let tested = twins
        .api
        .post_empty(&format!("{PROVIDERS}/{fp}/actions/test"))
        .await;
    assert_eq!(tested.status, StatusCode::CREATED, "{}", tested.text);
    let error = &tested.body["complianceError"];
    assert_eq!(
        (error["code"].as_str(), error["region"].as_str()),
        (Some("Encryption-88"), Some("eu-west-1")),
        "{}",
        tested.text
    );
}

#[tokio::test]
async fn a_replica_whose_policy_names_another_tenant_gets_encryption_88_in_the_dr_region() {
    let twins = twins().await;
    let other = "AnotherTenant00000000000000000001";
    let (arn, _) = twins
        .key(&qlik_policy(TENANT, true), Some(&qlik_policy(other, true)))
        .await;
    let created = twins
        .api
        .post(PROVIDERS, json!({"name": "mrk", "arn": arn}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["drCompliant"], false);
    let error = &created.body["complianceError"];
    assert_eq!(
        (error["code"].as_str(), error["region"].as_str()),
        (Some("Encryption-88"), Some(DR)),
        "{}",
        created.text
    );
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("[eu-west-3] [Encrypt]")
            && message.contains(&format!("TenantId={TENANT}")),
        "{message}"
    );
}

#[tokio::test]
async fn a_deny_the_policy_rules_overlook_is_what_the_probe_catches() {
    let twins = twins().await;
    let mut policy = qlik_policy(TENANT, false);
    policy["Statement"].as_array_mut().unwrap().push(json!({
        "Sid": "No decrypting outside business hours", "Effect": "Deny",
        "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"
    }));
    // The static rules look for what is granted, not for what is denied: they pass this policy.
    let req = PolicyRequirements {
        tenant_id: TENANT,
        partition: Partition::Aws,
        multi_region: false,
    };
    assert_eq!(policy::check(&policy, &req), Vec::new());
    let (arn, _) = twins.key(&policy, None).await;
    let refused = twins
        .api
        .post(PROVIDERS, json!({"name": "denied", "arn": arn}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let said = detail(&refused);
    assert!(
        said.contains("[eu-west-1] [Decrypt]") && said.contains("explicit deny"),
        "{said}"
    );
    assert_eq!(twins.requests("Encrypt"), 1);
}

#[tokio::test]
async fn a_disabled_key_is_refused_and_a_disabled_replica_flagged() {
    let twins = twins().await;
    let (arn, id) = twins.key(&qlik_policy(TENANT, false), None).await;
    twins
        .account("eu-west-1")
        .disable_key()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    let refused = twins
        .api
        .post(PROVIDERS, json!({"name": "off", "arn": arn}))
        .await;
    assert_error(
        &refused,
        StatusCode::NOT_ACCEPTABLE,
        "Failed to register the provided AWS-KMS key",
    );
    assert!(detail(&refused).contains("Disabled"), "{}", refused.text);

    // Only the probe sees the replica's state: DescribeKey of the primary lists replicas, not their state.
    let policy = qlik_policy(TENANT, true);
    let (arn, id) = twins.key(&policy, Some(&policy)).await;
    twins
        .account(DR)
        .disable_key()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    let created = twins
        .api
        .post(PROVIDERS, json!({"name": "half-off", "arn": arn}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["drCompliant"], false);
    let error = &created.body["complianceError"];
    assert_eq!(
        (error["code"].as_str(), error["region"].as_str()),
        (Some("Encryption-87"), Some(DR)),
        "{}",
        created.text
    );
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("DisabledException") && message.contains(ROLE),
        "{message}"
    );
}
