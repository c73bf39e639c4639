//! Who is calling: bearer tokens (API keys, or access tokens issued at `POST /oauth/token` for the
//! client-credentials grant) mapped to their tenant, and the tier limit each call counts against.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::limits::{Tier, retry_after_secs};
use super::state::{TenantState, Twin, lock};
use super::wire::ApiError;
use super::{EmulatorConfig, OAuthClient};

/// An issued access token.
#[derive(Debug)]
struct Issued {
    tenant: String,
    expires: Instant,
}

/// The credentials the twin accepts.
#[derive(Debug)]
pub struct Tokens {
    api_keys: HashMap<String, String>,
    clients: Vec<OAuthClient>,
    issued: HashMap<String, Issued>,
    ttl: Duration,
}

impl Tokens {
    /// The API keys and OAuth clients of `config` whose tenant it hosts.
    pub fn new(config: &EmulatorConfig) -> Tokens {
        let hosted = |tenant: &str| config.tenants.iter().any(|t| t.id == tenant);
        Tokens {
            api_keys: config
                .api_keys
                .iter()
                .filter(|(_, tenant)| hosted(tenant))
                .cloned()
                .collect(),
            clients: config
                .oauth_clients
                .iter()
                .filter(|c| hosted(&c.tenant_id))
                .cloned()
                .collect(),
            issued: HashMap::new(),
            ttl: config.token_ttl,
        }
    }

    /// The tenant `token` acts in at `now`; an expired access token is forgotten.
    fn tenant_of(&mut self, token: &str, now: Instant) -> Option<String> {
        if let Some(tenant) = self.api_keys.get(token) {
            return Some(tenant.clone());
        }
        let issued = self.issued.get(token)?;
        if now >= issued.expires {
            self.issued.remove(token);
            return None;
        }
        Some(issued.tenant.clone())
    }

    /// Accepts `key` as an API key of `tenant` from now on.
    pub fn add_api_key(&mut self, key: &str, tenant: &str) {
        self.api_keys.insert(key.to_string(), tenant.to_string());
    }

    /// Forgets every issued access token, as a tenant admin revoking a client's sessions would: the next
    /// call with one gets 401. API keys stay valid.
    pub fn revoke(&mut self) {
        self.issued.clear();
    }

    /// A new access token for the client, or `None` when the id or secret is wrong.
    fn issue(&mut self, client_id: &str, secret: &str, now: Instant) -> Option<String> {
        let client = self
            .clients
            .iter()
            .find(|c| c.client_id == client_id && c.client_secret == secret)?;
        let token = format!(
            "qtw_{}{}",
            uuid::Uuid::now_v7().simple(),
            uuid::Uuid::now_v7().simple()
        );
        let issued = Issued {
            tenant: client.tenant_id.clone(),
            expires: now + self.ttl,
        };
        self.issued.insert(token.clone(), issued);
        Some(token)
    }
}

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
