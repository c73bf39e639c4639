//! The Tenants API the Encryption API's clients need: `me` (a 302 to the caller's tenant, with a relative
//! `Location` so clients keep the token across it) and the tenant itself.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::auth::{Caller, on_tenant};
use super::state::Twin;
use super::wire::{self, ApiError};

/// `GET /api/v1/tenants/me`: 302 to `/api/v1/tenants/<id>`.
pub async fn me(caller: Caller) -> Result<Response, ApiError> {
    let location = format!("/api/v1/tenants/{}", caller.tenant_id);
    let location = HeaderValue::from_str(&location).map_err(|_| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            .detail("the tenant id cannot be written in a header")
    })?;
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

/// `GET /api/v1/tenants/{id}`: the caller's own tenant; any other id is not found.
pub async fn by_id(
    State(twin): State<Arc<Twin>>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if id != caller.tenant_id {
        return Ok(wire::tenant_not_found(&id));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let base = format!("http://{host}");
    on_tenant(&twin, &caller, |tenant| {
        Ok(Json(wire::tenant(tenant, &base)).into_response())
    })
}
