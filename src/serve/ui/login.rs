//! `/ui/login` and `/ui/logout`: a browser logs in with the daemon's token and gets a session cookie
//! ([`super::session`]), and logs out. Without a token there is nothing to log into: the login page sends
//! the browser on. A refused login is logged with its address, never with what was typed.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::html::{esc, respond};
use super::session::{Access, Browser, SESSION_COOKIE, SESSION_FOR};
use crate::serve::Daemon;

/// Where the login page sends the browser when it does not say.
const HOME: &str = "/ui/runs";

/// `?next=PATH`: where to go once logged in.
#[derive(Debug, Default, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// The login form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
    next: Option<String>,
}

/// The login page (or, with nothing to log into or a session already, where it leads).
pub async fn page(
    Extension(access): Extension<Arc<Access>>,
    browser: Browser,
    Query(query): Query<Next>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    if !access.login_required() || browser.session.is_some() {
        return Redirect::to(next).into_response();
    }
    form(StatusCode::OK, &browser, next, None)
}

/// Checks the token; a session and a 303 to where the browser was going when it is the daemon's.
pub async fn login(
    State(daemon): State<Arc<Daemon>>,
    Extension(access): Extension<Arc<Access>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    browser: Browser,
    Form(fields): Form<LoginForm>,
) -> Response {
    let next = safe_next(fields.next.as_deref());
    if !access.login_required() {
        return Redirect::to(next).into_response();
    }
    if !access.token_matches(fields.token.trim()) {
        daemon.warn(format_args!(
            "refused a login to the web UI from {remote}: {}",
            if fields.token.trim().is_empty() {
                "no token"
            } else {
                "a token that is not this daemon's"
            }
        ));
        return form(
            StatusCode::UNAUTHORIZED,
            &browser,
            next,
            Some(
                "That is not this daemon's token. Give the token the daemon was started with (--token-file or KEYFLOW_API_TOKEN).",
            ),
        );
    }
    let id = match access.open_session() {
        Ok(id) => id,
        Err(e) => {
            return respond(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                &format!(
                    "<h1>Unavailable</h1><p>No session could be made: {}. Try again.</p>",
                    esc(&e.to_string())
                ),
            );
        }
    };
    daemon.log(format_args!(
        "a browser logged in to the web UI from {remote}"
    ));
    let cookie = access.cookie(SESSION_COOKIE, &id, Some(SESSION_FOR));
    with_cookie(Redirect::to(next).into_response(), &cookie)
}

/// Ends the browser's session (the form's CSRF token was checked by the gate).
pub async fn logout(Extension(access): Extension<Arc<Access>>, browser: Browser) -> Response {
    if let Some(id) = &browser.session {
        access.close_session(id);
    }
    let cookie = access.cookie(SESSION_COOKIE, "", Some(std::time::Duration::ZERO));
    let to = if access.login_required() {
        "/ui/login"
    } else {
        HOME
    };
    with_cookie(Redirect::to(to).into_response(), &cookie)
}

fn form(status: StatusCode, browser: &Browser, next: &str, error: Option<&str>) -> Response {
    let error = error.map_or_else(String::new, |e| {
        format!("<p class=\"field-error\" role=\"alert\">{}</p>", esc(e))
    });
    respond(
        status,
        "Log in",
        &format!(
            "<h1>Log in</h1>\n<p>This daemon has a token: give it to browse its runs and flows. The browser keeps a \
             session for 12 hours, or until the daemon restarts.</p>{error}\n\
             <form id=\"login\" method=\"post\" action=\"/ui/login\" class=\"start\">{}\
             <input type=\"hidden\" name=\"next\" value=\"{}\">\
             <div class=\"field\"><label for=\"token\">Token</label>\
             <input type=\"password\" id=\"token\" name=\"token\" required autocomplete=\"current-password\" autofocus></div>\
             <div><button type=\"submit\" class=\"primary\">Log in</button></div></form>",
            browser.field(),
            esc(next)
        ),
    )
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `next` when it is a path of the UI on this site, else the runs: never a redirect elsewhere.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if (path == "/ui" || path.starts_with("/ui/") || path.starts_with("/ui?"))
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => HOME,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_the_ui_are_gone_back_to() {
        for kept in ["/ui/runs/abc", "/ui/flows?x=http://e", "/ui"] {
            assert_eq!(safe_next(Some(kept)), kept);
        }
        for refused in [
            "//evil.example/ui/",
            "https://evil.example/ui/runs",
            "/\\evil.example",
            "/ui\\..\\x",
            "/api/v1/runs",
            "/ui/runs\r\nSet-Cookie: x=1",
            "ui/runs",
            "",
        ] {
            assert_eq!(safe_next(Some(refused)), HOME, "{refused}");
        }
        assert_eq!(safe_next(None), HOME);
    }
}
