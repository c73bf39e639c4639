//! How a connection proves who it is: an API key, or an OAuth access token fetched with client
//! credentials, cached until shortly before it expires and fetched again when the tenant answers 401.

use std::time::{Duration, Instant};

use keyflow_engine::block::BlockError;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::context::ApiKey;
use super::errors;

/// A token is renewed this long before it expires, so no call goes out with one about to lapse.
const MARGIN: Duration = Duration::from_secs(30);
/// The longest a token is kept, whatever lifetime the server claims: an absurd `expires_in` (near
/// `u64::MAX` seconds) must not overflow the clock, and a day-old token is worth renewing anyway.
const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// A connection's credentials, held where `Debug` and logs cannot print them.
pub enum Auth {
    /// An API key, sent as the bearer token.
    ApiKey(SecretString),
    /// OAuth client credentials and the token they got.
    OAuth {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: SecretString,
        /// The current access token and when to renew it.
        token: Mutex<Option<(SecretString, Instant)>>,
    },
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: SecretString,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    expires_at: Option<String>,
}

impl Auth {
    /// An API key; refused when it cannot be sent in a header (a line break from a key file's second
    /// line, another control character), saying where it came from and never what it is.
    pub fn api_key(key: ApiKey) -> Result<Auth, BlockError> {
        header(&key.key).map_err(|_| {
            BlockError::fatal(
                "InvalidApiKey",
                format!(
                    "the API key from {} is not a valid HTTP header value: it holds a line break or another \
                     control character (a key file of more than one line?)",
                    key.from
                ),
            )
        })?;
        Ok(Auth::ApiKey(key.key))
    }

    /// OAuth client credentials.
    pub fn oauth(client_id: String, client_secret: SecretString) -> Auth {
        Auth::OAuth {
            client_id,
            client_secret,
            token: Mutex::new(None),
        }
    }

    /// Whether a 401 may be cured by fetching a new token.
    pub fn renewable(&self) -> bool {
        matches!(self, Auth::OAuth { .. })
    }

    /// The secrets the credentials hold, for the run to mask (the access tokens they get later are not
    /// known yet).
    pub fn secrets(&self) -> Vec<String> {
        let secret = match self {
            Auth::ApiKey(key) => key,
            Auth::OAuth { client_secret, .. } => client_secret,
        };
        vec![secret.expose_secret().to_string()]
    }

    /// The `Authorization` header to send: the API key, or a valid access token (a new one when `renew`).
    pub async fn bearer(
        &self,
        http: &reqwest::Client,
        base: &str,
        renew: bool,
    ) -> Result<HeaderValue, BlockError> {
        let (client_id, client_secret, token) = match self {
            Auth::ApiKey(key) => {
                return header(key).map_err(|_| {
                    BlockError::fatal(
                        "InvalidApiKey",
                        "the API key is not a valid HTTP header value",
                    )
                });
            }
            Auth::OAuth {
                client_id,
                client_secret,
                token,
            } => (client_id, client_secret, token),
        };
        let mut token = token.lock().await;
        if let Some((value, renew_at)) = token.as_ref()
            && !renew
            && Instant::now() < *renew_at
        {
            return access(value);
        }
        let (value, lifetime) = fetch(http, base, client_id, client_secret).await?;
        let bearer = access(&value)?;
        *token = Some((value, renew_at(Instant::now(), lifetime)));
        Ok(bearer)
    }
}

/// `Bearer <secret>`, marked sensitive so that HTTP logging leaves it out.
fn header(secret: &SecretString) -> Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", secret.expose_secret()))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The header of an access token the tenant sent.
fn access(token: &SecretString) -> Result<HeaderValue, BlockError> {
    header(token).map_err(|_| {
        BlockError::fatal(
            "InvalidResponse",
            "OAuth token: the access token the tenant sent is not a valid HTTP header value",
        )
    })
}

/// When a token fetched at `now` that lives `lifetime` is renewed: `MARGIN` before it expires (halfway
/// through a short one), and within [`LONGEST`] whatever the server claimed.
fn renew_at(now: Instant, lifetime: Duration) -> Instant {
    let lifetime = lifetime.min(LONGEST);
    let after = lifetime.saturating_sub(MARGIN).max(lifetime / 2);
    now.checked_add(after).unwrap_or(now)
}

/// `POST /oauth/token` with the client credentials: the token and how long it lives.
async fn fetch(
    http: &reqwest::Client,
    base: &str,
    client_id: &str,
    client_secret: &SecretString,
) -> Result<(SecretString, Duration), BlockError> {
    let body = serde_json::json!({
        "client_id": client_id,
        "client_secret": client_secret.expose_secret(),
        "grant_type": "client_credentials",
    });
    let response = http
        .post(format!("{base}/oauth/token"))
        .json(&body)
        .send()
        .await
        .map_err(|e| errors::transport("OAuth token", base, &e))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let body = errors::read_body(response).await;
        let error = errors::from_body("OAuth token", status, None, &body);
        return Err(BlockError {
            code: if status == 401 || status == 403 {
                "InvalidClientCredentials".into()
            } else {
                error.code
            },
            message: format!("{} (check `client_id` and `client_secret`)", error.message),
            ..error
        });
    }
    let text = response.text().await.unwrap_or_default();
    // serde's message may quote a value of the answer, and the answer holds a token: say only where.
    let token: TokenResponse = serde_json::from_str(&text).map_err(|e| {
        BlockError::fatal(
            "InvalidResponse",
            format!(
                "OAuth token: the answer is not a token (`access_token` and `expires_in` expected; \
                 wrong at line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let lifetime = match (token.expires_in, token.expires_at.as_deref()) {
        (Some(seconds), _) => Duration::from_secs(seconds),
        (None, Some(at)) => chrono::DateTime::parse_from_rfc3339(at)
            .ok()
            .and_then(|at| {
                (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                    .to_std()
                    .ok()
            })
            .unwrap_or(Duration::from_secs(300)),
        (None, None) => Duration::from_secs(300),
    };
    Ok((token.access_token, lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_claimed_lifetime_gives_a_renewal_time_within_a_day() {
        let now = Instant::now();
        assert_eq!(
            renew_at(now, Duration::from_secs(3600)),
            now + Duration::from_secs(3570)
        );
        assert_eq!(
            renew_at(now, Duration::from_secs(40)),
            now + Duration::from_secs(20)
        );
        assert_eq!(renew_at(now, Duration::ZERO), now);
        assert_eq!(
            renew_at(now, Duration::from_secs(u64::MAX)),
            now + LONGEST - MARGIN
        );
        assert_eq!(renew_at(now, Duration::MAX), now + LONGEST - MARGIN);
    }
}
