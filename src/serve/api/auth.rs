//! Bearer-token authentication. With a token (`--token-file` or KEYFLOW_API_TOKEN), every route but the
//! probes (`/healthz`, `/readyz`) and the web UI needs `Authorization: Bearer <token>`; the token is
//! compared in constant time, and a refused request gets 401 with `WWW-Authenticate: Bearer` and is
//! logged with its method, path and remote address, never with what it sent. Without a token (loopback
//! only: `DaemonArgs` refuses more) every route is open.
//!
//! The web UI (`/ui…`, and `/`, which only leads there) has a gate of its own, for browsers, which cannot
//! send the header: a session cookie made by logging in with the token ([`crate::serve::ui::session`]).
//! That cookie never opens the API: a browser sends cookies with any request to the daemon, including
//! one a page of another site makes it send, so a JSON route that took the cookie would be open to
//! cross-site request forgery; the UI's forms carry a CSRF token, the API's clients the header.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::error::{ApiError, Code};
use crate::serve::Daemon;

/// The routes a load balancer or orchestrator probes without credentials.
pub const OPEN: [&str; 2] = ["/healthz", "/readyz"];

/// What the middleware needs.
#[derive(Clone)]
pub struct Gate {
    /// The daemon, for its log.
    pub daemon: Arc<Daemon>,
    /// The token; `None`: no authentication.
    pub token: Option<Arc<str>>,
}

/// Lets the request through when it is open or carries the token; answers 401 otherwise.
pub async fn check(
    State(gate): State<Gate>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &gate.token else {
        return next.run(request).await;
    };
    if OPEN.contains(&request.uri().path()) || is_ui(request.uri().path()) {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer);
    let why = match given {
        Some(given) if matches(given, token) => return next.run(request).await,
        Some(_) => "a bearer token that is not this daemon's",
        None => "no bearer token",
    };
    gate.daemon.warn(format_args!(
        "refused {} {} from {remote}: {why}",
        request.method(),
        request.uri().path()
    ));
    ApiError::new(
        Code::Unauthorized,
        format!(
            "{why}: send `Authorization: Bearer <token>` with the token the daemon was given (--token-file or {})",
            crate::serve::args::TOKEN_ENV
        ),
    )
    .into_response()
}

/// Whether `path` is the web UI's, behind its own gate.
fn is_ui(path: &str) -> bool {
    path == "/" || path == "/ui" || path.starts_with("/ui/")
}

/// The token of an `Authorization: Bearer <token>` value (the scheme in any case, RFC 9110 §11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Whether `given` is `token`, taking the same time whatever the first differing byte (only the length
/// shows, as with any such comparison).
fn matches(given: &str, token: &str) -> bool {
    given.as_bytes().ct_eq(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_is_read_in_any_case_and_the_token_whole() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer "), None);
    }

    #[test]
    fn the_ui_is_left_to_its_own_gate_and_nothing_else() {
        for ui in ["/", "/ui", "/ui/", "/ui/runs/x/cancel", "/ui/login"] {
            assert!(is_ui(ui), "{ui}");
        }
        for api in ["/uix", "/api/v1/runs", "/metrics", "/u", ""] {
            assert!(!is_ui(api), "{api}");
        }
    }

    #[test]
    fn only_the_same_token_matches() {
        let token = "0123456789abcdef";
        assert!(matches("0123456789abcdef", token));
        assert!(!matches("0123456789abcdeg", token));
        assert!(!matches("0123456789abcde", token));
        assert!(!matches("", token));
    }
}
