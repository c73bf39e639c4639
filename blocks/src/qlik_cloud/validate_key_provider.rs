//! `qlik-cloud.validate-key-provider`: Validate Key Provider (`POST …/{arnFingerPrint}/actions/test`).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use reqwest::Method;

use super::shapes::{FingerprintInput, KeyProvider, decode, example_provider, fingerprint_path};
use super::{CONNECTOR, client};

/// Has Qlik Cloud check that it can use a key provider's key.
pub struct ValidateKeyProvider;

impl Block for ValidateKeyProvider {
    type Input = FingerprintInput;
    type Output = KeyProvider;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.validate-key-provider",
            title: "Validate Key Provider",
            connector: Some(CONNECTOR),
            description: "Has Qlik Cloud check its access to a key provider's key, the key policy and the key's \
                          configuration; the answer's `drCompliant` and `complianceError` say what it found.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> KeyProvider {
        example_provider()
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: FingerprintInput,
    ) -> Result<KeyProvider, BlockError> {
        let path = format!(
            "/api/v1/encryption/keyproviders/{}/actions/test",
            fingerprint_path(&input.fingerprint)?
        );
        let answer = client(ctx)?
            .call("Validate Key Provider", Method::POST, &path, None)
            .await?;
        decode("Validate Key Provider", answer.body)
    }
}
