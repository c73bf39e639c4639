//! The migration endpoints: migrate to a provider, reset to the Qlik default, and the last migration's
//! details. One migration per tenant at a time; it completes on its own as time passes.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::{Caller, on_tenant};
use super::model::TenantState;
use super::providers::check_provider_key;
use super::state::Twin;
use super::wire::{self, ApiError};
use super::wire::{check_fingerprint, no_such_provider};

/// Whether the tenant can start migrating to `fp` now: 404, 428 (one running), 412 (already current).
fn can_migrate(tenant: &TenantState, fp: &str, now: Instant) -> Result<(), ApiError> {
    if tenant.provider(fp).is_none() {
        return Err(no_such_provider(fp));
    }
    if let Some(running) = tenant.running_migration(now) {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "There is already an ongoing migration for the tenant",
        )
        .detail(format!(
            "migration `{}` to `{}` must complete first",
            running.id, running.to
        )));
    }
    if tenant.current == fp {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "Failed to initiate migration",
        )
        .detail(format!(
            "`{fp}` is already the tenant's current key provider"
        )));
    }
    Ok(())
}

/// `POST /keyproviders/{fingerprint}/actions/migrate`: validates an AWS key again (424 when it fails),
/// then starts the migration and answers 200 with it.
pub async fn migrate(
    State(twin): State<Arc<Twin>>,
    caller: Caller,
    Path(fp): Path<String>,
) -> Result<Response, ApiError> {
    check_fingerprint(&fp)?;
    let (_, checked) = check_provider_key(&twin, &caller, &fp, |tenant| {
        can_migrate(tenant, &fp, Instant::now())
    })
    .await?;
    // Qlik validates the key before any migration; a key it cannot use stops the migration here.
    let facts = checked.transpose().map_err(|refusal| {
        ApiError::new(StatusCode::FAILED_DEPENDENCY, "Failed to prepare migration")
            .detail(refusal.detail())
    })?;
    let duration = twin.migration_duration;
    on_tenant(&twin, &caller, |tenant| {
        let now = Instant::now();
        can_migrate(tenant, &fp, now)?;
        if let (Some(facts), Some(provider)) = (facts, tenant.provider_mut(&fp)) {
            provider.key = Some(facts);
        }
        let tenant_id = tenant.seed.id.clone();
        let migration = tenant
            .start_migration(&fp, duration)
            .ok_or_else(|| no_such_provider(&fp))?;
        Ok(Json(wire::migration(&tenant_id, migration, now)).into_response())
    })
}

/// `POST /keyproviders/actions/reset-to-default-provider`: 200 when already on Qlik, 406 while a
/// migration runs, else 205 with the migration back to the Qlik provider.
pub async fn reset(State(twin): State<Arc<Twin>>, caller: Caller) -> Result<Response, ApiError> {
    let duration = twin.migration_duration;
    on_tenant(&twin, &caller, |tenant| {
        let now = Instant::now();
        if let Some(running) = tenant.running_migration(now) {
            return Err(ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "There is already an ongoing migration in progress for this tenant, this must complete before a new migration can be started",
            )
            .detail(format!("migration `{}` to `{}` is running", running.id, running.to)));
        }
        let tenant_id = tenant.seed.id.clone();
        if tenant.current == tenant_id {
            let body =
                json!({ "message": "Tenant is already using Qlik KMS, no migration is required." });
            return Ok(Json(body).into_response());
        }
        let migration = tenant
            .start_migration(&tenant_id, duration)
            .ok_or_else(|| no_such_provider(&tenant_id))?;
        let body = wire::migration(&tenant_id, migration, now);
        Ok((StatusCode::RESET_CONTENT, Json(body)).into_response())
    })
}

/// `GET /keyproviders/migration/actions/details`: the running or last migration; 404 when there never
/// was one.
pub async fn details(State(twin): State<Arc<Twin>>, caller: Caller) -> Result<Response, ApiError> {
    on_tenant(&twin, &caller, |tenant| {
        let Some(migration) = &tenant.migration else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "There is no ongoing migration for this tenant",
            )
            .detail("this tenant has never migrated its key provider"));
        };
        Ok(Json(wire::migration(&tenant.seed.id, migration, Instant::now())).into_response())
    })
}
