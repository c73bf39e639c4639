//! `qlik-cloud.get-migration-details`: Get Ongoing Key Provider Migration Details
//! (`GET …/keyproviders/migration/actions/details`).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use reqwest::Method;

use super::shapes::{MigrationInformation, NoInput, decode, example_migration};
use super::{CONNECTOR, client};

/// Reads the tenant's ongoing or last migration.
pub struct GetMigrationDetails;

impl Block for GetMigrationDetails {
    type Input = NoInput;
    type Output = MigrationInformation;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.get-migration-details",
            title: "Get Ongoing Key Provider Migration Details",
            connector: Some(CONNECTOR),
            description: "Reads the tenant's ongoing or last key migration: its `state` (`New`, `InProgress`, \
                          `Completed`) and `progress`; fails with HTTP-404 when the tenant never migrated.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> MigrationInformation {
        example_migration()
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        _input: NoInput,
    ) -> Result<MigrationInformation, BlockError> {
        let path = "/api/v1/encryption/keyproviders/migration/actions/details";
        let answer = client(ctx)?
            .call("Get Migration Details", Method::GET, path, None)
            .await?;
        decode("Get Migration Details", answer.body)
    }
}
