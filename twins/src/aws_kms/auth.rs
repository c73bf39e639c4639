//! Who is calling, from where: the SigV4 `Authorization` header's credential scope gives the access key
//! (hence the principal) and the region, and the signature is recomputed with the principal's secret.

use axum::http::{HeaderMap, Method, Uri};

use super::Principal;
use super::access::account_of;
use super::rules::Caller;
use super::wire::KmsError;

/// The parts of a SigV4 `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The access key id.
    pub access_key_id: &'a str,
    /// The scope's date (`20240101`).
    pub date: &'a str,
    /// The scope's region.
    pub region: &'a str,
    /// The scope's service (`kms`).
    pub service: &'a str,
    /// The signed header names, lowercase, `;`-separated.
    pub signed_headers: &'a str,
    /// The hex signature.
    pub signature: &'a str,
}

fn incomplete(message: impl Into<String>) -> KmsError {
    KmsError::new("IncompleteSignatureException", message)
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/date/region/kms/aws4_request, SignedHeaders=…, Signature=…`.
pub fn parse(header: &str) -> Result<Authorization<'_>, KmsError> {
    let rest = header.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        incomplete("Authorization header requires the AWS4-HMAC-SHA256 algorithm (sign with SigV4)")
    })?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, "aws4_request"] = scope[..] else {
        return Err(incomplete(format!(
            "Credential '{credential}' is not of the form <access key>/<date>/<region>/kms/aws4_request"
        )));
    };
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

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
    let auth = parse(header)?;
    let principal = principals
        .iter()
        .find(|p| p.access_key_id == auth.access_key_id)
        .ok_or_else(|| {
            KmsError::new(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        })?;
    super::sigv4::verify(
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
