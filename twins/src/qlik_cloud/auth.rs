//! Who is calling: bearer tokens (API keys, or access tokens issued at `POST /oauth/token` for the
//! client-credentials grant) mapped to their tenant, and the tier limit each call counts against.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::limits::{Tier, retry_after_secs};
use super::model::TenantState;
use super::state::Twin;
use super::wire::ApiError;
use crate::sync::lock;

/// The bearer token of a request.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The tenant of an authenticated request that fits in its tier; extracting it answers 401 or 429.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The tenant the token acts in.
    pub tenant_id: String,
}

impl FromRequestParts<Arc<Twin>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, twin: &Arc<Twin>) -> Result<Caller, ApiError> {
        let now = Instant::now();
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        let known = lock(&twin.tokens).tenant_of(token, now);
        let tenant_id = known
            .or_else(|| twin.provision(token))
            .ok_or_else(ApiError::unauthorized)?;
        let tier = if parts.method == Method::GET || parts.method == Method::HEAD {
            Tier::Read
        } else {
            Tier::Write
        };
        lock(&twin.limiter)
            .admit(&tenant_id, tier, now)
            .map_err(|wait| ApiError::rate_limited(retry_after_secs(wait)))?;
        Ok(Caller { tenant_id })
    }
}

/// Runs `f` on the caller's tenant (always hosted: its token names it).
pub fn on_tenant<R>(
    twin: &Twin,
    caller: &Caller,
    f: impl FnOnce(&mut TenantState) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    twin.with_tenant(&caller.tenant_id, f)
        .unwrap_or_else(|| Err(ApiError::unauthorized()))
}

/// `POST /oauth/token`: the client-credentials grant, JSON in and out.
pub async fn token(State(twin): State<Arc<Twin>>, body: Bytes) -> Response {
    let invalid = |detail: &str| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request")
            .code("OAUTH-1")
            .detail(detail)
            .into_response()
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid(
            "the body must be a JSON object with `client_id`, `client_secret` and `grant_type`",
        );
    };
    let field = |name: &str| request.get(name).and_then(Value::as_str);
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "unsupported_grant_type")
                .code("OAUTH-2")
                .detail(format!(
                    "grant type `{other}` is not supported; use `client_credentials`"
                ))
                .into_response();
        }
        None => return invalid("`grant_type` is required (`client_credentials`)"),
    }
    let (Some(client_id), Some(secret)) = (field("client_id"), field("client_secret")) else {
        return invalid("`client_id` and `client_secret` are required");
    };
    let now = Instant::now();
    let (issued, ttl) = {
        let mut tokens = lock(&twin.tokens);
        (tokens.issue(client_id, secret, now), tokens.ttl)
    };
    let Some(access_token) = issued else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "invalid_client")
            .code("OAUTH-3")
            .detail("unknown `client_id` or wrong `client_secret`")
            .into_response();
    };
    twin.count_token();
    let expires_at = chrono::Duration::from_std(ttl)
        .ok()
        .and_then(|ttl| Utc::now().checked_add_signed(ttl))
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true));
    axum::Json(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": ttl.as_secs(),
        "expires_at": expires_at,
    }))
    .into_response()
}
