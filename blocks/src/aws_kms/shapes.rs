//! AWS KMS shapes shared by several blocks, with AWS's own field names (so the AWS documentation applies),
//! and their conversions from the SDK's types: times as RFC 3339 strings, binary values as base64.

use aws_sdk_kms::primitives::{Blob, DateTime, DateTimeFormat};
use aws_sdk_kms::types;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use keyflow_engine::block::BlockError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What AWS KMS knows about a key (`KeyMetadata`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    /// The AWS account that owns the key.
    #[serde(rename = "AWSAccountId", skip_serializing_if = "Option::is_none")]
    pub aws_account_id: Option<String>,
    /// The key's id (a UUID, or `mrk-…` for multi-Region keys).
    pub key_id: String,
    /// The key's ARN: what Qlik Cloud's key provider registers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// When the key was created (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    /// Whether the key is enabled.
    pub enabled: bool,
    /// The key's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, `GENERATE_VERIFY_MAC` or `KEY_AGREEMENT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<String>,
    /// `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, `PendingReplicaDeletion`, `Unavailable`,
    /// `Creating`, `Updating`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_state: Option<String>,
    /// When a key pending deletion will be deleted (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<String>,
    /// When imported key material expires (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    /// `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM` or `EXTERNAL_KEY_STORE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The custom key store holding the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_key_store_id: Option<String>,
    /// The CloudHSM cluster holding the key material.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_hsm_cluster_id: Option<String>,
    /// `KEY_MATERIAL_EXPIRES` or `KEY_MATERIAL_DOES_NOT_EXPIRE`, for imported key material.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
    /// `CUSTOMER` or `AWS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_manager: Option<String>,
    /// Deprecated name of `KeySpec`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_master_key_spec: Option<String>,
    /// The type of key material: `SYMMETRIC_DEFAULT`, `RSA_2048`, `HMAC_256`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_spec: Option<String>,
    /// Encryption algorithms the key supports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub encryption_algorithms: Vec<String>,
    /// Signing algorithms the key supports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signing_algorithms: Vec<String>,
    /// Key agreement algorithms the key supports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub key_agreement_algorithms: Vec<String>,
    /// MAC algorithms the key supports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mac_algorithms: Vec<String>,
    /// Whether the key is a multi-Region key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region: Option<bool>,
    /// The primary and replicas of a multi-Region key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region_configuration: Option<MultiRegionConfiguration>,
    /// The waiting period of a key pending deletion (or of a primary waiting for its replicas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_deletion_window_in_days: Option<i32>,
    /// The external key of a key in an external key store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xks_key_configuration: Option<XksKeyConfiguration>,
    /// The id of the key material currently in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_key_material_id: Option<String>,
}

/// The primary and replicas of a multi-Region key.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionConfiguration {
    /// `PRIMARY` or `REPLICA`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region_key_type: Option<String>,
    /// The primary key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<MultiRegionKey>,
    /// The replica keys.
    pub replica_keys: Vec<MultiRegionKey>,
}

/// One key of a multi-Region key set.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionKey {
    /// Its ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Its region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// The external key of a key in an external key store.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct XksKeyConfiguration {
    /// The external key's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A tag as AWS returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The tag's key.
    pub tag_key: String,
    /// The tag's value.
    pub tag_value: String,
}

/// A key policy as a flow gives it: a YAML/JSON mapping, or JSON text.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PolicyInput {
    /// The policy document as a mapping (references and templates inside are resolved first).
    Document(serde_json::Map<String, serde_json::Value>),
    /// The policy document as JSON text.
    Text(String),
}

/// A time as RFC 3339.
pub fn time(value: Option<&DateTime>) -> Option<String> {
    value.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
}

/// A binary value as base64.
pub fn base64(blob: &Blob) -> String {
    STANDARD.encode(blob.as_ref())
}

