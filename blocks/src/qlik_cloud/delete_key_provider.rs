//! `qlik-cloud.delete-key-provider`: Delete Key Provider (`DELETE …/keyproviders/{arnFingerPrint}`).

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, LogLevel, Recovery,
};
use reqwest::Method;
use schemars::JsonSchema;
use serde::Serialize;

use super::client::Outcome;
use super::shapes::{FingerprintInput, fingerprint_path};
use super::{CONNECTOR, client};

/// Removes a key provider from the tenant.
pub struct DeleteKeyProvider;

/// Output of `qlik-cloud.delete-key-provider`: Qlik's message, when it sends one.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Deleted {
    /// What Qlik said (`Key provider metadata deleted successfully`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Block for DeleteKeyProvider {
    type Input = FingerprintInput;
    type Output = Deleted;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.delete-key-provider",
            title: "Delete Key Provider",
            connector: Some(CONNECTOR),
            description: "Removes a key provider that is not in use from the tenant (Qlik's default and the current \
                          one cannot be removed: HTTP-424).",
            effect: Effect::Destructive,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::ReadFirst,
        }
    }

    fn example_output(&self) -> Deleted {
        Deleted {
            message: Some("Key provider metadata deleted successfully".into()),
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: FingerprintInput,
    ) -> Result<Deleted, BlockError> {
        let path = format!(
            "/api/v1/encryption/keyproviders/{}",
            fingerprint_path(&input.fingerprint)?
        );
        let outcome = client(ctx)?
            .attempt("Delete Key Provider", Method::DELETE, &path, None)
            .await?;
        let answer = match outcome {
            Outcome::Done(answer) => answer,
            // An earlier attempt whose answer was lost deleted it: what this call asked for is done.
            Outcome::Refused { status: 404, .. } if ctx.recovering() => {
                ctx.log(
                    LogLevel::Info,
                    format!(
                        "key provider {} is gone: an earlier attempt whose answer was lost deleted it",
                        input.fingerprint
                    ),
                );
                return Ok(Deleted { message: None });
            }
            Outcome::Refused { error, .. } => return Err(error),
        };
        let message = answer.body.as_ref().and_then(|b| {
            b.get("message")
                .or_else(|| b.get("response"))
                .and_then(|m| m.as_str())
                .map(str::to_string)
        });
        Ok(Deleted { message })
    }
}
