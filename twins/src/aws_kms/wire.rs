//! The AWS JSON 1.1 wire: error answers (`{"__type", "message"}`), request bodies read into typed structs,
//! base64 blobs, and the counters the twin keeps.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An error answer: AWS's error code (`NotFoundException`), its message and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsError {
    /// The status: 400 for the caller's faults, 500 for the twin's.
    pub status: StatusCode,
    /// The `__type` (`NotFoundException`).
    pub code: &'static str,
    /// The `message`.
    pub message: String,
}

impl KmsError {
    /// A 400 with `code` and `message`.
    pub fn new(code: &'static str, message: impl Into<String>) -> KmsError {
        KmsError {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    /// `ValidationException`.
    pub fn validation(message: impl Into<String>) -> KmsError {
        KmsError::new("ValidationException", message)
    }

    /// `NotFoundException`.
    pub fn not_found(message: impl Into<String>) -> KmsError {
        KmsError::new("NotFoundException", message)
    }

    /// `KMSInvalidStateException`.
    pub fn invalid_state(message: impl Into<String>) -> KmsError {
        KmsError::new("KMSInvalidStateException", message)
    }

    /// `UnsupportedOperationException`.
    pub fn unsupported(message: impl Into<String>) -> KmsError {
        KmsError::new("UnsupportedOperationException", message)
    }

    /// A 500 `KMSInternalException`: a fault of the twin, not of the request.
    pub fn internal(message: impl Into<String>) -> KmsError {
        KmsError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "KMSInternalException",
            message: message.into(),
        }
    }

    /// The answer's body.
    pub fn body(&self) -> Value {
        serde_json::json!({"__type": self.code, "message": self.message})
    }
}

/// The AWS-style message of a required member that is missing.
pub fn missing(member: &str) -> KmsError {
    KmsError::validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: \
         Member must not be null"
    ))
}

/// A request body as `T` (PascalCase fields, unknown ones ignored as AWS ignores them).
pub fn parse<T: DeserializeOwned>(body: &Value) -> Result<T, KmsError> {
    serde_json::from_value(body.clone()).map_err(|e| {
        KmsError::new(
            "SerializationException",
            format!("the request body does not match the operation's shape: {e}"),
        )
    })
}

/// A required string member, or AWS's validation error naming it.
pub fn required<'a>(value: &'a Option<String>, member: &str) -> Result<&'a str, KmsError> {
    value.as_deref().ok_or_else(|| missing(member))
}

/// A blob member decoded from base64.
pub fn blob(value: &Option<String>, member: &str) -> Result<Vec<u8>, KmsError> {
    let text = required(value, member)?;
    STANDARD.decode(text).map_err(|_| {
        KmsError::new(
            "SerializationException",
            format!("`{member}` is not base64: send binary members base64-encoded"),
        )
    })
}

/// Bytes as the base64 of a blob member.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Requests and refusals of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OperationStats {
    /// Requests naming the operation.
    pub requests: u64,
    /// Of them, refused with `ThrottlingException`.
    pub throttled: u64,
}

/// What the twin has answered so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KmsStats {
    /// Every request received.
    pub requests: u64,
    /// Requests refused with `ThrottlingException`.
    pub throttled: u64,
    /// Requests refused with `AccessDeniedException`.
    pub access_denied: u64,
    /// Per operation (`Encrypt`), for requests with a known `X-Amz-Target`.
    pub operations: BTreeMap<String, OperationStats>,
}
