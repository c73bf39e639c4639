//! `aws-kms.create-key`: Create Key (CreateKey).

use aws_sdk_kms::types::{KeySpec as SdkKeySpec, KeyUsageType};
use indexmap::IndexMap;
use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, LogLevel, Recovery,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::facts::MAX_TAGS;
use super::recovery::{self, IDEMPOTENCY_TAG};
use super::shapes::{KeyMetadata, PolicyInput, example_key_metadata, key_metadata, tags_in};
use super::{CONNECTOR, Operation, checks, client, sdk_error};

/// Creates a KMS key.
pub struct CreateKey;

/// The type of key material; `SYMMETRIC_DEFAULT` (a 256-bit AES-GCM key) is what Qlik Cloud's key
/// providers need.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum KeySpec {
    #[default]
    SymmetricDefault,
    #[serde(rename = "RSA_2048")]
    Rsa2048,
    #[serde(rename = "RSA_3072")]
    Rsa3072,
    #[serde(rename = "RSA_4096")]
    Rsa4096,
    #[serde(rename = "ECC_NIST_P256")]
    EccNistP256,
    #[serde(rename = "ECC_NIST_P384")]
    EccNistP384,
    #[serde(rename = "ECC_NIST_P521")]
    EccNistP521,
    #[serde(rename = "ECC_SECG_P256K1")]
    EccSecgP256k1,
    #[serde(rename = "HMAC_224")]
    Hmac224,
    #[serde(rename = "HMAC_256")]
    Hmac256,
    #[serde(rename = "HMAC_384")]
    Hmac384,
    #[serde(rename = "HMAC_512")]
    Hmac512,
    #[serde(rename = "SM2")]
    Sm2,
    #[serde(rename = "ML_DSA_44")]
    MlDsa44,
    #[serde(rename = "ML_DSA_65")]
    MlDsa65,
    #[serde(rename = "ML_DSA_87")]
    MlDsa87,
}

/// What the key is for.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyUsage {
    /// Encrypt and decrypt (symmetric keys, and RSA or SM2 keys).
    #[default]
    EncryptDecrypt,
    /// Sign and verify (asymmetric keys).
    SignVerify,
    /// Generate and verify MACs (HMAC keys).
    GenerateVerifyMac,
    /// Derive shared secrets (ECC, RSA or SM2 keys).
    KeyAgreement,
}

fn name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Input of `aws-kms.create-key`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyInput {
    /// A description of the key (shown in the AWS console).
    #[serde(default)]
    pub description: Option<String>,
    /// The type of key material (default `SYMMETRIC_DEFAULT`).
    #[serde(default)]
    pub key_spec: KeySpec,
    /// What the key is for (default `ENCRYPT_DECRYPT`); must go with `key_spec`.
    #[serde(default)]
    pub key_usage: KeyUsage,
    /// Create a multi-Region primary key, which `aws-kms.replicate-key` can copy to other regions.
    #[serde(default)]
    pub multi_region: bool,
    /// The key policy, as a mapping or JSON text; without it AWS gives the default key policy.
    #[serde(default)]
    pub policy: Option<PolicyInput>,
    /// Tags as a map (`{ team: data-platform }`); keys may not start with `aws:`. keyflow adds
    /// `keyflow:idempotency-key` (so at most 49 here).
    #[serde(default)]
    pub tags: IndexMap<String, String>,
}

/// Output of `aws-kms.create-key`: the CreateKey response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyOutput {
    /// The new key.
    pub key_metadata: KeyMetadata,
}

