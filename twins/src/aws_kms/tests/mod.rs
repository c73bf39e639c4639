//! The twin through the real, unmodified `aws_sdk_kms::Client`, one fresh twin per test.

mod access;
mod aliases;
mod crypto;
mod keys;
mod model;
mod policy;
mod quotas;
mod replicas;
mod settings;
mod state;
mod validate;

use std::fmt::Debug;

use aws_sdk_kms::Client;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};

use super::*;

/// The region most tests work in.
pub const REGION: &str = "eu-west-1";
/// The other region (Qlik's DR region of eu-west-1).
pub const DR: &str = "eu-west-3";
/// Qlik's proxy role, of Qlik's account.
pub const QLIK_ROLE: &str = "arn:aws:iam::338144066592:role/byok-encryption-proxy-role";
/// The access key the Qlik role signs with.
pub const QLIK_KEY: &str = "AKIAQLIKPROXY0000000";
/// Its secret.
pub const QLIK_SECRET: &str = "qlik-proxy-secret";
/// A tenant id of Qlik's examples.
pub const TENANT: &str = "ImTRa-bkJTD-NZRYjNBa_rDhwSVA6Qo8";

/// The default config with the Qlik role as a second principal and no throttling.
pub fn config() -> KmsTwinConfig {
    let mut config = KmsTwinConfig {
        quotas: Quotas::Off,
        ..KmsTwinConfig::default()
    };
    config
        .principals
        .push(Principal::new(QLIK_KEY, QLIK_SECRET, QLIK_ROLE));
    config
}

/// A twin of [`config`].
pub async fn twin() -> Running {
    start(config()).await.unwrap()
}

/// A client of `twin` in `region` as the default principal, without retries.
pub fn client(twin: &Running, region: &str) -> Client {
    client_as(
        twin,
        region,
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_SECRET_ACCESS_KEY,
    )
}

/// A client of `twin` in `region` signing with `access_key` and `secret`, without retries.
pub fn client_as(twin: &Running, region: &str, access_key: &str, secret: &str) -> Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&twin.url)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// A client of `twin` in [`REGION`] as Qlik's proxy role.
pub fn qlik(twin: &Running) -> Client {
    client_as(twin, REGION, QLIK_KEY, QLIK_SECRET)
}

/// Creates a symmetric key, giving its id.
pub async fn create_key(client: &Client) -> String {
    let created = client.create_key().send().await.unwrap();
    created.key_metadata().unwrap().key_id().to_string()
}

/// Creates a multi-Region symmetric key, giving its id.
pub async fn create_mrk(client: &Client) -> String {
    let created = client.create_key().multi_region(true).send().await.unwrap();
    created.key_metadata().unwrap().key_id().to_string()
}

/// The error code of a call that must fail.
pub fn code<T: Debug, E: ProvideErrorMetadata + Debug, R: Debug>(
    result: Result<T, SdkError<E, R>>,
) -> String {
    error(result).0
}

/// The error code and message of a call that must fail.
pub fn error<T: Debug, E: ProvideErrorMetadata + Debug, R: Debug>(
    result: Result<T, SdkError<E, R>>,
) -> (String, String) {
    match result {
        Ok(ok) => panic!("expected an error, got {ok:?}"),
        Err(SdkError::ServiceError(e)) => (
            e.err().code().unwrap_or("no code").to_string(),
            e.err().message().unwrap_or_default().to_string(),
        ),
        Err(other) => panic!("expected a service error, got {other:?}"),
    }
}

/// A policy allowing the twin's account everything and Qlik's role `actions` on the key when the
/// encryption context's TenantId is [`TENANT`].
pub fn qlik_policy(account: &str, actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "Allow Qlik",
                "Effect": "Allow",
                "Principal": {"AWS": QLIK_ROLE},
                "Action": actions,
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:TenantId": TENANT}}
            }
        ]
    })
    .to_string()
}
