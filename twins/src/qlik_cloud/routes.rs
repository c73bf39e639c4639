//! The twin's routes: the ten Encryption API endpoints, the Tenants API's `me` and `{id}`, the OAuth token
//! endpoint, and a 404 for everything else (including `product-info.json`, which Qlik's own client probes
//! without a token to tell a cloud tenant from a Windows server).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::state::Twin;
use super::wire::ApiError;
use super::{auth, migrations, providers, tenants};

/// Every route of the twin over `twin`.
pub fn router(twin: Arc<Twin>) -> Router {
    const PROVIDERS: &str = "/api/v1/encryption/keyproviders";
    Router::new()
        .route(PROVIDERS, get(providers::list_aws).post(providers::create))
        .route(
            &format!("{PROVIDERS}/actions/list"),
            get(providers::list_all),
        )
        .route(
            &format!("{PROVIDERS}/actions/reset-to-default-provider"),
            post(migrations::reset),
        )
        .route(
            &format!("{PROVIDERS}/migration/actions/details"),
            get(migrations::details),
        )
        .route(
            &format!("{PROVIDERS}/{{fingerprint}}"),
            get(providers::get_one)
                .patch(providers::patch)
                .delete(providers::delete),
        )
        .route(
            &format!("{PROVIDERS}/{{fingerprint}}/actions/migrate"),
            post(migrations::migrate),
        )
        .route(
            &format!("{PROVIDERS}/{{fingerprint}}/actions/test"),
            post(providers::test),
        )
        .route("/api/v1/tenants/me", get(tenants::me))
        .route("/api/v1/tenants/{id}", get(tenants::by_id))
        .route("/oauth/token", post(auth::token))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(twin.clone(), count))
        .with_state(twin)
}

/// Counts every answer, by status.
async fn count(State(twin): State<Arc<Twin>>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    twin.count(response.status().as_u16());
    response
}

/// Any other path: 404, without asking for a token.
/// What the twin does not implement: a clear answer naming the request, not a bare 404.
async fn not_found(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        &format!(
            "`{method} {}` is not an endpoint the Qlik Cloud twin implements",
            uri.path()
        ),
    )
    .code("UnknownOperation")
    .into_response()
}
