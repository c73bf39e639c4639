//! `core.fail`: stop with an error.

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Fails the step with a message (usually behind an `if:`).
pub struct Fail;

/// Input of `core.fail`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailInput {
    /// Why the flow stops.
    pub message: String,
    /// The error code the report shows (default `Fail`).
    #[serde(default)]
    pub code: Option<String>,
}

/// `core.fail` has no output: it always fails.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FailOutput {}

impl Block for Fail {
    type Input = FailInput;
    type Output = FailOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "core.fail",
            title: "Fail",
            connector: None,
            description: "Fails the step with `message` (and `code`), stopping the run unless the step has `on_error: continue`.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> FailOutput {
        FailOutput {}
    }

    async fn run(&self, _: &BlockContext, input: FailInput) -> Result<FailOutput, BlockError> {
        Err(BlockError::fatal(
            input.code.unwrap_or_else(|| "Fail".into()),
            input.message,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn always_fails_with_the_message_and_code() {
        let ctx = BlockContext::detached("f");
        let error = Fail
            .run(
                &ctx,
                FailInput {
                    message: "no".into(),
                    code: Some("Stop".into()),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            (error.code.as_str(), error.message.as_str(), error.retryable),
            ("Stop", "no", false)
        );
    }
}
