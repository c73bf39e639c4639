//! `aws-kms.encrypt`: Encrypt (Encrypt).

use indexmap::IndexMap;
use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Operation;
use super::shapes::{EncryptionAlgorithm, base64, blob, encryption_context, required};
use super::{CONNECTOR, client, sdk_error};

/// Encrypts up to 4 KiB under a KMS key.
pub struct Encrypt;

/// The most bytes Encrypt takes.
const MAX_PLAINTEXT: usize = 4096;

/// Input of `aws-kms.encrypt`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EncryptInput {
    /// The key: its id, ARN, alias name or alias ARN.
    pub key_id: String,
    /// The data to encrypt, base64 (as the AWS CLI's JSON), at most 4096 bytes once decoded.
    pub plaintext: String,
    /// Pairs bound to the ciphertext: decrypting needs the same ones (`{ TenantId: t-1 }`).
    #[serde(default)]
    pub encryption_context: IndexMap<String, String>,
    /// The algorithm (default `SYMMETRIC_DEFAULT`; RSA keys need an `RSAES_OAEP_…` one).
    #[serde(default)]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
}

/// Output of `aws-kms.encrypt`: the Encrypt response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptOutput {
    /// The encrypted data (base64).
    pub ciphertext_blob: String,
    /// The ARN of the key that encrypted it.
    pub key_id: String,
    /// The algorithm used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<String>,
}

impl Block for Encrypt {
    type Input = EncryptInput;
    type Output = EncryptOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.encrypt",
            title: "Encrypt",
            connector: Some(CONNECTOR),
            description: "Encrypts up to 4 KiB of base64 data under a KMS key (Encrypt), bound to an optional \
                          encryption context.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &["plaintext"],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> EncryptOutput {
        EncryptOutput {
            ciphertext_blob: "AQICAHhBUi1hc3ludGhldGljLWV4YW1wbGUtY2lwaGVydGV4dA==".into(),
            key_id: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                .into(),
            encryption_algorithm: Some("SYMMETRIC_DEFAULT".into()),
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: EncryptInput,
    ) -> Result<EncryptOutput, BlockError> {
        let plaintext = blob("plaintext", &input.plaintext)?;
        if plaintext.as_ref().is_empty() || plaintext.as_ref().len() > MAX_PLAINTEXT {
            return Err(BlockError::invalid_input(format!(
                "`plaintext` is {} bytes; Encrypt takes 1 to {MAX_PLAINTEXT} (use generate-data-key for more)",
                plaintext.as_ref().len()
            )));
        }
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::Encrypt).await;
        let response = kms
            .sdk()
            .encrypt()
            .key_id(input.key_id)
            .plaintext(plaintext)
            .set_encryption_context(encryption_context(&input.encryption_context))
            .set_encryption_algorithm(input.encryption_algorithm.map(EncryptionAlgorithm::sdk))
            .send()
            .await
            .map_err(|e| sdk_error(Operation::Encrypt, e))?;
        Ok(EncryptOutput {
            ciphertext_blob: base64(required(
                "Encrypt",
                "CiphertextBlob",
                response.ciphertext_blob(),
            )?),
            key_id: response.key_id().unwrap_or_default().to_string(),
            encryption_algorithm: response
                .encryption_algorithm()
                .map(|a| a.as_str().to_string()),
        })
    }
}
