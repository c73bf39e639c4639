//! AWS KMS: the `aws-kms` connector and its blocks, on aws-sdk-kms.
//!
//! A connection names a region (or takes it from the AWS chain) and finds credentials the way the AWS CLI
//! does — environment, profile, SSO, web identity, instance metadata — optionally assuming a role; never
//! from the flow file. One client per connection per run, shared by its steps, with client-side rate
//! limits at the published quotas ([`limits`]).

pub mod checks;
mod errors;
pub mod facts;
mod flow_check;
pub mod limits;
pub mod operation;
mod pages;
pub mod recovery;
pub mod sandbox;
pub mod shapes;

mod add_tag;
mod cancel_key_deletion;
mod create_alias;
mod create_key;
mod decrypt;
mod delete_alias;
mod delete_tag;
mod describe_key;
mod disable_key;
mod disable_key_rotation;
mod enable_key;
mod enable_key_rotation;
mod encrypt;
mod generate_data_key;
mod get_key_policy;
mod get_key_rotation_status;
mod list_aliases;
mod list_keys;
mod list_tags;
mod put_key_policy;
mod replicate_key;
mod request;
mod schedule_key_deletion;
mod update_alias;
mod update_key_description;

pub use add_tag::AddTag;
pub use cancel_key_deletion::CancelKeyDeletion;
pub use create_alias::CreateAlias;
pub use create_key::CreateKey;
pub use decrypt::Decrypt;
pub use delete_alias::DeleteAlias;
pub use delete_tag::DeleteTag;
pub use describe_key::DescribeKey;
pub use disable_key::DisableKey;
pub use disable_key_rotation::DisableKeyRotation;
pub use enable_key::EnableKey;
pub use enable_key_rotation::EnableKeyRotation;
pub use encrypt::Encrypt;
pub use generate_data_key::GenerateDataKey;
pub use get_key_policy::GetKeyPolicy;
pub use get_key_rotation_status::GetKeyRotationStatus;
pub use list_aliases::ListAliases;
pub use list_keys::ListKeys;
pub use list_tags::ListTags;
pub use put_key_policy::PutKeyPolicy;
pub use replicate_key::ReplicateKey;
pub use request::Request;
pub use schedule_key_deletion::ScheduleKeyDeletion;
pub use update_alias::UpdateAlias;
pub use update_key_description::UpdateKeyDescription;

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::{Credentials, Region, SharedCredentialsProvider};
use indexmap::IndexMap;
use keyflow_engine::block::{BlockContext, BlockError, Connector, ConnectorSpec};
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use errors::sdk_error;
pub use flow_check::AliasCreatedFirst;
use limits::Limits;
pub use operation::{Operation, Quota};

/// The connector id flows write: `connector: aws-kms`.
pub const CONNECTOR: &str = "aws-kms";

/// The `aws-kms` connector.
pub struct AwsKms;

/// Settings of an `aws-kms` connection. Credentials are not among them: they come from the standard AWS
/// chain (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`…, SSO, web identity, instance metadata).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsKmsSettings {
    /// The region of the keys (`eu-west-1`); without it, the AWS chain's (`AWS_REGION`, the profile).
    #[serde(default)]
    pub region: Option<String>,
    /// A named profile of `~/.aws/config` and `~/.aws/credentials` (as `AWS_PROFILE`).
    #[serde(default)]
    pub profile: Option<String>,
    /// A role to assume for every call (`arn:aws:iam::111122223333:role/keyflow`).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy requires.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The session name of the assumed role (default `keyflow`).
    #[serde(default)]
    pub session_name: Option<String>,
    /// Another endpoint (moto, LocalStack, the sandbox); without it `AWS_ENDPOINT_URL_KMS` /
    /// `AWS_ENDPOINT_URL` or AWS itself.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Requests per second per operation, over the published quotas (`{ CreateKey: 10 }`; `0` lifts a
    /// limit). Names are API operations, or `Cryptographic` for Encrypt, Decrypt and GenerateDataKey.
    #[serde(default)]
    #[schemars(schema_with = "limits::overrides_schema")]
    pub quotas: IndexMap<String, f64>,
    /// Static credentials (access key id, secret access key), set only by the sandbox for its twin (never
    /// from a flow); the secret is held where `Debug` cannot print it.
    #[serde(skip)]
    #[schemars(skip)]
    sandbox_credentials: Option<(String, SecretString)>,
}

/// The client of an `aws-kms` connection.
pub struct KmsClient {
    sdk: aws_sdk_kms::Client,
    region: String,
    limits: Limits,
    /// The endpoint the connection names (else AWS's own for the region): where a raw request goes.
    endpoint: Option<String>,
    /// The connection's credentials, which sign a raw request (the SDK client does not hand them out).
    credentials: Option<SharedCredentialsProvider>,
}

impl KmsClient {
    /// A client over an SDK client (for tests and benchmarks).
    pub fn new(
        sdk: aws_sdk_kms::Client,
        region: &str,
        quotas: &IndexMap<String, f64>,
    ) -> KmsClient {
        KmsClient {
            sdk,
            region: region.to_string(),
            limits: Limits::new(quotas),
            endpoint: None,
            credentials: None,
        }
    }

