//! The key-provider endpoints: list (AWS only, or all with the Qlik default), create, get, patch, delete,
//! and test (validate), with the statuses of the spec.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::auth::{Caller, on_tenant};
use super::model::{KeyFacts, Provider, Refusal, TenantState, fingerprint};
use super::state::Twin;
use super::wire::ApiError;
use super::wire::{check_fingerprint, no_such_provider};
use super::{arn, wire};

/// The title of every 408: the KMS peer did not answer.
pub const TIMEOUT_TITLE: &str = "Failed to return a response within the timeout window. The key provider (QlikVault, AWS-KMS) might be unavailable.";

/// `GET /keyproviders`: the AWS providers, as a bare array.
pub async fn list_aws(State(twin): State<Arc<Twin>>, caller: Caller) -> Result<Response, ApiError> {
    list(&twin, &caller, false)
}

/// `GET /keyproviders/actions/list`: every provider, the Qlik default first, as a bare array.
pub async fn list_all(State(twin): State<Arc<Twin>>, caller: Caller) -> Result<Response, ApiError> {
    list(&twin, &caller, true)
}

fn list(twin: &Twin, caller: &Caller, with_qlik: bool) -> Result<Response, ApiError> {
    on_tenant(twin, caller, |tenant| {
        let listed: Vec<Value> = tenant
            .providers
            .iter()
            .filter(|p| with_qlik || !p.is_qlik())
            .map(|p| wire::provider(tenant, p))
            .collect();
        Ok(Json(listed).into_response())
    })
}

/// The fields of a create request that matter; read-only and unknown ones are ignored.
struct CreateRequest {
    arn: String,
    name: String,
    description: Option<String>,
}

impl CreateRequest {
    fn parse(body: &[u8]) -> Result<CreateRequest, ApiError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
        let Some(object) = value.as_object() else {
            return Err(ApiError::bad_request(
                "the body must be a JSON object with `arn`, `name` and `keyprovider`",
            ));
        };
        let text = |field: &str| {
            object
                .get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let arn = text("arn").ok_or_else(|| {
            ApiError::bad_request("`arn` is required: the ARN of the AWS KMS key (or its alias)")
        })?;
        let name = text("name").ok_or_else(|| {
            ApiError::bad_request("`name` is required: the display name of the key provider")
        })?;
        let kind = text("keyprovider").or_else(|| text("keyProvider"));
        if let Some(kind) = kind.filter(|k| k != "AWS-KMS") {
            return Err(ApiError::bad_request(format!(
                "`keyprovider` is `{kind}`; the only provider type is `AWS-KMS`"
            )));
        }
        Ok(CreateRequest {
            arn,
            name,
            description: text("description"),
        })
    }
}

/// The answer to a key the KMS checks refused at create.
fn refused(refusal: &Refusal) -> ApiError {
    let (status, title) = match refusal {
        Refusal::Unreachable(_) => (StatusCode::REQUEST_TIMEOUT, TIMEOUT_TITLE),
        Refusal::Forbidden(_) | Refusal::Policy { .. } => (
            StatusCode::FORBIDDEN,
            "Unable to access the provided AWS-KMS key, access is forbidden. Check if AWS key policy allows access from Qlik Cloud.",
        ),
        Refusal::Unusable(_) => (
            StatusCode::NOT_ACCEPTABLE,
            "Failed to register the provided AWS-KMS key",
        ),
    };
    ApiError::new(status, title).detail(refusal.detail())
}

fn already_registered(arn: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "The provided key is already registered",
    )
    .detail(arn)
}

