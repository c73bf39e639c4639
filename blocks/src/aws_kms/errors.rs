//! AWS SDK errors as block errors: the KMS error code and message kept (cut to [`crate::cut`]'s sizes),
//! and whether a retry may help.

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use keyflow_engine::block::BlockError;

use super::Operation;
use crate::cut;

/// KMS error codes worth a retry: throttling and transient service trouble.
pub(super) const RETRYABLE: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "KMSInternalException",
    "DependencyTimeoutException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
];

/// Maps an SDK error of operation `operation` to a block error.
pub fn sdk_error<E>(operation: Operation, error: SdkError<E, HttpResponse>) -> BlockError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code =
                cut::text(err.code().unwrap_or("UnknownError"), cut::CODE_CHARS).into_owned();
            let message = err
                .message()
                .map_or_else(|| DisplayErrorContext(err).to_string(), str::to_string);
            let message = cut::text(&message, cut::TEXT_CHARS);
            let retryable =
                RETRYABLE.contains(&code.as_str()) || status_of(&error).is_some_and(|s| s >= 500);
            BlockError {
                code,
                message: format!("{operation}: {message}"),
                retryable,
                retry_after: None,
                // A 5xx answered after the request reached the service: it may have been applied.
                in_doubt: retryable && status_of(&error).is_some_and(|s| s >= 500),
            }
        }
        SdkError::TimeoutError(_) => BlockError::retryable(
            "Timeout",
            format!("{operation}: the call to AWS KMS timed out"),
        )
        .in_doubt(),
        SdkError::DispatchFailure(failure) => {
            let detail = context(&error);
            if failure.is_user()
                || detail.contains("no credentials")
                || detail.contains("credentials provider")
            {
                BlockError::fatal(
                    "NoCredentials",
                    format!(
                        "{operation}: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, \
                         use SSO (`aws sso login`), or give the connection a `role_arn` ({detail})"
                    ),
                )
            } else {
                BlockError::retryable(
                    "DispatchFailure",
                    format!("{operation}: cannot reach AWS KMS: {detail}"),
                )
            }
        }
        SdkError::ResponseError(_) => {
            let retryable = status_of(&error).is_none_or(|s| s >= 500);
            BlockError {
                retryable,
                ..BlockError::fatal("ResponseError", format!("{operation}: {}", context(&error)))
            }
        }
        _ => BlockError::fatal("RequestError", format!("{operation}: {}", context(&error))),
    }
}

/// The SDK's account of an error with its causes, cut: a raw response it could not parse may be huge.
fn context(error: &(dyn std::error::Error + 'static)) -> String {
    cut::text(&DisplayErrorContext(error).to_string(), cut::TEXT_CHARS).into_owned()
}

fn status_of<E>(error: &SdkError<E, HttpResponse>) -> Option<u16> {
    match error {
        SdkError::ServiceError(service) => Some(service.raw().status().as_u16()),
        SdkError::ResponseError(response) => Some(response.raw().status().as_u16()),
        _ => None,
    }
}