    /// The same client, its raw requests signed by `credentials`.
    pub fn with_credentials(mut self, credentials: Option<SharedCredentialsProvider>) -> KmsClient {
        self.credentials = credentials;
        self
    }

    /// The connection's credentials provider, for signing a raw request.
    pub fn credentials(&self) -> Option<&SharedCredentialsProvider> {
        self.credentials.as_ref()
    }

    /// The same client, its raw requests sent to `endpoint` (moto, the twin) instead of AWS's.
    pub fn with_endpoint(mut self, endpoint: Option<String>) -> KmsClient {
        self.endpoint = endpoint;
        self
    }

    /// Where a raw request (`aws-kms.request`) goes: the connection's endpoint, else AWS KMS in its region.
    pub fn endpoint(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("https://kms.{}.amazonaws.com/", self.region))
    }

    /// The SDK client.
    pub fn sdk(&self) -> &aws_sdk_kms::Client {
        &self.sdk
    }

    /// The connection's region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Waits for room in the quota of `operation` (in the connection's region), outside the call's slot of
    /// the run's parallelism, so that calls of other operations run meanwhile.
    pub async fn limit(&self, ctx: &BlockContext, operation: Operation) {
        self.limit_in(ctx, operation.quota(), &self.region).await;
    }

    /// Waits for room in `quota` in `region`, as [`KmsClient::limit`] does.
    pub async fn limit_in(&self, ctx: &BlockContext, quota: Quota, region: &str) {
        ctx.outside_slot(self.limits.acquire(quota, region)).await;
    }
}

/// The KMS client of the step's connection.
pub fn client(ctx: &BlockContext) -> Result<&KmsClient, BlockError> {
    ctx.client::<KmsClient>()
}

impl Connector for AwsKms {
    type Settings = AwsKmsSettings;
    type Client = KmsClient;

    fn spec(&self) -> ConnectorSpec {
        ConnectorSpec {
            id: CONNECTOR,
            title: "AWS Key Management Service",
            description: "AWS KMS in one account and region. Credentials come from the standard AWS chain \
                          (environment, profile, SSO, web identity, instance metadata), optionally assuming \
                          `role_arn`; never from the flow.",
            secret_settings: &[],
        }
    }

    async fn connect(&self, settings: AwsKmsSettings) -> Result<KmsClient, BlockError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        let region = RegionProviderChain::first_try(settings.region.clone().map(Region::new))
            .or_default_provider();
        loader = loader.region(region);
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((key_id, secret)) = &settings.sandbox_credentials {
            loader = loader.credentials_provider(Credentials::new(
                key_id.as_str(),
                secret.expose_secret(),
                None,
                None,
                "keyflow-sandbox",
            ));
        }
        let mut config = loader.load().await;
        let Some(region) = config.region().map(|r| r.to_string()) else {
            return Err(BlockError::fatal(
                "NoRegion",
                "no AWS region: give the connection `region:`, or set AWS_REGION or a profile's region",
            ));
        };
        if let Some(role) = &settings.role_arn {
            let mut builder = AssumeRoleProvider::builder(role)
                .session_name(
                    settings
                        .session_name
                        .clone()
                        .unwrap_or_else(|| "keyflow".into()),
                )
                .configure(&config);
            if let Some(external_id) = &settings.external_id {
                builder = builder.external_id(external_id);
            }
            let provider = builder.build().await;
            config = config
                .to_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        // A step's `retry:` is the only retry layer: the SDK's own (standard or adaptive, throttling
        // included) would send requests the report's `attempts` never counts, and retry steps the flow
        // says must not be. Only the KMS client's: credential providers keep theirs.
        let kms = aws_sdk_kms::config::Builder::from(&config)
            .retry_config(RetryConfig::disabled())
            .build();
        let endpoint = settings
            .endpoint_url
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_KMS").ok())
            .or_else(|| config.endpoint_url().map(str::to_string));
        Ok(KmsClient::new(
            aws_sdk_kms::Client::from_conf(kms),
            &region,
            &settings.quotas,
        )
        .with_endpoint(endpoint)
        .with_credentials(config.credentials_provider()))
    }

    /// The twin's endpoint and throwaway credentials ([`sandbox::KmsTwin`]) replace the flow's; profiles
    /// and roles are not used. The flow's region stays (the twin serves every region), else the twin's
    /// default; client-side quotas stay.
    fn sandbox(
        &self,
        settings: AwsKmsSettings,
        twin: &serde_json::Value,
    ) -> Result<AwsKmsSettings, BlockError> {
        sandbox::settings(settings, twin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_credentials_do_not_print_their_secret() {
        let twin = serde_json::json!({
            "endpoint_url": "http://127.0.0.1:9",
            "access_key_id": "AKIATWIN",
            "secret_access_key": "debug-canary-secret-access-key",
            "region": "eu-west-1",
        });
        let settings = AwsKms
            .sandbox(AwsKmsSettings::default(), &twin)
            .expect("sandbox settings");
        let printed = format!("{settings:?}");
        assert!(printed.contains("AKIATWIN"), "{printed}");
        assert!(!printed.contains("canary"), "{printed}");
    }
}
