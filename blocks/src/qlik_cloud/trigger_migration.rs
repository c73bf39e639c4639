//! `qlik-cloud.trigger-migration`: Trigger Migration to Key Provider (`POST …/{arnFingerPrint}/actions/migrate`).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use reqwest::Method;

use super::shapes::{
    FingerprintInput, MigrationInformation, decode, example_migration, fingerprint_path,
};
use super::{CONNECTOR, client};

/// Starts moving the tenant's keys to another key provider.
pub struct TriggerMigration;

impl Block for TriggerMigration {
    type Input = FingerprintInput;
    type Output = MigrationInformation;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.trigger-migration",
            title: "Trigger Migration to Key Provider",
            connector: Some(CONNECTOR),
            description: "Starts re-encrypting the tenant's keys under another key provider; the tenant keeps \
                          working. Poll `qlik-cloud.get-migration-details` with `until:` to wait for `Completed`.",
            effect: Effect::Update,
            secret_outputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Reapply,
        }
    }

    fn example_output(&self) -> MigrationInformation {
        let mut migration = example_migration();
        migration.state = "New".into();
        migration.progress = Some(0.0);
        migration
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: FingerprintInput,
    ) -> Result<MigrationInformation, BlockError> {
        let path = format!(
            "/api/v1/encryption/keyproviders/{}/actions/migrate",
            fingerprint_path(&input.fingerprint)?
        );
        let answer = client(ctx)?
            .call("Trigger Migration", Method::POST, &path, None)
            .await?;
        decode("Trigger Migration", answer.body)
    }
}
