//! Who is calling, from where: the SigV4 `Authorization` header's credential scope gives the access key
//! (hence the principal) and the region, and the signature is recomputed with the principal's secret.

use axum::http::{HeaderMap, Method, Uri};

use super::Principal;
use super::access::account_of;
use super::rules::Caller;
use super::sigv4::{self, incomplete};
use super::wire::KmsError;

/// The caller of a request: a known principal, in the region its signature is scoped to, with a valid
/// signature.
pub fn caller(
    principals: &[Principal],
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Caller, KmsError> {
    let header = headers
        .get("authorization")
        .ok_or_else(|| {
            KmsError::new(
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            )
        })?
        .to_str()
        .map_err(|_| incomplete("Authorization header is not ASCII"))?;
    let auth = sigv4::parse(header)?;
    let principal = principals
        .iter()
        .find(|p| p.access_key_id == auth.access_key_id)
        .ok_or_else(|| {
            KmsError::new(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        })?;
    sigv4::verify(
        &auth,
        &principal.secret_access_key,
        method,
        uri,
        headers,
        body,
    )?;
    let account = account_of(&principal.arn).ok_or_else(|| {
        KmsError::new(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    })?;
    Ok(Caller {
        region: auth.region.to_string(),
        arn: principal.arn.clone(),
        account: account.to_string(),
    })
}
