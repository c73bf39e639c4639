//! `core.sleep`: wait.

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use keyflow_engine::model::DurationSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Waits for a while (cancelled by Ctrl-C).
pub struct Sleep;

/// Input of `core.sleep`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SleepInput {
    /// How long: `500ms`, `30s`, `5m`.
    pub duration: DurationSpec,
}

/// Output of `core.sleep`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SleepOutput {
    /// How long it waited, in milliseconds.
    pub slept_ms: u64,
}

impl Block for Sleep {
    type Input = SleepInput;
    type Output = SleepOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "core.sleep",
            title: "Sleep",
            connector: None,
            description: "Waits for `duration` before the steps after it start.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> SleepOutput {
        SleepOutput { slept_ms: 30_000 }
    }

    async fn run(&self, ctx: &BlockContext, input: SleepInput) -> Result<SleepOutput, BlockError> {
        tokio::select! {
            () = tokio::time::sleep(input.duration.0) => {}
            () = ctx.cancelled() => return Err(BlockError::fatal("Cancelled", "the run was cancelled")),
        }
        Ok(SleepOutput {
            slept_ms: u64::try_from(input.duration.0.as_millis()).unwrap_or(u64::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn sleeps_for_the_duration() {
        let ctx = BlockContext::detached("s");
        let start = tokio::time::Instant::now();
        let out = Sleep
            .run(
                &ctx,
                SleepInput {
                    duration: DurationSpec(Duration::from_secs(90)),
                },
            )
            .await
            .unwrap();
        assert_eq!(out.slept_ms, 90_000);
        assert!(start.elapsed() >= Duration::from_secs(90));
    }
}
