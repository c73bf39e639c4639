//! `/ui/assets/`: the two files the pages link, compiled into the binary — the style sheet
//! ([`super::html::stylesheet`]) and `live.js`, the script that applies live updates. Each is linked with
//! its digest in the query (`?v=…`): asked for with the current digest, it may be cached for a year; asked
//! for otherwise, it must be revalidated against its `ETag`.

use std::sync::LazyLock;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::html::{self, esc};

/// The script: a few dozen lines written by hand, with nothing to build or vendor.
const LIVE_JS: &str = include_str!("assets/live.js");

/// A file served under `/ui/assets/`.
struct Asset {
    body: &'static str,
    content_type: &'static str,
    version: String,
}

impl Asset {
    fn new(body: &'static str, content_type: &'static str) -> Asset {
        Asset {
            body,
            content_type,
            version: html::version(body),
        }
    }
}

static SCRIPT: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(LIVE_JS, "text/javascript; charset=utf-8"));
static STYLE: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(html::stylesheet(), "text/css; charset=utf-8"));

/// The `<script>` element of a page that follows live updates (at the end of its body; deferred, so it
/// runs once the page is parsed).
pub fn script() -> String {
    format!(
        "<script src=\"/ui/assets/live.js?v={}\" defer></script>\n",
        SCRIPT.version
    )
}

/// The live indicator of a page that follows `events`, a `/ui/…/events` address: where the script reads
/// what to follow, and says in words whether it is following (empty until the script runs, so a page
/// without it shows nothing).
pub fn live(events: &str) -> String {
    format!(
        "<p id=\"live\" class=\"live\" aria-live=\"polite\" data-events=\"{}\"></p>\n",
        esc(events)
    )
}

#[derive(Debug, Deserialize)]
pub struct Version {
    v: Option<String>,
}

/// `GET /ui/assets/{name}`.
pub async fn serve(
    Path(name): Path<String>,
    Query(asked): Query<Version>,
    headers: HeaderMap,
) -> Response {
    let asset: &Asset = match name.as_str() {
        "live.js" => &SCRIPT,
        "style.css" => &STYLE,
        _ => return html::not_found(&format!("No asset `{name}`.")),
    };
    let etag = format!("\"{}\"", asset.version);
    let cache = if asked.v.as_deref() == Some(asset.version.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| given.split(',').any(|tag| tag.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}
