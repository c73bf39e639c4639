//! The API's error bodies: `{"error": {"code": "...", "message": "..."}}` with a stable code a client can
//! branch on and a message that says what to do, plus the HTTP status each code goes with.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keyflow_engine::exec::store::StoreError;
use schemars::JsonSchema;
use serde::Serialize;

use crate::machine::diagnostic::{self, DiagnosticJson};
use crate::serve::actions::Refusal;

/// What went wrong, as a client branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// No bearer token, or not the daemon's (401).
    Unauthorized,
    /// A malformed request: a body that is not the JSON asked for, a query value that does not parse
    /// (400).
    BadRequest,
    /// No such flow, trigger, run or route (404).
    NotFound,
    /// The run was asked for but has not started yet, or never will (cancelled first): its firing says
    /// where it is (404).
    NotStarted,
    /// The parameters do not fit the flow's declarations; `diagnostics` lists each (422).
    InvalidParams,
    /// The request does not fit the state of what it names: a run that already ended, a trigger that is
    /// not paused (409).
    Conflict,
    /// The request cannot be carried out as written: a re-run of a step the flow does not have, of a run
    /// whose flow this daemon does not serve or whose params no longer fit it (422).
    Unprocessable,
    /// The run store cannot be reached or is not one keyflow can use (503).
    StoreUnavailable,
    /// The store refused the request for another reason, such as a run id prefix that names several
    /// runs (500).
    StoreFailed,
}

impl Code {
    fn status(self) -> StatusCode {
        match self {
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::NotFound | Code::NotStarted => StatusCode::NOT_FOUND,
            Code::InvalidParams | Code::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Code::Conflict => StatusCode::CONFLICT,
            Code::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::StoreFailed => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorDetail {
    /// A stable code.
    pub code: Code,
    /// What is wrong and what to do, for people.
    pub message: String,
    /// For `invalid_params`: each wrong parameter, as `keyflow run --output json` reports it (code
    /// `invalid-param`, line 0).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<DiagnosticJson>,
    /// For `not_started`: the firing that will start the run, or that was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firing: Option<keyflow_store::Firing>,
}

/// An error response (boxed: handlers return it on their error path, which stays small).
#[derive(Debug)]
pub struct ApiError(pub Box<ErrorDetail>);

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError(Box::new(ErrorDetail {
            code,
            message: message.into(),
            diagnostics: Vec::new(),
            firing: None,
        }))
    }

    /// `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::NotFound, message)
    }

    /// `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::BadRequest, message)
    }

    /// `conflict`.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::Conflict, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        let code = match &error {
            StoreError::NotFound(_) => Code::NotFound,
            StoreError::Unavailable(_) | StoreError::Incompatible(_) => Code::StoreUnavailable,
            StoreError::Failed(_) => Code::StoreFailed,
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        match refusal {
            Refusal::UnknownRun(id) => ApiError::not_found(format!(
                "no run `{id}` in the run store: GET /api/v1/runs lists the runs"
            )),
            Refusal::NotStarted(why, firing) => {
                let mut error = ApiError::new(Code::NotStarted, why);
                error.0.firing = Some(*firing);
                error
            }
            Refusal::InvalidParams { flow, file, errors } => {
                let mut error = ApiError::new(
                    Code::InvalidParams,
                    format!(
                        "the params do not fit flow `{flow}`: {}",
                        errors
                            .iter()
                            .map(|e| e.to_string())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                );
                error.0.diagnostics = errors
                    .iter()
                    .map(|e| diagnostic::of_param(&file, e))
                    .collect();
                error
            }
            Refusal::Conflict(why) => ApiError::conflict(why),
            Refusal::Unprocessable(why) => ApiError::new(Code::Unprocessable, why),
            Refusal::Store(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.code.status();
        let unauthorized = self.0.code == Code::Unauthorized;
        let mut response = (status, Json(ErrorBody { error: *self.0 })).into_response();
        if unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Every code with its HTTP status, for the OpenAPI document.
pub const CODES: [(Code, u16); 9] = [
    (Code::Unauthorized, 401),
    (Code::BadRequest, 400),
    (Code::NotFound, 404),
    (Code::NotStarted, 404),
    (Code::InvalidParams, 422),
    (Code::Conflict, 409),
    (Code::Unprocessable, 422),
    (Code::StoreUnavailable, 503),
    (Code::StoreFailed, 500),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_has_the_status_the_document_gives() {
        for (code, status) in CODES {
            assert_eq!(code.status().as_u16(), status, "{code:?}");
        }
    }
}
