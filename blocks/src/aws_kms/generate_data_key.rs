//! `aws-kms.generate-data-key`: Generate Data Key (GenerateDataKey).

use indexmap::IndexMap;
use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Operation;
use super::shapes::{base64, encryption_context, required};
use super::{CONNECTOR, client, sdk_error};

/// Generates a data key for envelope encryption.
pub struct GenerateDataKey;

/// The length of a data key.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
pub enum DataKeySpec {
    /// A 256-bit key.
    #[serde(rename = "AES_256")]
    Aes256,
    /// A 128-bit key.
    #[serde(rename = "AES_128")]
    Aes128,
}

/// Input of `aws-kms.generate-data-key`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateDataKeyInput {
    /// The symmetric key that encrypts the data key: its id, ARN, alias name or alias ARN.
    pub key_id: String,
    /// `AES_256` or `AES_128`; give this or `number_of_bytes` (`AES_256` when neither is given).
    #[serde(default)]
    pub key_spec: Option<DataKeySpec>,
    /// The data key's length in bytes, 1 to 1024, instead of `key_spec`.
    #[serde(default)]
    #[schemars(range(min = 1, max = 1024))]
    pub number_of_bytes: Option<i32>,
    /// Pairs bound to the ciphertext: decrypting needs the same ones (`{ TenantId: t-1 }`).
    #[serde(default)]
    pub encryption_context: IndexMap<String, String>,
}

/// Output of `aws-kms.generate-data-key`: the GenerateDataKey response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyOutput {
    /// The data key encrypted under the KMS key (base64): store this one.
    pub ciphertext_blob: String,
    /// The data key in the clear (base64). Secret: redacted in reports and logs; use it and forget it.
    pub plaintext: String,
    /// The ARN of the KMS key that encrypted the data key.
    pub key_id: String,
    /// The id of the key material that encrypted the data key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

impl Block for GenerateDataKey {
    type Input = GenerateDataKeyInput;
    type Output = GenerateDataKeyOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.generate-data-key",
            title: "Generate Data Key",
            connector: Some(CONNECTOR),
            description: "Generates a data key for envelope encryption (GenerateDataKey): returned in the clear (a \
                          secret, redacted in reports) and encrypted under the KMS key.",
            effect: Effect::Read,
            secret_outputs: &["Plaintext"],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> GenerateDataKeyOutput {
        GenerateDataKeyOutput {
            ciphertext_blob: "AQIDAHhBUi1hc3ludGhldGljLWV4YW1wbGUtY2lwaGVydGV4dC1ibG9i".into(),
            plaintext: "VGhpcyBpcyBhbiBleGFtcGxlIGRhdGEga2V5ISEhISE=".into(),
            key_id: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                .into(),
            key_material_id: None,
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: GenerateDataKeyInput,
    ) -> Result<GenerateDataKeyOutput, BlockError> {
        let spec = match (input.key_spec, input.number_of_bytes) {
            (Some(_), Some(_)) => {
                return Err(BlockError::invalid_input(
                    "give `key_spec` or `number_of_bytes`, not both: AWS accepts one of them",
                ));
            }
            (None, Some(bytes)) => {
                super::checks::within("number_of_bytes", bytes, 1, 1024)?;
                None
            }
            (spec, None) => Some(match spec.unwrap_or(DataKeySpec::Aes256) {
                DataKeySpec::Aes256 => aws_sdk_kms::types::DataKeySpec::Aes256,
                DataKeySpec::Aes128 => aws_sdk_kms::types::DataKeySpec::Aes128,
            }),
        };
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::GenerateDataKey).await;
        let response = kms
            .sdk()
            .generate_data_key()
            .key_id(input.key_id)
            .set_key_spec(spec)
            .set_number_of_bytes(input.number_of_bytes)
            .set_encryption_context(encryption_context(&input.encryption_context))
            .send()
            .await
            .map_err(|e| sdk_error(Operation::GenerateDataKey, e))?;
        Ok(GenerateDataKeyOutput {
            ciphertext_blob: base64(required(
                "GenerateDataKey",
                "CiphertextBlob",
                response.ciphertext_blob(),
            )?),
            plaintext: base64(required(
                "GenerateDataKey",
                "Plaintext",
                response.plaintext(),
            )?),
            key_id: response.key_id().unwrap_or_default().to_string(),
            key_material_id: response.key_material_id().map(str::to_string),
        })
    }
}
