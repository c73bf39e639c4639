//! The error a block returns: retryable or not, with the service's own code and message.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A failed call. `code` is the service's own error code (`NotFoundException`) or keyflow's for its own
/// failures (`InvalidInput`, `Timeout`); `retryable` says whether trying again may succeed (throttling,
/// timeouts, 5xx) or not (validation, not found, access denied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("{code}: {message}")]
pub struct BlockError {
    /// The service's error code, or keyflow's.
    pub code: String,
    /// What went wrong, in the service's words where it gave some.
    pub message: String,
    /// Whether a retry may succeed.
    pub retryable: bool,
    /// The delay the service asked for before a retry (`Retry-After`), when it gave one.
    #[serde(skip)]
    #[schemars(skip)]
    pub retry_after: Option<Duration>,
    /// The call may have taken effect although it failed (it timed out after it went out, the connection
    /// dropped before the answer, a 5xx): the next attempt is told to settle it first
    /// ([`crate::block::BlockContext::recovering`]).
    #[serde(skip)]
    #[schemars(skip)]
    pub in_doubt: bool,
}

impl BlockError {
    /// A failure that retrying will not fix.
    pub fn fatal(code: impl Into<String>, message: impl Into<String>) -> BlockError {
        BlockError {
            code: code.into(),
            message: message.into(),
            retryable: false,
            retry_after: None,
            in_doubt: false,
        }
    }

    /// A failure that may pass on a retry.
    pub fn retryable(code: impl Into<String>, message: impl Into<String>) -> BlockError {
        BlockError {
            retryable: true,
            ..BlockError::fatal(code, message)
        }
    }

    /// The same error, asking for at least `delay` before the next attempt.
    pub fn with_retry_after(self, delay: Duration) -> BlockError {
        BlockError {
            retry_after: Some(delay),
            ..self
        }
    }

    /// The same error, saying the call may have taken effect although it failed.
    pub fn in_doubt(self) -> BlockError {
        BlockError {
            in_doubt: true,
            ..self
        }
    }

    /// The input did not match the block's input schema.
    pub fn invalid_input(message: impl Into<String>) -> BlockError {
        BlockError::fatal("InvalidInput", message)
    }

    /// The error as the run context and reports show it: `{code, message, retryable}`.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
        })
    }
}