/// `POST /keyproviders`: ARN structure (417), duplicate (409), the KMS checks (403/406/408), then 201.
pub async fn create(
    State(twin): State<Arc<Twin>>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = CreateRequest::parse(&body)?;
    arn::parse(&request.arn).map_err(|why| {
        ApiError::new(
            StatusCode::EXPECTATION_FAILED,
            "Failed to validate AWS-KMS ARN structure",
        )
        .detail(why)
    })?;
    let datacenter = on_tenant(&twin, &caller, |tenant| {
        if tenant.providers.iter().any(|p| p.arn == request.arn) {
            return Err(already_registered(&request.arn));
        }
        Ok(tenant.seed.datacenter.clone())
    })?;
    let key = twin
        .check_key(&request.arn, &caller.tenant_id, &datacenter)
        .await
        .transpose()
        .map_err(|refusal| refused(&refusal))?;
    on_tenant(&twin, &caller, |tenant| {
        // Checked again: another create of the same key may have finished while KMS was asked.
        if tenant.providers.iter().any(|p| p.arn == request.arn) {
            return Err(already_registered(&request.arn));
        }
        let provider = Provider {
            fingerprint: fingerprint(&tenant.seed.id, &request.arn),
            arn: request.arn,
            name: request.name,
            description: request.description,
            created_at: Some(Utc::now()),
            promoted_at: None,
            demoted_at: None,
            key,
        };
        let body = wire::provider(tenant, &provider);
        tenant.providers.push(provider);
        Ok((StatusCode::CREATED, Json(body)).into_response())
    })
}

/// `GET /keyproviders/{fingerprint}`.
pub async fn get_one(
    State(twin): State<Arc<Twin>>,
    caller: Caller,
    Path(fp): Path<String>,
) -> Result<Response, ApiError> {
    check_fingerprint(&fp)?;
    on_tenant(&twin, &caller, |tenant| {
        let provider = tenant.provider(&fp).ok_or_else(|| no_such_provider(&fp))?;
        Ok(Json(wire::provider(tenant, provider)).into_response())
    })
}

/// The fields a patch may replace.
enum Field {
    Name,
    Description,
}

/// A JSON Patch of `replace` operations on `/name` and `/description`, or why not.
fn parse_patch(body: &[u8]) -> Result<Vec<(Field, String)>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Some(operations) = value.as_array().filter(|ops| !ops.is_empty()) else {
        return Err("the body must be a non-empty JSON Patch array, as in \
                    `[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"…\"}]`"
            .into());
    };
    operations
        .iter()
        .enumerate()
        .map(|(index, operation)| {
            let field = |name: &str| operation.get(name).and_then(Value::as_str);
            let at = format!("operation {}", index + 1);
            if field("op") != Some("replace") {
                return Err(format!("{at}: only `op: replace` is supported"));
            }
            let target = match field("path") {
                Some("/name") => Field::Name,
                Some("/description") => Field::Description,
                _ => return Err(format!("{at}: `path` must be `/name` or `/description`")),
            };
            match (field("value"), &target) {
                (Some(""), Field::Name) => Err(format!("{at}: the name cannot be empty")),
                (Some(value), _) => Ok((target, value.to_string())),
                (None, _) => Err(format!("{at}: `value` must be a string")),
            }
        })
        .collect()
}

/// `PATCH /keyproviders/{fingerprint}`: 204 without a body.
pub async fn patch(
    State(twin): State<Arc<Twin>>,
    caller: Caller,
    Path(fp): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    check_fingerprint(&fp)?;
    let operations = parse_patch(&body).map_err(|why| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "Failed to decode key provider patch request payload",
        )
        .detail(why)
    })?;
    on_tenant(&twin, &caller, |tenant| {
        let provider = tenant
            .provider_mut(&fp)
            .ok_or_else(|| no_such_provider(&fp))?;
        if provider.is_qlik() {
            return Err(ApiError::new(
                StatusCode::EXPECTATION_FAILED,
                "Failed to patch key provider information",
            )
            .detail("the default Qlik managed key provider cannot be changed"));
        }
        for (field, value) in operations {
            match field {
                Field::Name => provider.name = value,
                Field::Description => provider.description = Some(value),
            }
        }
        Ok(StatusCode::NO_CONTENT)
    })
}

