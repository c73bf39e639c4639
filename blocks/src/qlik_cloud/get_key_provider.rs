//! `qlik-cloud.get-key-provider`: Get Key Provider by Fingerprint (`GET …/keyproviders/{arnFingerPrint}`).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use reqwest::Method;

use super::shapes::{FingerprintInput, KeyProvider, decode, example_provider, fingerprint_path};
use super::{CONNECTOR, client};

/// Reads one key provider.
pub struct GetKeyProvider;

impl Block for GetKeyProvider {
    type Input = FingerprintInput;
    type Output = KeyProvider;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.get-key-provider",
            title: "Get Key Provider by Fingerprint",
            connector: Some(CONNECTOR),
            description: "Reads one key provider of the tenant by its `arnFingerPrint`.",
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
            "/api/v1/encryption/keyproviders/{}",
            fingerprint_path(&input.fingerprint)?
        );
        let answer = client(ctx)?
            .call("Get Key Provider", Method::GET, &path, None)
            .await?;
        decode("Get Key Provider", answer.body)
    }
}
