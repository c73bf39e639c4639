//! Qlik's check of a key by use: the twin signs as Qlik's proxy role and uses the key the way Qlik Cloud
//! does for a tenant — Encrypt, then Decrypt of what came back, then GenerateDataKey, all under the
//! tenant's encryption context, and DescribeKey first when the key is multi-Region (Qlik reads its
//! replicas). The peer's key policy evaluation decides, as AWS's does for Qlik; nothing is read from the
//! policy here.
//!
//! Also the SDK clients of one set of credentials, one per region, that the checks of `kms` share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::config::{AppName, BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;

use super::ProxyRole;
use super::model::Refusal;
use crate::sync::lock;
use keyflow_blocks::qlik_cloud::policy::TENANT_CONTEXT_KEY;

/// SDK clients of one KMS endpoint signing with one set of credentials, one per region, counting the
/// calls they are taken for.
pub struct Clients {
    endpoint: String,
    access_key_id: String,
    secret: String,
    cache: Mutex<HashMap<String, aws_sdk_kms::Client>>,
    calls: AtomicU64,
}

impl Clients {
    /// Clients of `endpoint` signing with `access_key_id` and `secret`.
    pub fn new(endpoint: &str, access_key_id: &str, secret: &str) -> Clients {
        Clients {
            endpoint: endpoint.into(),
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            cache: Mutex::new(HashMap::new()),
            calls: AtomicU64::new(0),
        }
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The client of `region`, for one call.
    pub fn get(&self, region: &str) -> aws_sdk_kms::Client {
        self.calls.fetch_add(1, Ordering::Relaxed);
        lock(&self.cache)
            .entry(region.to_string())
            .or_insert_with(|| {
                let mut builder = aws_sdk_kms::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(Region::new(region.to_string()))
                    .endpoint_url(&self.endpoint)
                    .credentials_provider(Credentials::new(
                        self.access_key_id.as_str(),
                        self.secret.as_str(),
                        None,
                        None,
                        "keyflow-qlik-twin",
                    ))
                    .retry_config(RetryConfig::standard().with_max_attempts(2))
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(Duration::from_secs(2))
                            .operation_timeout(Duration::from_secs(10))
                            .build(),
                    );
                // Qlik's calls to AWS are not the clients' to see: the sandbox's faults spare them.
                builder.set_app_name(AppName::new(crate::faults::PEER_APP_NAME).ok());
                aws_sdk_kms::Client::from_conf(builder.build())
            })
            .clone()
    }
}

/// The encryption context key Qlik names the tenant with. Qlik's public text does not confirm it (see the
/// Encryption API reference): it is the one the key policy templates (`flows/policies/qlik-aws.json`) and
/// [`keyflow_blocks::qlik_cloud::policy`] condition on, so that a key set up by the template passes the probe.
fn context_key() -> &'static str {
    TENANT_CONTEXT_KEY
        .strip_prefix("kms:EncryptionContext:")
        .unwrap_or(TENANT_CONTEXT_KEY)
}

/// The key used as Qlik's proxy role.
pub struct Probe {
    role: String,
    clients: Clients,
}

impl Probe {
    /// A probe of the KMS at `endpoint` as `role`.
    pub fn new(endpoint: &str, role: &ProxyRole) -> Probe {
        Probe {
            role: role.arn.clone(),
            clients: Clients::new(endpoint, &role.access_key_id, &role.secret_access_key),
        }
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.clients.calls()
    }

    /// Uses key `key_arn` of `region` for `tenant_id` as the proxy role; the first call refused says why.
    pub async fn run(
        &self,
        region: &str,
        key_arn: &str,
        tenant_id: &str,
        multi_region: bool,
    ) -> Result<(), Refusal> {
        let said = Said {
            role: &self.role,
            region,
            tenant_id,
        };
        if multi_region {
            self.clients
                .get(region)
                .describe_key()
                .key_id(key_arn)
                .send()
                .await
                .map_err(|e| said.refusal("DescribeKey", e))?;
        }
        let mut plaintext = [0u8; 32];
        // Any bytes do: the round trip proves the key works, the randomness that no answer was replayed.
        if aws_lc_rs::rand::fill(&mut plaintext).is_err() {
            plaintext = *b"keyflow qlik twin proxy probe 00";
        }
        let encrypted = self
            .clients
            .get(region)
            .encrypt()
            .key_id(key_arn)
            .plaintext(Blob::new(plaintext))
            .encryption_context(context_key(), tenant_id)
            .send()
            .await
            .map_err(|e| said.refusal("Encrypt", e))?;
        let ciphertext = encrypted.ciphertext_blob().cloned().ok_or_else(|| {
            Refusal::Unusable(format!(
                "Encrypt as `{}` in [{region}] returned no ciphertext",
                self.role
            ))
        })?;
        let decrypted = self
            .clients
            .get(region)
            .decrypt()
            .key_id(key_arn)
            .ciphertext_blob(ciphertext)
            .encryption_context(context_key(), tenant_id)
            .send()
            .await
            .map_err(|e| said.refusal("Decrypt", e))?;
        if decrypted.plaintext().map(|b| b.as_ref()) != Some(&plaintext[..]) {
            return Err(Refusal::Unusable(format!(
                "Decrypt as `{}` in [{region}] did not give back what Encrypt was given",
                self.role
            )));
        }
        self.clients
            .get(region)
            .generate_data_key()
            .key_id(key_arn)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(context_key(), tenant_id)
            .send()
            .await
            .map_err(|e| said.refusal("GenerateDataKey", e))?;
        Ok(())
    }
}

/// Who asked what, for the refusal's message.
struct Said<'a> {
    role: &'a str,
    region: &'a str,
    tenant_id: &'a str,
}

impl Said<'_> {
    /// A refused call as the refusal Qlik reports: access denied → the policy (`Encryption-88`), a key
    /// disabled or pending deletion → unusable, no key → forbidden, no answer → unreachable.
    fn refusal<E>(&self, action: &str, error: SdkError<E, HttpResponse>) -> Refusal
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let region = self.region;
        let SdkError::ServiceError(service) = &error else {
            return Refusal::Unreachable(format!(
                "{action} as `{}`: AWS KMS did not answer: {}",
                self.role,
                DisplayErrorContext(&error)
            ));
        };
        let err = service.err();
        let code = err.code().unwrap_or("UnknownError");
        let message = err.message().unwrap_or_default();
        let context = if action == "DescribeKey" {
            String::new()
        } else {
            format!(
                " with encryption context {}={}",
                context_key(),
                self.tenant_id
            )
        };
        let refused = format!(
            "`kms:{action}` as `{}`{context} was refused: {code}: {message}",
            self.role
        );
        match code {
            // Qlik's own words for a policy that keeps it out, then which call and principal.
            "AccessDeniedException" => Refusal::Policy {
                region: region.to_string(),
                message: format!(
                    "The policy of the provided key does not allow the required action [{region}] \
                     [{action}]: {refused}"
                ),
            },
            "NotFoundException" | "InvalidArnException" | "UnrecognizedClientException" => {
                Refusal::Forbidden(format!("[{region}] {refused}"))
            }
            _ => Refusal::Unusable(format!(
                "The provided key cannot be used [{region}]: {refused}"
            )),
        }
    }
}
