//! Qlik answers as block errors: the code and title of the `{"errors":[{code,title,detail}]}` envelope
//! kept, and whether a retry may help (429 and 5xx after any `Retry-After`, 408). What is read of an
//! error answer and what of it goes into the message are capped ([`crate::cut`]).

use std::time::Duration;

use keyflow_engine::block::BlockError;
use serde::Deserialize;

use crate::cut;

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// An error answer's body as read: at most [`cut::BODY_BYTES`] of it, and what was left unread.
pub struct ErrorBody {
    /// The text read.
    pub text: String,
    /// When the body was longer: how much was read of how much.
    pub cut: Option<String>,
}

/// Reads at most [`cut::BODY_BYTES`] of an error answer's body: a server may send 100 MB of title. A body
/// that breaks off is kept as far as it came.
pub async fn read_body(mut response: reqwest::Response) -> ErrorBody {
    let total = response.content_length();
    let mut bytes = Vec::new();
    let mut more = false;
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = cut::BODY_BYTES - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            more = true;
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    let cut = more.then(|| match total {
        Some(total) => format!(
            "the answer's body was cut after {} of its {total} bytes",
            bytes.len()
        ),
        None => format!("the answer's body was cut after {} bytes", bytes.len()),
    });
    ErrorBody {
        text: String::from_utf8_lossy(&bytes).into_owned(),
        cut,
    }
}

/// The error of a non-2xx answer to `operation` whose body was read by [`read_body`].
pub fn from_body(
    operation: &str,
    status: u16,
    retry_after: Option<Duration>,
    body: &ErrorBody,
) -> BlockError {
    let mut error = from_response(operation, status, retry_after, &body.text);
    if let Some(note) = &body.cut {
        // What was read is not JSON any more: show its beginning, which says what kind of answer it was.
        let start = cut::text(&body.text, 200);
        error
            .message
            .push_str(&format!(" ({note}; it began `{start}`)"));
    }
    error
}

/// The error of a non-2xx answer to `operation`.
pub fn from_response(
    operation: &str,
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
) -> BlockError {
    let item = serde_json::from_str::<Envelope>(body)
        .ok()
        .and_then(|e| e.errors.into_iter().next());
    let code = item
        .as_ref()
        .and_then(|i| i.code.as_deref())
        .filter(|c| !c.is_empty())
        .map(|c| cut::text(c, cut::CODE_CHARS).into_owned());
    let title = item
        .as_ref()
        .and_then(|i| i.title.as_deref())
        .map_or(reason(status).into(), |t| cut::text(t, cut::TEXT_CHARS))
        .into_owned();
    let detail = item
        .as_ref()
        .and_then(|i| i.detail.as_deref())
        .filter(|d| !d.is_empty())
        .map(|d| cut::text(d, cut::TEXT_CHARS).into_owned());
    let mut message = format!("{operation}: HTTP {status}: {title}");
    if let Some(detail) = detail {
        message.push_str(&format!(" ({detail})"));
    }
    if status == 401 {
        message.push_str(" — check the connection's API key or OAuth client");
    }
    let error = BlockError {
        code: code.unwrap_or_else(|| format!("HTTP-{status}")),
        message,
        retryable: status == 429 || status == 408 || status >= 500,
        retry_after: None,
        // A 5xx or a request timeout answered after the request reached the tenant: it may have been
        // applied. A 429 was refused before anything happened.
        in_doubt: status == 408 || status >= 500,
    };
    // 429 and 503 are the answers RFC 9110 gives a `Retry-After`; honour it on any retryable one.
    match retry_after {
        Some(delay) if error.retryable => error.with_retry_after(delay),
        _ => error,
    }
}

/// The error of a call that got no answer. Once the connection was made the request went out, and the
/// tenant may have applied it: such an error is in doubt. A connection that could not be made is not.
pub fn transport(operation: &str, base: &str, error: &reqwest::Error) -> BlockError {
    if error.is_builder() {
        return BlockError::fatal(
            "InvalidTenantUrl",
            format!("{operation}: `{base}` is not a usable URL"),
        );
    }
    if error.is_connect() {
        return BlockError::retryable(
            "DispatchFailure",
            format!("{operation}: cannot reach {base}: {}", root_cause(error)),
        );
    }
    let error = if error.is_timeout() {
        BlockError::retryable(
            "Timeout",
            format!("{operation}: {base} did not answer in time"),
        )
    } else {
        BlockError::retryable(
            "DispatchFailure",
            format!("{operation}: no answer from {base}: {}", root_cause(error)),
        )
    };
    error.in_doubt()
}

/// The innermost cause of an error (`Connection refused`), the part that says what went wrong.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        429 => "Too Many Requests",
        s if s >= 500 => "Server Error",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_gives_code_title_and_detail() {
        let body = r#"{"errors":[{"code":"Encryption-409","title":"The provided key is already registered","detail":"arn:aws:kms:x"}]}"#;
        let error = from_response("Create Key Provider", 409, None, body);
        assert_eq!(error.code, "Encryption-409");
        assert_eq!(
            error.message,
            "Create Key Provider: HTTP 409: The provided key is already registered (arn:aws:kms:x)"
        );
        assert!(!error.retryable);
    }

    #[test]
    fn long_texts_of_the_server_are_cut() {
        let body = format!(
            r#"{{"errors":[{{"code":"{}","title":"{}","detail":"{}"}}]}}"#,
            "C".repeat(500),
            "T".repeat(50_000),
            "D".repeat(2_000)
        );
        let error = from_response("Get", 400, None, &body);
        assert_eq!(
            error.code,
            format!("{}… [400 more characters cut]", "C".repeat(100))
        );
        assert!(
            error.message.contains("… [49000 more characters cut]"),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("… [1000 more characters cut]"),
            "{}",
            error.message
        );
        assert!(error.message.len() < 2_500, "{}", error.message.len());
    }

    #[test]
    fn throttling_timeouts_and_server_errors_are_retryable() {
        let error = from_response(
            "List",
            429,
            Some(Duration::from_secs(13)),
            r#"{"errors":[{"code":"HTTP-429","title":"API rate limit reached."}]}"#,
        );
        assert!(error.retryable);
        assert_eq!(error.retry_after, Some(Duration::from_secs(13)));
        assert!(from_response("Test", 408, None, "").retryable);
        let error = from_response("Get", 502, None, "<html>bad gateway</html>");
        assert!(error.retryable);
        assert_eq!(error.code, "HTTP-502");
        assert!(!from_response("Get", 404, None, "").retryable);
        let unavailable = from_response("Get", 503, Some(Duration::from_secs(5)), "");
        assert_eq!(unavailable.retry_after, Some(Duration::from_secs(5)));
        let refused = from_response("Get", 400, Some(Duration::from_secs(5)), "");
        assert_eq!(refused.retry_after, None);
    }
}
