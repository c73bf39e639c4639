//! SigV4: the `Authorization` header parsed into its credential scope, and signature verification — the canonical request, the string to sign and the HMAC-SHA256 key chain
//! of AWS's Signature Version 4, recomputed with the caller's secret and compared in constant time.

use std::fmt::Write;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::hmac;
use axum::http::{HeaderMap, Method, Uri};

use super::wire::KmsError;
use crate::digest::hex;

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

pub fn incomplete(message: impl Into<String>) -> KmsError {
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

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

fn mismatch() -> KmsError {
    KmsError::new(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS \
         Secret Access Key and signing method. Consult the service documentation for details.",
    )
}

/// The canonical request of SigV4 over the signed headers.
fn canonical_request(
    auth: &Authorization,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, KmsError> {
    let mut query: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    query.sort_unstable();
    let mut canonical_headers = String::new();
    for name in auth.signed_headers.split(';') {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| {
                let text = String::from_utf8_lossy(v.as_bytes());
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            })
            .collect();
        if values.is_empty() {
            return Err(KmsError::new(
                "IncompleteSignatureException",
                format!("Signed header '{name}' is not in the request"),
            ));
        }
        let _ = writeln!(canonical_headers, "{name}:{}", values.join(","));
    }
    let payload = match headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        Some("UNSIGNED-PAYLOAD") => "UNSIGNED-PAYLOAD".to_string(),
        _ => hex(digest(&SHA256, body).as_ref()),
    };
    let path = if uri.path().is_empty() {
        "/"
    } else {
        uri.path()
    };
    Ok(format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{}\n{payload}",
        query.join("&"),
        auth.signed_headers
    ))
}

/// Checks the request's signature with `secret`.
pub fn verify(
    auth: &Authorization,
    secret: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), KmsError> {
    let timestamp = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            KmsError::new(
                "IncompleteSignatureException",
                "The request has no X-Amz-Date header; sign it with SigV4",
            )
        })?;
    let canonical = canonical_request(auth, method, uri, headers, body)?;
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex(digest(&SHA256, canonical.as_bytes()).as_ref())
    );
    let mut key = mac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
    for part in [auth.region, auth.service, "aws4_request"] {
        key = mac(&key, part.as_bytes());
    }
    let provided = unhex(auth.signature).ok_or_else(mismatch)?;
    hmac::verify(
        &hmac::Key::new(hmac::HMAC_SHA256, &key),
        to_sign.as_bytes(),
        &provided,
    )
    .map_err(|_| mismatch())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// AWS's published example (`get-vanilla` of the SigV4 test suite).
    #[test]
    fn the_published_example_verifies_and_another_secret_does_not() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
        let auth = Authorization {
            access_key_id: "AKIDEXAMPLE",
            date: "20150830",
            region: "us-east-1",
            service: "service",
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        };
        let uri: Uri = "/".parse().unwrap_or_default();
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        assert_eq!(
            verify(&auth, secret, &Method::GET, &uri, &headers, b""),
            Ok(())
        );
        let wrong = verify(&auth, "another", &Method::GET, &uri, &headers, b"");
        assert_eq!(wrong.map_err(|e| e.code), Err("InvalidSignatureException"));
    }
}