/// `DELETE /keyproviders/{fingerprint}`: 424 for the Qlik default, the current provider, or the target of a
/// running migration; else 204 (the message body Qlik documents is dropped by HTTP for a 204).
pub async fn delete(
    State(twin): State<Arc<Twin>>,
    caller: Caller,
    Path(fp): Path<String>,
) -> Result<Response, ApiError> {
    check_fingerprint(&fp)?;
    on_tenant(&twin, &caller, |tenant| {
        let provider = tenant.provider(&fp).ok_or_else(|| no_such_provider(&fp))?;
        let in_use = |why: &str| {
            ApiError::new(
                StatusCode::FAILED_DEPENDENCY,
                "The requested key is being used and cannot be deleted",
            )
            .detail(why)
        };
        if provider.is_qlik() {
            return Err(in_use(
                "the default Qlik managed key provider cannot be deleted",
            ));
        }
        if tenant.current == fp {
            return Err(in_use(
                "it is the tenant's current key provider: migrate to another provider first",
            ));
        }
        let now = std::time::Instant::now();
        if tenant
            .running_migration(now)
            .is_some_and(|m| m.to_fingerprint == fp)
        {
            return Err(in_use("a migration to it is running"));
        }
        tenant.providers.retain(|p| p.fingerprint != fp);
        let body = json!({ "message": "Key provider metadata deleted successfully" });
        Ok((StatusCode::NO_CONTENT, Json(body)).into_response())
    })
}

/// Finds provider `fp` of the caller's tenant (once `allowed` lets it) and checks its key in KMS as
/// Qlik does: its ARN, and the check's outcome (`None` for Qlik's own key, or without a KMS peer).
pub async fn check_provider_key(
    twin: &Twin,
    caller: &Caller,
    fp: &str,
    allowed: impl FnOnce(&TenantState) -> Result<(), ApiError>,
) -> Result<(String, Option<Result<KeyFacts, Refusal>>), ApiError> {
    let (key_arn, datacenter, is_qlik) = on_tenant(twin, caller, |tenant| {
        allowed(tenant)?;
        let provider = tenant.provider(fp).ok_or_else(|| no_such_provider(fp))?;
        Ok((
            provider.arn.clone(),
            tenant.seed.datacenter.clone(),
            provider.is_qlik(),
        ))
    })?;
    let checked = match is_qlik {
        true => None,
        false => {
            twin.check_key(&key_arn, &caller.tenant_id, &datacenter)
                .await
        }
    };
    Ok((key_arn, checked))
}

/// `POST /keyproviders/{fingerprint}/actions/test`: reruns the KMS checks and answers 201 with the
/// provider, its `drCompliant` and `complianceError` refreshed; 408 when KMS does not answer.
pub async fn test(
    State(twin): State<Arc<Twin>>,
    caller: Caller,
    Path(fp): Path<String>,
) -> Result<Response, ApiError> {
    check_fingerprint(&fp)?;
    let (key_arn, checked) = check_provider_key(&twin, &caller, &fp, |_| Ok(())).await?;
    if let Some(Err(Refusal::Unreachable(why))) = &checked {
        return Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, TIMEOUT_TITLE).detail(why.clone()));
    }
    on_tenant(&twin, &caller, |tenant| {
        let provider = tenant
            .provider_mut(&fp)
            .ok_or_else(|| no_such_provider(&fp))?;
        match checked {
            Some(Ok(facts)) => provider.key = Some(facts),
            Some(Err(refusal)) => {
                let region = arn::parse(&key_arn).map(|k| k.region).unwrap_or_default();
                let previous = provider.key.take();
                provider.key = Some(KeyFacts {
                    multi_region: previous.as_ref().is_some_and(|k| k.multi_region),
                    replica_keys: previous.map(|k| k.replica_keys).unwrap_or_default(),
                    dr_compliant: false,
                    compliance_error: Some(refusal.compliance(region)),
                });
            }
            None => {}
        }
        let provider = tenant.provider(&fp).ok_or_else(|| no_such_provider(&fp))?;
        Ok((StatusCode::CREATED, Json(wire::provider(tenant, provider))).into_response())
    })
}
