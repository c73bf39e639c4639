//! `core.log`: write a message to the run's log.

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, LogLevel, Recovery,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Writes a message to the run's log.
pub struct Log;

/// Input of `core.log`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogInput {
    /// What to log: text (templates welcome) or any value, which is logged as JSON.
    pub message: Value,
    /// Severity: `debug`, `info` (default), `warn` or `error`.
    #[serde(default = "info")]
    pub level: LogLevel,
}

fn info() -> LogLevel {
    LogLevel::Info
}

/// Output of `core.log`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LogOutput {
    /// The message as logged.
    pub message: String,
}

impl Block for Log {
    type Input = LogInput;
    type Output = LogOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "core.log",
            title: "Log",
            connector: None,
            description: "Writes a message to the run's log (shown under the step and kept in the step's output).",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> LogOutput {
        LogOutput {
            message: "created key 1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        }
    }

    async fn run(&self, ctx: &BlockContext, input: LogInput) -> Result<LogOutput, BlockError> {
        let message = match input.message {
            Value::String(text) => text,
            other => other.to_string(),
        };
        ctx.log(input.level, message.clone());
        Ok(LogOutput { message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn logs_text_as_is_and_values_as_json() {
        let ctx = BlockContext::detached("log");
        let out = Log
            .run(
                &ctx,
                LogInput {
                    message: json!("hello"),
                    level: LogLevel::Info,
                },
            )
            .await
            .unwrap();
        assert_eq!(out.message, "hello");
        let out = Log
            .run(
                &ctx,
                LogInput {
                    message: json!({"a": 1}),
                    level: LogLevel::Warn,
                },
            )
            .await
            .unwrap();
        assert_eq!(out.message, r#"{"a":1}"#);
    }
}
