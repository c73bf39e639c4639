//! `qlik-cloud.trigger-migration`: Trigger Migration to Key Provider (`POST …/{arnFingerPrint}/actions/migrate`).

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, LogLevel, Recovery,
};
use reqwest::Method;

use super::client::Outcome;
use super::recovery::last_migration;
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
                          working. Poll `qlik-cloud.get-migration-details` with `until:` to wait for `Completed`. \
                          A migration to the same provider already under way (Qlik's 428, or a retry or `keyflow \
                          resume` whose answer was lost) is answered instead of starting another.",
            effect: Effect::Update,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::ReadFirst,
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
        if ctx.recovering()
            && let Some(found) = migration_to(ctx, &input.fingerprint).await?
        {
            return Ok(found);
        }
        let outcome = client(ctx)?
            .attempt("Trigger Migration", Method::POST, &path, None)
            .await?;
        match outcome {
            Outcome::Done(answer) => decode("Trigger Migration", answer.body),
            // A migration is under way (428; 409 from a proxy that words it so): this call's, or another.
            Outcome::Refused {
                status: 428 | 409,
                error,
            } => migration_to(ctx, &input.fingerprint).await?.ok_or(error),
            Outcome::Refused { error, .. } => Err(error),
        }
    }
}

/// The tenant's last migration when it moves keys to `fingerprint`: the one this call asked for.
async fn migration_to(
    ctx: &BlockContext,
    fingerprint: &str,
) -> Result<Option<MigrationInformation>, BlockError> {
    let found = last_migration(ctx)
        .await?
        .filter(|m| m.migrating_to_fingerprint.as_deref() == Some(fingerprint));
    if let Some(migration) = &found {
        ctx.log(
            LogLevel::Info,
            format!(
                "migration {} to {fingerprint} is already {}: using it",
                migration.id, migration.state
            ),
        );
    }
    Ok(found)
}