impl Block for CreateKey {
    type Input = CreateKeyInput;
    type Output = CreateKeyOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.create-key",
            title: "Create Key",
            connector: Some(CONNECTOR),
            description: "Creates a KMS key (CreateKey): by default a symmetric encryption key, the kind Qlik Cloud \
                          registers as a key provider; multi-Region on request, with an optional key policy and tags. \
                          The key carries the tag `keyflow:idempotency-key` (the run, step and item), by which a \
                          retry or `keyflow resume` finds a key whose creation's answer was lost instead of creating \
                          a second one.",
            effect: Effect::Create,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::FindFirst,
        }
    }

    fn example_output(&self) -> CreateKeyOutput {
        CreateKeyOutput {
            key_metadata: example_key_metadata(),
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: CreateKeyInput,
    ) -> Result<CreateKeyOutput, BlockError> {
        let spec = name(input.key_spec);
        let usage = name(input.key_usage);
        checks::spec_and_usage(&spec, &usage)?;
        checks::tags(&input.tags)?;
        if input.tags.contains_key(IDEMPOTENCY_TAG) {
            return Err(BlockError::invalid_input(format!(
                "tag `{IDEMPOTENCY_TAG}` is keyflow's own (it finds a key whose creation's answer was lost): \
                 choose another key"
            )));
        }
        if input.tags.len() >= MAX_TAGS {
            return Err(BlockError::invalid_input(format!(
                "`tags` has {} tags; a key takes at most {MAX_TAGS}, one of which is keyflow's \
                 `{IDEMPOTENCY_TAG}`",
                input.tags.len()
            )));
        }
        let policy = input
            .policy
            .as_ref()
            .map(|p| checks::policy("policy", p))
            .transpose()?;
        let kms = client(ctx)?;
        let idempotency = recovery::tag_value(&ctx.idempotency_key());
        if ctx.recovering()
            && let Some(found) = recovery::tagged_key(ctx, kms, &idempotency).await?
        {
            ctx.log(
                LogLevel::Info,
                format!(
                    "key {} was created by an earlier attempt whose answer was lost: using it",
                    found.key_id()
                ),
            );
            return Ok(CreateKeyOutput {
                key_metadata: key_metadata(&found),
            });
        }
        let mut tags = input.tags;
        tags.insert(IDEMPOTENCY_TAG.to_string(), idempotency);
        kms.limit(ctx, Operation::CreateKey).await;
        let response = kms
            .sdk()
            .create_key()
            .set_description(input.description)
            .key_spec(SdkKeySpec::from(spec.as_str()))
            .key_usage(KeyUsageType::from(usage.as_str()))
            .multi_region(input.multi_region)
            .set_policy(policy)
            .set_tags(Some(tags_in(&tags)?))
            .send()
            .await
            .map_err(|e| sdk_error(Operation::CreateKey, e))?;
        let metadata = response.key_metadata().ok_or_else(|| {
            BlockError::fatal("InvalidResponse", "CreateKey returned no KeyMetadata")
        })?;
        Ok(CreateKeyOutput {
            key_metadata: key_metadata(metadata),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_are_the_aws_ones() {
        assert_eq!(name(KeySpec::SymmetricDefault), "SYMMETRIC_DEFAULT");
        assert_eq!(name(KeySpec::EccSecgP256k1), "ECC_SECG_P256K1");
        assert_eq!(name(KeySpec::MlDsa44), "ML_DSA_44");
        assert_eq!(name(KeySpec::Hmac256), "HMAC_256");
        assert_eq!(name(KeyUsage::GenerateVerifyMac), "GENERATE_VERIFY_MAC");
    }

    #[tokio::test]
    async fn incompatible_spec_and_usage_are_refused_before_any_call() {
        let input: CreateKeyInput = serde_json::from_value(
            serde_json::json!({"key_spec": "HMAC_256", "key_usage": "ENCRYPT_DECRYPT"}),
        )
        .unwrap();
        let error = CreateKey
            .run(&BlockContext::detached("k"), input)
            .await
            .unwrap_err();
        assert_eq!(error.code, "InvalidInput");
        assert!(
            error.message.contains("`GENERATE_VERIFY_MAC`"),
            "{}",
            error.message
        );
    }
}
