//! `qlik-cloud.list-key-providers`: List Key Providers (`GET …/keyproviders/actions/list`).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use reqwest::Method;
use schemars::JsonSchema;
use serde::Deserialize;

use super::shapes::{KeyProvider, decode_list, example_provider};
use super::{CONNECTOR, client};

/// Lists the tenant's key providers.
pub struct ListKeyProviders;

/// Input of `qlik-cloud.list-key-providers`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListKeyProvidersInput {
    /// Only the AWS-KMS providers (`GET …/keyproviders`), without Qlik's default one.
    #[serde(default)]
    pub aws_only: bool,
}

impl Block for ListKeyProviders {
    type Input = ListKeyProvidersInput;
    type Output = Vec<KeyProvider>;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.list-key-providers",
            title: "List Key Providers",
            connector: Some(CONNECTOR),
            description: "Lists the tenant's key providers, Qlik's default one included (`aws_only: true` leaves it \
                          out); the one in use has `current: true`.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> Vec<KeyProvider> {
        vec![example_provider()]
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: ListKeyProvidersInput,
    ) -> Result<Vec<KeyProvider>, BlockError> {
        let path = if input.aws_only {
            "/api/v1/encryption/keyproviders"
        } else {
            "/api/v1/encryption/keyproviders/actions/list"
        };
        let answer = client(ctx)?
            .call("List Key Providers", Method::GET, path, None)
            .await?;
        decode_list("List Key Providers", answer.body)
    }
}
