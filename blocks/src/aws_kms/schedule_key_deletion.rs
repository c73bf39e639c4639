//! `aws-kms.schedule-key-deletion`: Schedule Key Deletion (ScheduleKeyDeletion).

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, LogLevel, Recovery,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Operation;
use super::recovery::{describe, pending_deletion};
use super::shapes::time;
use super::{CONNECTOR, checks, client, sdk_error};

/// Schedules the deletion of a key.
pub struct ScheduleKeyDeletion;

fn thirty() -> i32 {
    30
}

/// Input of `aws-kms.schedule-key-deletion`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleKeyDeletionInput {
    /// The key: its id or ARN.
    pub key_id: String,
    /// Days before the key is deleted, 7 to 30 (default 30); `aws-kms.cancel-key-deletion` can stop it
    /// until then.
    #[serde(default = "thirty")]
    #[schemars(range(min = 7, max = 30))]
    pub pending_window_in_days: i32,
}

/// Output of `aws-kms.schedule-key-deletion`: the ScheduleKeyDeletion response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionOutput {
    /// The key's ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// When the key will be deleted (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<String>,
    /// `PendingDeletion`, or `PendingReplicaDeletion` for a primary whose replicas go first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_state: Option<String>,
    /// The waiting period in days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_window_in_days: Option<i32>,
}

impl Block for ScheduleKeyDeletion {
    type Input = ScheduleKeyDeletionInput;
    type Output = ScheduleKeyDeletionOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.schedule-key-deletion",
            title: "Schedule Key Deletion",
            connector: Some(CONNECTOR),
            description: "Schedules the deletion of a key after 7 to 30 days (ScheduleKeyDeletion). Once deleted, \
                          everything encrypted under it is lost for good. A key already pending deletion (a retry \
                          or `keyflow resume` after a lost answer) answers its current deletion date.",
            effect: Effect::Destructive,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::ReadFirst,
        }
    }

    fn example_output(&self) -> ScheduleKeyDeletionOutput {
        ScheduleKeyDeletionOutput {
            key_id: Some(
                "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            ),
            deletion_date: Some("2026-12-23T09:00:00Z".into()),
            key_state: Some("PendingDeletion".into()),
            pending_window_in_days: Some(30),
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: ScheduleKeyDeletionInput,
    ) -> Result<ScheduleKeyDeletionOutput, BlockError> {
        let (min, max) = super::facts::DELETION_WINDOW_DAYS;
        checks::within(
            "pending_window_in_days",
            input.pending_window_in_days,
            min,
            max,
        )?;
        let kms = client(ctx)?;
        kms.limit(ctx, Operation::ScheduleKeyDeletion).await;
        let scheduled = kms
            .sdk()
            .schedule_key_deletion()
            .key_id(&input.key_id)
            .pending_window_in_days(input.pending_window_in_days)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::ScheduleKeyDeletion, e));
        let response = match scheduled {
            // AWS refuses to schedule a key pending deletion: read it, and answer its date when it is.
            Err(error) if error.code == "KMSInvalidStateException" => {
                let Some(key) = describe(ctx, kms, &input.key_id, None)
                    .await?
                    .filter(pending_deletion)
                else {
                    return Err(error);
                };
                ctx.log(
                    LogLevel::Info,
                    format!("{} is already pending deletion", key.key_id()),
                );
                return Ok(ScheduleKeyDeletionOutput {
                    key_id: key.arn().map(str::to_string),
                    deletion_date: time(key.deletion_date()),
                    key_state: key.key_state().map(|s| s.as_str().to_string()),
                    pending_window_in_days: key.pending_deletion_window_in_days(),
                });
            }
            other => other?,
        };
        Ok(ScheduleKeyDeletionOutput {
            key_id: response.key_id().map(str::to_string),
            deletion_date: time(response.deletion_date()),
            key_state: response.key_state().map(|s| s.as_str().to_string()),
            pending_window_in_days: response.pending_window_in_days(),
        })
    }
}
