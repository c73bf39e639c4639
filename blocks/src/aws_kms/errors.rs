//! AWS SDK errors as block errors: the KMS error code and message kept (cut to [`crate::cut`]'s sizes),
//! whether a retry may help, and whether the call may have taken effect although it failed (in doubt:
//! the request went out and no answer came back, or a 5xx came back).

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
            } else if never_sent(&error) {
                BlockError::retryable(
                    "DispatchFailure",
                    format!("{operation}: cannot reach AWS KMS: {detail}"),
                )
            } else {
                // The connection broke after the request went out: AWS may have applied it.
                BlockError::retryable(
                    "DispatchFailure",
                    format!("{operation}: no answer from AWS KMS: {detail}"),
                )
                .in_doubt()
            }
        }
        SdkError::ResponseError(_) => {
            // An answer came but could not be read (cut off, malformed): unless AWS refused the request
            // (4xx), it may have been applied, and trying again settles it.
            let applied = status_of(&error).is_none_or(|s| !(400..500).contains(&s));
            BlockError {
                retryable: applied,
                in_doubt: applied,
                ..BlockError::fatal("ResponseError", format!("{operation}: {}", context(&error)))
            }
        }
        _ => BlockError::fatal("RequestError", format!("{operation}: {}", context(&error))),
    }
}

/// Whether a dispatch failure happened before the request could go out: the connection was refused or
/// could not be made (DNS, no route), so AWS saw nothing.
fn never_sent(error: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind;
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::AddrNotAvailable
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
            )
        {
            return true;
        }
        // hyper-util's connector names its failures so: "tcp connect error", "dns error".
        let text = error.to_string();
        if text.starts_with("tcp connect error") || text.starts_with("dns error") {
            return true;
        }
        cause = error.source();
    }
    false
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

#[cfg(test)]
mod tests {
    use aws_sdk_kms::config::retry::RetryConfig;
    use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};

    use super::*;
    use crate::peers;

    /// What DescribeKey against `url` fails with.
    async fn describe(url: &str) -> BlockError {
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .endpoint_url(url)
            .credentials_provider(Credentials::new("AKIATEST", "secret", None, None, "test"))
            .retry_config(RetryConfig::disabled())
            .build();
        let error = aws_sdk_kms::Client::from_conf(config)
            .describe_key()
            .key_id("k")
            .send()
            .await
            .expect_err("no answer");
        sdk_error(Operation::DescribeKey, error)
    }

    #[tokio::test]
    async fn a_connection_closed_after_the_request_went_out_is_in_doubt() {
        let error = describe(&peers::hangs_up()).await;
        assert!(error.retryable, "{error:?}");
        assert!(error.in_doubt, "{error:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_not_in_doubt() {
        let error = describe(&peers::refuses()).await;
        assert_eq!(error.code, "DispatchFailure", "{error:?}");
        assert!(error.retryable, "{error:?}");
        assert!(!error.in_doubt, "{error:?}");
    }
}