/// A base64 input as a blob, or an error naming the input.
pub fn blob(input: &str, text: &str) -> Result<Blob, BlockError> {
    STANDARD
        .decode(text.trim())
        .map(Blob::new)
        .map_err(|e| BlockError::invalid_input(format!("`{input}` is not base64: {e}")))
}

fn names<T>(list: &[T], name: fn(&T) -> &str) -> Vec<String> {
    list.iter().map(|v| name(v).to_string()).collect()
}

/// The SDK's key metadata in AWS's field names.
pub fn key_metadata(m: &types::KeyMetadata) -> KeyMetadata {
    KeyMetadata {
        aws_account_id: m.aws_account_id().map(str::to_string),
        key_id: m.key_id().to_string(),
        arn: m.arn().map(str::to_string),
        creation_date: time(m.creation_date()),
        enabled: m.enabled(),
        description: m.description().map(str::to_string),
        key_usage: m.key_usage().map(|v| v.as_str().to_string()),
        key_state: m.key_state().map(|v| v.as_str().to_string()),
        deletion_date: time(m.deletion_date()),
        valid_to: time(m.valid_to()),
        origin: m.origin().map(|v| v.as_str().to_string()),
        custom_key_store_id: m.custom_key_store_id().map(str::to_string),
        cloud_hsm_cluster_id: m.cloud_hsm_cluster_id().map(str::to_string),
        expiration_model: m.expiration_model().map(|v| v.as_str().to_string()),
        key_manager: m.key_manager().map(|v| v.as_str().to_string()),
        #[allow(deprecated)]
        customer_master_key_spec: m.customer_master_key_spec().map(|v| v.as_str().to_string()),
        key_spec: m.key_spec().map(|v| v.as_str().to_string()),
        encryption_algorithms: names(
            m.encryption_algorithms(),
            types::EncryptionAlgorithmSpec::as_str,
        ),
        signing_algorithms: names(m.signing_algorithms(), types::SigningAlgorithmSpec::as_str),
        key_agreement_algorithms: names(
            m.key_agreement_algorithms(),
            types::KeyAgreementAlgorithmSpec::as_str,
        ),
        mac_algorithms: names(m.mac_algorithms(), types::MacAlgorithmSpec::as_str),
        multi_region: m.multi_region(),
        multi_region_configuration: m.multi_region_configuration().map(|c| {
            MultiRegionConfiguration {
                multi_region_key_type: c.multi_region_key_type().map(|v| v.as_str().to_string()),
                primary_key: c.primary_key().map(multi_region_key),
                replica_keys: c.replica_keys().iter().map(multi_region_key).collect(),
            }
        }),
        pending_deletion_window_in_days: m.pending_deletion_window_in_days(),
        xks_key_configuration: m.xks_key_configuration().map(|x| XksKeyConfiguration {
            id: x.id().map(str::to_string),
        }),
        current_key_material_id: m.current_key_material_id().map(str::to_string),
    }
}

fn multi_region_key(k: &types::MultiRegionKey) -> MultiRegionKey {
    MultiRegionKey {
        arn: k.arn().map(str::to_string),
        region: k.region().map(str::to_string),
    }
}

/// The SDK's tags in AWS's field names.
pub fn tags_out(tags: &[types::Tag]) -> Vec<Tag> {
    tags.iter()
        .map(|t| Tag {
            tag_key: t.tag_key().to_string(),
            tag_value: t.tag_value().to_string(),
        })
        .collect()
}

/// A tag map as SDK tags (checked by [`super::checks::tags`] first).
pub fn tags_in(tags: &IndexMap<String, String>) -> Result<Vec<types::Tag>, BlockError> {
    tags.iter()
        .map(|(key, value)| {
            types::Tag::builder()
                .tag_key(key)
                .tag_value(value)
                .build()
                .map_err(|e| BlockError::invalid_input(format!("tag `{key}`: {e}")))
        })
        .collect()
}

