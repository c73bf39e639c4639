//! `qlik-cloud.update-key-provider`: Update Key Provider (`PATCH …/keyproviders/{arnFingerPrint}`).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use reqwest::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::shapes::fingerprint_path;
use super::{CONNECTOR, client};

/// Renames a key provider or changes its description.
pub struct UpdateKeyProvider;

/// Input of `qlik-cloud.update-key-provider`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateKeyProviderInput {
    /// The provider's `arnFingerPrint`.
    #[schemars(length(min = 1, max = 64))]
    pub fingerprint: String,
    /// Its new name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its new description.
    #[serde(default)]
    pub description: Option<String>,
}

/// Output of `qlik-cloud.update-key-provider`: Qlik answers 204 without a body, so `{}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Updated {}

impl Block for UpdateKeyProvider {
    type Input = UpdateKeyProviderInput;
    type Output = Updated;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.update-key-provider",
            title: "Update Key Provider",
            connector: Some(CONNECTOR),
            description: "Changes the name and/or description of a key provider (a JSON Patch `replace` of `/name` \
                          and `/description`).",
            effect: Effect::Update,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Reapply,
        }
    }

    fn example_output(&self) -> Updated {
        Updated {}
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: UpdateKeyProviderInput,
    ) -> Result<Updated, BlockError> {
        let path = format!(
            "/api/v1/encryption/keyproviders/{}",
            fingerprint_path(&input.fingerprint)?
        );
        let patch: Vec<serde_json::Value> =
            [("/name", input.name), ("/description", input.description)]
                .into_iter()
                .filter_map(|(field, value)| {
                    value.map(|v| serde_json::json!({"op": "replace", "path": field, "value": v}))
                })
                .collect();
        if patch.is_empty() {
            return Err(BlockError::invalid_input(
                "give `name`, `description` or both: there is nothing to change",
            ));
        }
        client(ctx)?
            .call(
                "Update Key Provider",
                Method::PATCH,
                &path,
                Some(&serde_json::Value::Array(patch)),
            )
            .await?;
        Ok(Updated {})
    }
}
