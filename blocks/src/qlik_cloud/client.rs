//! The client of a `qlik-cloud` connection: one HTTP client, the credentials, and the tenant's rate
//! tiers (reads 1000/min, writes 100/min) applied before every call so a fan-out is paced, not refused.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use keyflow_engine::block::BlockError;
use keyflow_engine::exec::report::REDACTED;
use reqwest::Method;
use reqwest::header::HeaderValue;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::errors;

/// Calls per minute per tenant, as Qlik's rate tiers count them.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    /// Tier 1, reads (GET): default 1000 per minute; 0 lifts the limit.
    #[serde(default = "reads")]
    pub reads_per_minute: u32,
    /// Tier 2, writes (POST, PATCH, DELETE): default 100 per minute; 0 lifts the limit.
    #[serde(default = "writes")]
    pub writes_per_minute: u32,
}

fn reads() -> u32 {
    1000
}

fn writes() -> u32 {
    100
}

impl Default for Tiers {
    fn default() -> Tiers {
        Tiers {
            reads_per_minute: reads(),
            writes_per_minute: writes(),
        }
    }
}

/// A 2xx answer: its status and its JSON body, if it had one.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status (200, 201, 204, 205…).
    pub status: u16,
    /// The body, when there was one.
    pub body: Option<Value>,
}

/// What a request came to: a 2xx answer, or another one (kept with its status, so that a block can tell
/// "already exists" from other refusals).
#[derive(Debug)]
pub enum Outcome {
    /// A 2xx answer.
    Done(Answer),
    /// Any other answer, as the error it is.
    Refused {
        /// The HTTP status (409, 428…).
        status: u16,
        /// The error the answer makes.
        error: BlockError,
    },
}

/// The client of a `qlik-cloud` connection.
pub struct QlikClient {
    http: reqwest::Client,
    base: String,
    auth: Auth,
    reads: Option<DefaultDirectRateLimiter>,
    writes: Option<DefaultDirectRateLimiter>,
}

/// A limiter that never lets more than `per_minute` calls into any one-minute window: a burst of a tenth,
/// refilled at the rest.
fn limiter(per_minute: u32) -> Option<DefaultDirectRateLimiter> {
    if per_minute == 0 {
        return None;
    }
    let burst = NonZeroU32::new((per_minute / 10).max(1))?;
    let refill = NonZeroU32::new(per_minute.saturating_sub(burst.get()).max(1))?;
    Some(RateLimiter::direct(
        Quota::per_minute(refill).allow_burst(burst),
    ))
}

/// `https://` added when no scheme is given, no trailing slash.
pub(super) fn normalize(url: &str) -> Result<String, BlockError> {
    let url = url.trim();
    let url = if url.contains("://") {
        url.to_string()
    } else {
        format!("https://{url}")
    };
    let url = url.trim_end_matches('/').to_string();
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(url)
        }
        _ => Err(BlockError::fatal(
            "InvalidTenantUrl",
            format!(
                "`tenant_url` `{url}` is not a tenant URL such as https://acme.eu.qlikcloud.com"
            ),
        )),
    }
}

/// The wait a `Retry-After` value asks for, in either of its forms (RFC 9110 §10.2.3): delay-seconds
/// (`120`) or an HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`), which is a wait until then from `now` (none
/// when it has passed). Anything else asks for nothing.
pub(super) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The error with the bearer token the call sent masked: an OAuth access token is fetched after the
/// connection is made, so the run does not know it as a secret, and a server may echo it.
fn without_token(mut error: BlockError, bearer: &HeaderValue) -> BlockError {
    let token = bearer.to_str().ok().and_then(|v| v.strip_prefix("Bearer "));
    if let Some(token) = token.filter(|t| t.len() >= 4) {
        error.message = error.message.replace(token, REDACTED);
        error.code = error.code.replace(token, REDACTED);
    }
    error
}

impl QlikClient {
    /// A client of the tenant at `tenant_url`.
    pub fn new(tenant_url: &str, auth: Auth, tiers: Tiers) -> Result<QlikClient, BlockError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("keyflow/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            // A step's `retry:` is the only retry layer, so that `attempts` counts every request.
            .retry(reqwest::retry::never())
            .build()
            .map_err(|e| {
                BlockError::fatal("HttpClient", format!("cannot build the HTTP client: {e}"))
            })?;
        Ok(QlikClient {
            http,
            base: normalize(tenant_url)?,
            auth,
            reads: limiter(tiers.reads_per_minute),
            writes: limiter(tiers.writes_per_minute),
        })
    }