/// A realistic key metadata for example outputs.
pub fn example_key_metadata() -> KeyMetadata {
    KeyMetadata {
        aws_account_id: Some("111122223333".into()),
        key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        arn: Some(
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        ),
        creation_date: Some("2026-11-23T09:00:00Z".into()),
        enabled: true,
        description: Some("Qlik Cloud CMK for tenant t-1".into()),
        key_usage: Some("ENCRYPT_DECRYPT".into()),
        key_state: Some("Enabled".into()),
        deletion_date: None,
        valid_to: None,
        origin: Some("AWS_KMS".into()),
        custom_key_store_id: None,
        cloud_hsm_cluster_id: None,
        expiration_model: None,
        key_manager: Some("CUSTOMER".into()),
        customer_master_key_spec: Some("SYMMETRIC_DEFAULT".into()),
        key_spec: Some("SYMMETRIC_DEFAULT".into()),
        encryption_algorithms: vec!["SYMMETRIC_DEFAULT".into()],
        signing_algorithms: Vec::new(),
        key_agreement_algorithms: Vec::new(),
        mac_algorithms: Vec::new(),
        multi_region: Some(false),
        multi_region_configuration: None,
        pending_deletion_window_in_days: None,
        xks_key_configuration: None,
        current_key_material_id: None,
    }
}

/// The input of blocks that take only a key.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyIdInput {
    /// The key: its id or ARN (`$.steps.create_key.output.KeyMetadata.KeyId`).
    pub key_id: String,
}

/// The output of calls whose response has no body (EnableKey, CreateAlias, PutKeyPolicy…): `{}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Empty {}

/// An encryption context as the SDK takes it (`None` when empty).
pub fn encryption_context(
    context: &IndexMap<String, String>,
) -> Option<std::collections::HashMap<String, String>> {
    (!context.is_empty()).then(|| {
        context
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    })
}

/// A required field of a response, or an error naming what AWS left out.
pub fn required<T>(operation: &str, field: &str, value: Option<T>) -> Result<T, BlockError> {
    value.ok_or_else(|| {
        BlockError::fatal(
            "InvalidResponse",
            format!("{operation} returned no {field}"),
        )
    })
}

/// The input of `aws-kms.create-alias` and `aws-kms.update-alias`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasInput {
    /// The alias: `alias/` then letters, digits, `:`, `/`, `_` or `-`; not `alias/aws/…`.
    #[schemars(pattern(r"^alias/[A-Za-z0-9/_-]+$"))]
    pub alias_name: String,
    /// The key it names: its id or ARN.
    pub target_key_id: String,
}

/// An encryption algorithm.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EncryptionAlgorithm {
    /// AES-256-GCM, for symmetric keys.
    SymmetricDefault,
    /// RSA OAEP with SHA-1, for RSA keys.
    #[serde(rename = "RSAES_OAEP_SHA_1")]
    RsaesOaepSha1,
    /// RSA OAEP with SHA-256, for RSA keys.
    #[serde(rename = "RSAES_OAEP_SHA_256")]
    RsaesOaepSha256,
    /// SM2 public key encryption (China regions).
    #[serde(rename = "SM2PKE")]
    Sm2pke,
}

impl EncryptionAlgorithm {
    /// The SDK's value.
    pub fn sdk(self) -> types::EncryptionAlgorithmSpec {
        match self {
            EncryptionAlgorithm::SymmetricDefault => {
                types::EncryptionAlgorithmSpec::SymmetricDefault
            }
            EncryptionAlgorithm::RsaesOaepSha1 => types::EncryptionAlgorithmSpec::RsaesOaepSha1,
            EncryptionAlgorithm::RsaesOaepSha256 => types::EncryptionAlgorithmSpec::RsaesOaepSha256,
            EncryptionAlgorithm::Sm2pke => types::EncryptionAlgorithmSpec::Sm2Pke,
        }
    }
}
