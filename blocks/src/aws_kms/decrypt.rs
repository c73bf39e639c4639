//! `aws-kms.decrypt`: Decrypt (Decrypt).

use indexmap::IndexMap;
use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Operation;
use super::shapes::{EncryptionAlgorithm, base64, blob, encryption_context, required};
use super::{CONNECTOR, client, sdk_error};

/// Decrypts what Encrypt or GenerateDataKey produced.
pub struct Decrypt;

/// Input of `aws-kms.decrypt`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecryptInput {
    /// The encrypted data (base64), such as a `CiphertextBlob` output.
    pub ciphertext_blob: String,
    /// The key that must have encrypted it (its id, ARN, alias name or alias ARN); the one named in the
    /// ciphertext without it. Required for asymmetric keys.
    #[serde(default)]
    pub key_id: Option<String>,
    /// The same pairs the data was encrypted with.
    #[serde(default)]
    pub encryption_context: IndexMap<String, String>,
    /// The algorithm it was encrypted with (default `SYMMETRIC_DEFAULT`).
    #[serde(default)]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
}

/// Output of `aws-kms.decrypt`: the Decrypt response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptOutput {
    /// The ARN of the key that decrypted it.
    pub key_id: String,
    /// The data in the clear (base64). Secret: redacted in reports and logs.
    pub plaintext: String,
    /// The algorithm used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<String>,
    /// The id of the key material that decrypted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

impl Block for Decrypt {
    type Input = DecryptInput;
    type Output = DecryptOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.decrypt",
            title: "Decrypt",
            connector: Some(CONNECTOR),
            description: "Decrypts base64 ciphertext produced by Encrypt or GenerateDataKey (Decrypt); the \
                          encryption context must match. The plaintext is a secret, redacted in reports.",
            effect: Effect::Read,
            secret_outputs: &["Plaintext"],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> DecryptOutput {
        DecryptOutput {
            key_id: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                .into(),
            plaintext: "aGVsbG8sIHdvcmxk".into(),
            encryption_algorithm: Some("SYMMETRIC_DEFAULT".into()),
            key_material_id: None,
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: DecryptInput,
    ) -> Result<DecryptOutput, BlockError> {
        let ciphertext = blob("ciphertext_blob", &input.ciphertext_blob)?;
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::Decrypt).await;
        let response = kms
            .sdk()
            .decrypt()
            .ciphertext_blob(ciphertext)
            .set_key_id(input.key_id)
            .set_encryption_context(encryption_context(&input.encryption_context))
            .set_encryption_algorithm(input.encryption_algorithm.map(EncryptionAlgorithm::sdk))
            .send()
            .await
            .map_err(|e| sdk_error(Operation::Decrypt, e))?;
        Ok(DecryptOutput {
            key_id: response.key_id().unwrap_or_default().to_string(),
            plaintext: base64(required("Decrypt", "Plaintext", response.plaintext())?),
            encryption_algorithm: response
                .encryption_algorithm()
                .map(|a| a.as_str().to_string()),
            key_material_id: response.key_material_id().map(str::to_string),
        })
    }
}