    /// The tenant's URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The secrets the client holds: its credentials, and any inside the tenant's URL (`user:password@`).
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = self.auth.secrets();
        if let Ok(url) = reqwest::Url::parse(&self.base) {
            secrets.extend(url.password().map(str::to_string));
            secrets.extend(Some(url.username().to_string()).filter(|u| !u.is_empty()));
        }
        secrets
    }

    /// Calls `method path` (under the tenant URL) with an optional JSON body; a non-2xx answer is an
    /// error named after `operation`. A 401 with OAuth credentials fetches a new token and tries once more.
    pub async fn call(
        &self,
        operation: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, BlockError> {
        match self.attempt(operation, method, path, body).await? {
            Outcome::Done(answer) => Ok(answer),
            Outcome::Refused { error, .. } => Err(error),
        }
    }

    /// As [`QlikClient::call`], but a non-2xx answer comes back with its status ([`Outcome::Refused`]);
    /// only a call that got no answer is an error.
    pub async fn attempt(
        &self,
        operation: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Outcome, BlockError> {
        let tier = if method == Method::GET {
            &self.reads
        } else {
            &self.writes
        };
        if let Some(limiter) = tier {
            limiter.until_ready().await;
        }
        let mut renew = false;
        loop {
            let bearer = self.auth.bearer(&self.http, &self.base, renew).await?;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .header(reqwest::header::AUTHORIZATION, bearer.clone());
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|e| errors::transport(operation, &self.base, &e))?;
            let status = response.status().as_u16();
            if status == 401 && self.auth.renewable() && !renew {
                renew = true;
                continue;
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, SystemTime::now()));
            if !(200..300).contains(&status) {
                let body = errors::read_body(response).await;
                let error = errors::from_body(operation, status, retry_after, &body);
                return Ok(Outcome::Refused {
                    status,
                    error: without_token(error, &bearer),
                });
            }
            let text = response
                .text()
                .await
                .map_err(|e| errors::transport(operation, &self.base, &e))?;
            let body = if text.trim().is_empty() {
                None
            } else {
                Some(serde_json::from_str(&text).map_err(|e| {
                    BlockError::fatal(
                        "InvalidResponse",
                        format!("{operation}: HTTP {status} with a body that is not JSON ({e})"),
                    )
                })?)
            };
            return Ok(Outcome::Done(Answer { status, body }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_urls_are_normalized_or_refused() {
        assert_eq!(
            normalize("acme.eu.qlikcloud.com/").ok().as_deref(),
            Some("https://acme.eu.qlikcloud.com")
        );
        assert_eq!(
            normalize("http://127.0.0.1:8080").ok().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            normalize("ftp://acme").err().map(|e| e.code),
            Some("InvalidTenantUrl".to_string())
        );
        assert!(normalize("https://").is_err());
    }

    #[test]
    fn retry_after_is_read_in_both_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00 UTC
        assert_eq!(retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        let in_a_minute = Some(Duration::from_secs(60));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now),
            in_a_minute
        );
        // RFC 850 and asctime, the obsolete forms a recipient must still read.
        assert_eq!(
            retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now),
            in_a_minute
        );
        assert_eq!(retry_after("Wed Oct 21 07:29:00 2015", now), in_a_minute);
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-5", now), None);
    }

    /// What a GET of the tenant against `url` fails with.
    async fn get(url: &str) -> BlockError {
        let auth = Auth::api_key(super::super::context::ApiKey {
            key: "key".to_string().into(),
            from: "the test".into(),
        })
        .expect("an API key");
        let client = QlikClient::new(url, auth, Tiers::default()).expect("a client");
        client
            .call("Get Tenant", Method::GET, "/api/v1/tenants/me", None)
            .await
            .expect_err("no answer")
    }

    #[tokio::test]
    async fn a_connection_closed_after_the_request_went_out_is_in_doubt() {
        let error = get(&crate::peers::hangs_up()).await;
        assert!(error.retryable, "{error:?}");
        assert!(error.in_doubt, "{error:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_not_in_doubt() {
        let error = get(&crate::peers::refuses()).await;
        assert_eq!(error.code, "DispatchFailure", "{error:?}");
        assert!(!error.in_doubt, "{error:?}");
    }

    #[test]
    fn no_minute_window_gets_more_than_the_tier() {
        // A burst of a tenth plus the refill of one minute is the tier itself.
        let hundred = limiter(100).expect("a limit");
        let burst = (0..200).take_while(|_| hundred.check().is_ok()).count();
        assert_eq!(burst, 10);
        assert!(limiter(0).is_none());
    }
}
