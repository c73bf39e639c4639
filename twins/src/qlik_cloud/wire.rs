//! The JSON the twin speaks, field for field as Qlik's examples show it: KeyProvider, MigrationInformation,
//! Tenant, and the `{"errors":[…]}` envelope.

use std::time::Instant;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::model::{Migration, Phase, Provider, TenantState};

/// What Qlik writes for "never".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// An error answer: a status and one entry of the standard envelope.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    title: String,
    detail: Option<String>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error of the Encryption API, coded `Encryption-<status>`.
    pub fn new(status: StatusCode, title: &str) -> ApiError {
        ApiError {
            status,
            code: format!("Encryption-{}", status.as_u16()),
            title: title.to_string(),
            detail: None,
            retry_after: None,
        }
    }

    /// The 401 every endpoint gives a missing or unknown token.
    pub fn unauthorized() -> ApiError {
        ApiError {
            code: "HTTP-401".into(),
            ..ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized, invalid JWT")
        }
    }

    /// The 429 of a full tier, waiting `seconds`.
    pub fn rate_limited(seconds: u64) -> ApiError {
        ApiError {
            code: "HTTP-429".into(),
            retry_after: Some(seconds),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "API rate limit reached.").detail(
                format!("You need to wait {seconds} seconds until limit is lifted."),
            )
        }
    }

    /// A 400 "Bad Request" saying what is wrong.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "Bad Request").detail(detail)
    }

    /// The same error with another code.
    pub fn code(self, code: &str) -> ApiError {
        ApiError {
            code: code.into(),
            ..self
        }
    }

    /// The same error with extra information.
    pub fn detail(self, detail: impl Into<String>) -> ApiError {
        ApiError {
            detail: Some(detail.into()),
            ..self
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut item = Map::new();
        item.insert("code".into(), self.code.into());
        item.insert("title".into(), self.title.into());
        if let Some(detail) = self.detail {
            item.insert("detail".into(), detail.into());
        }
        let mut response = (self.status, axum::Json(json!({ "errors": [item] }))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The Tenants API's 404, with its richer envelope (`status` as a string, `traceId`).
pub fn tenant_not_found(id: &str) -> Response {
    let trace: String = uuid::Uuid::now_v7().simple().to_string();
    let body = json!({
        "errors": [{
            "code": "TENANTS-8",
            "title": "Not found",
            "detail": format!("Tenant `{id}` not found."),
            "status": "404"
        }],
        "traceId": trace
    });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// A timestamp as Qlik writes provider times (`2023-07-14T18:17:23Z`), or the zero time.
fn seconds(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || ZERO_TIME.to_string(),
        |at| at.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// A KeyProvider. `current` appears only when true, as in Qlik's examples; the KMS fields only when the
/// twin checked the key.
pub fn provider(tenant: &TenantState, provider: &Provider) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), provider.name.clone().into());
    if let Some(description) = &provider.description {
        out.insert("description".into(), description.clone().into());
    }
    out.insert("tenantId".into(), tenant.seed.id.clone().into());
    out.insert("arn".into(), provider.arn.clone().into());
    out.insert("arnFingerPrint".into(), provider.fingerprint.clone().into());
    let kind = if provider.is_qlik() {
        "Qlik"
    } else {
        "AWS-KMS"
    };
    out.insert("keyprovider".into(), kind.into());
    if tenant.current == provider.fingerprint {
        out.insert("current".into(), true.into());
    }
    let created = provider
        .created_at
        .map_or_else(|| "Qlik managed".to_string(), |at| seconds(Some(at)));
    out.insert("createdAt".into(), created.into());
    out.insert(
        "promotedToCurrentAt".into(),
        seconds(provider.promoted_at).into(),
    );
    out.insert(
        "demotedFromCurrentAt".into(),
        seconds(provider.demoted_at).into(),
    );
    if let Some(key) = &provider.key {
        out.insert("multiRegion".into(), key.multi_region.into());
        let replicas: Vec<Value> = key
            .replica_keys
            .iter()
            .map(|r| json!({ "arn": r.arn, "region": r.region }))
            .collect();
        out.insert("replicaKeys".into(), replicas.into());
        out.insert("drCompliant".into(), key.dr_compliant.into());
        let error = key.compliance_error.as_ref().map_or_else(
            || json!({ "code": "", "region": "", "message": "" }),
            |e| json!({ "code": e.code, "region": e.region, "message": e.message }),
        );
        out.insert("complianceError".into(), error);
    }
    Value::Object(out)
}

/// A MigrationInformation at `now`, with the tutorial's field names (`migrationId`,
/// `migratingToFingerPrint`) and the spec's `progress`.
pub fn migration(tenant_id: &str, migration: &Migration, now: Instant) -> Value {
    let (phase, progress) = migration.phase(now);
    let state = phase.name();
    let completed_at = if phase == Phase::Completed {
        migration
            .completed_at()
            .to_rfc3339_opts(SecondsFormat::Nanos, true)
    } else {
        ZERO_TIME.to_string()
    };
    json!({
        "migrationId": migration.id,
        "tenantId": tenant_id,
        "migratingFrom": migration.from,
        "migratingTo": migration.to,
        "migratingToFingerPrint": migration.to_fingerprint,
        "migratingToPrefix": migration.to_prefix,
        "state": state,
        "progress": progress,
        "initiatedAt": migration.initiated_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        "completedAt": completed_at,
    })
}

/// A Tenant of the Tenants API; `base` is the URL the request came to.
pub fn tenant(tenant: &TenantState, base: &str) -> Value {
    let seed = &tenant.seed;
    let created = tenant.created.to_rfc3339_opts(SecondsFormat::Millis, true);
    json!({
        "id": seed.id,
        "name": seed.name,
        "links": { "self": { "href": format!("{base}/api/v1/tenants/{}", seed.id) } },
        "region": seed.region,
        "status": "active",
        "created": created,
        "hostnames": [seed.hostname],
        "datacenter": seed.datacenter,
        "lastUpdated": created,
        "createdByUser": "keyflow-twin",
        "statusLastUpdatedAt": created,
        "enableAnalyticCreation": false,
        "enableAppOpeningFeedback": false,
        "autoAssignCreateSharedSpacesRoleToProfessionals": true,
        "autoAssignDataServicesContributorRoleToProfessionals": true,
        "autoAssignPrivateAnalyticsContentCreatorRoleToProfessionals": true
    })
}

/// The longest fingerprint the twin looks up; longer ones get 414.
const MAX_FINGERPRINT: usize = 64;

/// Refuses a fingerprint too long to be one (414).
pub fn check_fingerprint(fingerprint: &str) -> Result<(), ApiError> {
    if fingerprint.len() > MAX_FINGERPRINT {
        return Err(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "Requested fingerprint length is too large",
        )
        .detail(format!(
            "a fingerprint is at most {MAX_FINGERPRINT} characters; this one has {}",
            fingerprint.len()
        )));
    }
    Ok(())
}

/// The 404 of a fingerprint the tenant does not have.
pub fn no_such_provider(fingerprint: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "No entry match for the fingerprint was found",
    )
    .detail(format!("no key provider has fingerprint `{fingerprint}`"))
}
