//! Who is browsing, and that a form was sent from the UI's own pages. Every `/ui` request goes through
//! [`gate`]:
//!
//! - With a token, a browser needs a session: a random id (256 bits from the OS) in the `keyflow_session`
//!   cookie, made by `POST /ui/login` ([`super::login`]), held in the daemon's memory for [`SESSION_FOR`]
//!   (a restart logs every browser out). A page asked for without one is a 303 to the login page.
//! - Every browser gets a random `keyflow_browser` cookie, which forms are bound to before a login (the
//!   login form itself, and every form when the daemon has no token).
//! - A form that changes something (any method but GET, HEAD and OPTIONS) must carry the browser's CSRF
//!   token in its `csrf` field: an HMAC-SHA-256, under a key drawn when the daemon starts, of the session
//!   id (or the browser id); [`super::csrf`] checks it, and where the form comes from.
//!
//! Both cookies are `HttpOnly`, `SameSite=Strict`, `Path=/`, and `Secure` unless the daemon listens on
//! loopback. The API (`/api/v1`) does not read them: it keeps needing the bearer token.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::csrf;
use super::html::{self, esc, respond, url};

/// How long a session lasts after its login.
pub const SESSION_FOR: Duration = Duration::from_secs(12 * 60 * 60);
/// The session cookie.
pub const SESSION_COOKIE: &str = "keyflow_session";
/// The browser cookie.
pub const BROWSER_COOKIE: &str = "keyflow_browser";

/// The UI's access rules and sessions, one per daemon.
pub struct Access {
    /// The daemon's token; `None`: no login (loopback only).
    token: Option<Arc<str>>,
    /// Whether cookies are `Secure` (the daemon listens beyond loopback).
    secure: bool,
    /// The key CSRF tokens are derived with.
    key: [u8; 32],
    /// Live sessions: id to expiry.
    sessions: Mutex<HashMap<String, Instant>>,
}

/// The browser a request comes from, as the gate found it: what its forms carry.
#[derive(Debug, Clone)]
pub struct Browser {
    /// The CSRF token its forms carry.
    pub csrf: String,
    /// Its session id, when it is logged in.
    pub session: Option<String>,
}

impl Browser {
    /// The hidden field every POST form carries.
    pub fn field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            esc(&self.csrf)
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Browser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Browser, Response> {
        parts.extensions.get::<Browser>().cloned().ok_or_else(|| {
            respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                "<h1>Internal error</h1><p>This page is served without the UI's session gate.</p>",
            )
        })
    }
}

