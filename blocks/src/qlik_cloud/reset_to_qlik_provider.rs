//! `qlik-cloud.reset-to-qlik-provider`: Reset a Migration to Qlik Provider
//! (`POST …/keyproviders/actions/reset-to-default-provider`).

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, LogLevel, Recovery,
};
use reqwest::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::client::Outcome;
use super::recovery::{QLIK_PROVIDER, last_migration};
use super::shapes::{MigrationInformation, NoInput, decode, example_migration};
use super::{CONNECTOR, client};

/// Moves the tenant back to Qlik's own key provider.
pub struct ResetToQlikProvider;

/// Output of `qlik-cloud.reset-to-qlik-provider`: Qlik's message when the tenant is already on its own
/// provider (HTTP 200), or the migration it started (HTTP 205).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetOutput {
    /// Whether a migration was started (false: already on Qlik's provider).
    pub migration_started: bool,
    /// Qlik's message when nothing was needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The migration back to Qlik's provider, when one started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationInformation>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    message: Option<String>,
}

impl Block for ResetToQlikProvider {
    type Input = NoInput;
    type Output = ResetOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.reset-to-qlik-provider",
            title: "Reset a Migration to Qlik Provider",
            connector: Some(CONNECTOR),
            description: "Moves the tenant's keys back to Qlik's own key provider (nothing happens when it already \
                          uses it). Destructive: the customer-managed key stops protecting the tenant. A migration \
                          back to Qlik's provider already under way (Qlik's 406, as after a retry or `keyflow \
                          resume` whose answer was lost) is answered as the one started.",
            effect: Effect::Destructive,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::ReadFirst,
        }
    }

    fn example_output(&self) -> ResetOutput {
        let mut migration = example_migration();
        migration.migrating_to = QLIK_PROVIDER.into();
        ResetOutput {
            migration_started: true,
            message: None,
            migration: Some(migration),
        }
    }

    async fn run(&self, ctx: &BlockContext, _input: NoInput) -> Result<ResetOutput, BlockError> {
        let path = "/api/v1/encryption/keyproviders/actions/reset-to-default-provider";
        let outcome = client(ctx)?
            .attempt("Reset to Qlik Provider", Method::POST, path, None)
            .await?;
        let answer = match outcome {
            Outcome::Done(answer) => answer,
            // "There is already an ongoing migration": when it goes back to Qlik's provider, it is the one
            // this call asked for.
            Outcome::Refused { status: 406, error } => {
                let Some(migration) = last_migration(ctx)
                    .await?
                    .filter(|m| m.migrating_to == QLIK_PROVIDER)
                else {
                    return Err(error);
                };
                ctx.log(
                    LogLevel::Info,
                    format!(
                        "migration {} back to Qlik's provider is already {}: using it",
                        migration.id, migration.state
                    ),
                );
                return Ok(ResetOutput {
                    migration_started: true,
                    message: None,
                    migration: Some(migration),
                });
            }
            Outcome::Refused { error, .. } => return Err(error),
        };
        if answer.status == 205
            || answer
                .body
                .as_ref()
                .is_some_and(|b| b.get("state").is_some())
        {
            // 205 carries the migration; a client that drops 205 bodies would leave it to migration details.
            let migration = match answer.body {
                Some(body) => Some(decode("Reset to Qlik Provider", Some(body))?),
                None => None,
            };
            return Ok(ResetOutput {
                migration_started: true,
                message: None,
                migration,
            });
        }
        let message = answer
            .body
            .and_then(|b| serde_json::from_value::<Message>(b).ok())
            .and_then(|m| m.message);
        Ok(ResetOutput {
            migration_started: false,
            message,
            migration: None,
        })
    }
}
