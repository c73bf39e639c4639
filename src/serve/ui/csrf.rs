//! The checks every form of the UI passes before its handler runs ([`super::session::gate`] calls them):
//! it is not sent from another site (`Sec-Fetch-Site` is not `cross-site`; `Origin`, when sent, is the
//! daemon's own host, as the request's `Host` names it), it is a form (`application/x-www-form-urlencoded`,
//! at most [`FORM_LIMIT`] bytes), and its `csrf` field is the browser's token, compared in constant time.
//! A form refused changes nothing and gets a 403 page saying to reload the page and try again.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::html::{esc, respond};

/// The largest form body read.
pub const FORM_LIMIT: usize = 256 * 1024;

/// The checks of a form whose CSRF token must be `expected`: where it comes from, what it is, then its
/// `csrf` field. The request, its body read back in, when they pass; else the 403 page.
pub async fn checked(expected: &str, request: Request) -> Result<Request, Response> {
    let headers = request.headers();
    if header_text(headers, "sec-fetch-site") == Some("cross-site") {
        return Err(refused("it was sent from another site"));
    }
    if let Some(origin) = header_text(headers, header::ORIGIN.as_str()) {
        let host = header_text(headers, header::HOST.as_str()).unwrap_or_default();
        let authority = origin.split_once("://").map(|(_, rest)| rest);
        if !authority.is_some_and(|a| a.eq_ignore_ascii_case(host)) {
            return Err(refused("it was sent from a page of another site"));
        }
    }
    let form = header_text(headers, header::CONTENT_TYPE.as_str()).is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim() == "application/x-www-form-urlencoded")
    });
    if !form {
        return Err(refused(
            "it is not a form of this page (`application/x-www-form-urlencoded`)",
        ));
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return Err(respond(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Form too large",
            &format!(
                "<h1>Form too large</h1><p>The form sent is larger than {} KiB: shorten what was typed and send it again.</p>",
                FORM_LIMIT / 1024
            ),
        ));
    };
    let given = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(refused(if given.is_empty() {
            "it carries no CSRF token"
        } else {
            "its CSRF token is not this browser's (the page is older than the daemon or the session)"
        }));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The 403 page of a form refused.
fn refused(why: &str) -> Response {
    respond(
        StatusCode::FORBIDDEN,
        "Form refused",
        &format!(
            "<h1>Form refused</h1><p>The form was refused: {}. Nothing was done.</p>\
             <p>Reload the page the form is on and try again.</p>",
            esc(why)
        ),
    )
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
