//! SigV4 signature verification: the canonical request, the string to sign and the HMAC-SHA256 key chain
//! of AWS's Signature Version 4, recomputed with the caller's secret and compared in constant time.

use std::fmt::Write;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::hmac;
use axum::http::{HeaderMap, Method, Uri};

use super::auth::Authorization;
use super::wire::KmsError;
use crate::digest::hex;

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