impl Access {
    /// The rules for a daemon with `token` listening on `listen`: a random key of its own.
    pub fn new(token: Option<Arc<str>>, listen: SocketAddr) -> Result<Access, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(Access {
            token,
            secure: !listen.ip().is_loopback(),
            key,
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// Whether browsers must log in.
    pub fn login_required(&self) -> bool {
        self.token.is_some()
    }

    /// Whether `given` is the daemon's token, taking the same time whatever the first differing byte.
    pub fn token_matches(&self, given: &str) -> bool {
        self.token
            .as_deref()
            .is_some_and(|token| bool::from(given.as_bytes().ct_eq(token.as_bytes())))
    }

    /// A new session; its id.
    pub fn open_session(&self) -> Result<String, getrandom::Error> {
        let id = random_id()?;
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, expiry| *expiry > now);
        sessions.insert(id.clone(), now + SESSION_FOR);
        Ok(id)
    }

    /// Ends session `id`.
    pub fn close_session(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// `id` when it names a live session.
    fn live(&self, id: Option<&str>) -> Option<String> {
        let id = id?;
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .get(id)
            .filter(|expiry| **expiry > Instant::now())
            .map(|_| id.to_string())
    }

    /// The CSRF token of forms bound to `basis` (a session or browser id).
    fn csrf(&self, basis: &str) -> String {
        // A key of any length is accepted by HMAC.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(b"keyflow-ui-csrf\0");
        mac.update(basis.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// A `Set-Cookie` value: `name=value` with the attributes every UI cookie has.
    pub fn cookie(&self, name: &str, value: &str, max_age: Option<Duration>) -> String {
        let mut cookie = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/");
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={}", age.as_secs()));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }
}

/// The gate every `/ui` request goes through (see the module's documentation).
pub async fn gate(State(access): State<Arc<Access>>, mut request: Request, next: Next) -> Response {
    let cookies = cookies(request.headers());
    let session = access
        .login_required()
        .then(|| access.live(cookies.get(SESSION_COOKIE).copied()))
        .flatten();
    let known = cookies
        .get(BROWSER_COOKIE)
        .filter(|id| is_id(id))
        .map(|id| id.to_string());
    let (browser_id, new_browser) = match known {
        Some(id) => (id, false),
        None => match random_id() {
            Ok(id) => (id, true),
            Err(e) => return no_randomness(&e),
        },
    };
    let path = request.uri().path().to_string();
    if access.login_required() && session.is_none() && path != "/ui/login" {
        return login_first(&request);
    }
    let browser = Browser {
        csrf: access.csrf(session.as_deref().unwrap_or(&browser_id)),
        session,
    };
    let changes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if changes {
        request = match csrf::checked(&browser.csrf, request).await {
            Ok(request) => request,
            Err(response) => return with_browser(&access, response, &browser_id, new_browser),
        };
    }
    request.extensions_mut().insert(browser.clone());
    request.extensions_mut().insert(access.clone());
    let response = html::NAV_END
        .scope(nav_end(&browser), next.run(request))
        .await;
    with_browser(&access, response, &browser_id, new_browser)
}

/// A GET without a session goes to the login page, and comes back after; a form sent without one is
/// refused with a page that says so.
fn login_first(request: &Request) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        let back = request
            .uri()
            .path_and_query()
            .map_or("/ui/runs", |p| p.as_str());
        return Redirect::to(&format!("/ui/login?next={}", url(back))).into_response();
    }
    respond(
        StatusCode::UNAUTHORIZED,
        "Log in",
        "<h1>Log in first</h1><p>This browser is not logged in, or its session ended (sessions last 12 hours, \
         and end when the daemon restarts). <a href=\"/ui/login\">Log in</a>, then do it again.</p>",
    )
}

/// The response with the browser cookie set when the browser had none, and the headers that keep the
/// UI's pages out of other sites' frames and their addresses out of other sites' logs.
fn with_browser(access: &Access, mut response: Response, id: &str, new: bool) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if new && let Ok(value) = HeaderValue::from_str(&access.cookie(BROWSER_COOKIE, id, None)) {
        headers.append(header::SET_COOKIE, value);
    }
    response
}

/// What the navigation ends with: the logout button, for a browser logged in.
fn nav_end(browser: &Browser) -> String {
    match browser.session {
        Some(_) => format!(
            "<form class=\"logout\" method=\"post\" action=\"/ui/logout\">{}<button type=\"submit\">Log out</button></form>",
            browser.field()
        ),
        None => String::new(),
    }
}

/// The cookies a request carries, by name (the first of a name).
fn cookies(headers: &HeaderMap) -> HashMap<&str, &str> {
    let mut found = HashMap::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=') {
                found.entry(name.trim()).or_insert(value.trim());
            }
        }
    }
    found
}

/// 256 random bits as 64 hexadecimal digits.
fn random_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// Whether `text` is an id [`random_id`] makes.
fn is_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn no_randomness(error: &getrandom::Error) -> Response {
    respond(
        StatusCode::SERVICE_UNAVAILABLE,
        "Unavailable",
        &format!(
            "<h1>Unavailable</h1><p>The system's random source failed ({}), so no session can be made. Try again.</p>",
            esc(&error.to_string())
        ),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name_and_ids_by_shape() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; keyflow_browser=x ;b=2"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("a=3"));
        let found = cookies(&headers);
        assert_eq!(
            (found["a"], found["keyflow_browser"], found["b"]),
            ("1", "x", "2")
        );
        let id = random_id().unwrap_or_default();
        assert!(is_id(&id), "{id}");
        assert!(!is_id("x") && !is_id(&id.to_uppercase()) && !is_id(&format!("{id}0")));
    }

    #[test]
    fn tokens_are_bound_to_their_basis_and_key() {
        let listen: SocketAddr = ([127, 0, 0, 1], 7717).into();
        let (Ok(one), Ok(two)) = (Access::new(None, listen), Access::new(None, listen)) else {
            panic!("no random source");
        };
        assert_eq!(one.csrf("a"), one.csrf("a"));
        assert_ne!(one.csrf("a"), one.csrf("b"));
        assert_ne!(one.csrf("a"), two.csrf("a"));
        assert_eq!(one.csrf("a").len(), 64);
        assert!(!one.cookie("n", "v", None).contains("Secure"));
        let beyond = Access::new(Some("t".repeat(16).into()), ([10, 0, 0, 1], 1).into());
        assert!(beyond.is_ok_and(|a| a.cookie("n", "v", Some(SESSION_FOR))
            == "n=v; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200; Secure"));
    }

    #[test]
    fn sessions_live_until_closed() {
        let listen: SocketAddr = ([127, 0, 0, 1], 7717).into();
        let Ok(access) = Access::new(Some("0123456789abcdef".into()), listen) else {
            panic!("no random source");
        };
        assert!(access.token_matches("0123456789abcdef"));
        assert!(!access.token_matches("0123456789abcdeX") && !access.token_matches(""));
        let id = access.open_session().unwrap_or_default();
        assert_eq!(access.live(Some(&id)), Some(id.clone()));
        assert_eq!(access.live(Some("other")), None);
        access.close_session(&id);
        assert_eq!(access.live(Some(&id)), None);
    }
}
