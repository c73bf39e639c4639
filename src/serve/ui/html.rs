//! Small pieces every page is written with: escaping (every value put into HTML goes through [`esc`]),
//! the shared layout and its style sheet, status as text, symbol and colour, times and durations as people
//! read them.

use std::fmt::Write as _;
use std::hash::Hasher as _;
use std::sync::LazyLock;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// `text` made safe inside an element or a quoted attribute.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as one component of a URL's path or query (RFC 3986 unreserved characters kept).
pub fn url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// A JSON value, pretty-printed and escaped, in a `<pre>`.
pub fn json(value: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| e.to_string());
    format!("<pre>{}</pre>", esc(&text))
}

/// A JSON value as [`json`] writes it, in a `<pre>` of `class` (`input`, `output`, `error`: what a step's
/// details hold, found by the class).
pub fn json_in(class: &str, value: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| e.to_string());
    format!("<pre class=\"{}\">{}</pre>", esc(class), esc(&text))
}

/// The symbol that goes with a status name, so that status never rests on colour alone.
pub fn symbol(status: &str) -> &'static str {
    match status {
        "succeeded" => "✓",
        "failed" => "✗",
        "running" => "▶",
        "pending" => "○",
        "skipped" => "↷",
        "cancelled" => "⊘",
        "interrupted" => "⚠",
        _ => "?",
    }
}

/// Fill and stroke of a status in the step graph and the timeline (the label says it in words too).
pub fn colours(status: &str) -> (&'static str, &'static str) {
    match status {
        "succeeded" => ("#dcffe4", "#2ea043"),
        "failed" => ("#ffdce0", "#cf222e"),
        "running" => ("#dbedff", "#0969da"),
        "cancelled" => ("#fff5b1", "#9a6700"),
        "interrupted" => ("#ffe8cc", "#bc4c00"),
        _ => ("#f1f3f5", "#8c959f"),
    }
}

/// Every status a step or a run is shown with.
pub const STATUSES: [&str; 7] = [
    "pending",
    "running",
    "succeeded",
    "failed",
    "skipped",
    "cancelled",
    "interrupted",
];

/// A status as a badge: symbol and name, coloured by a class as well.
pub fn badge(status: &str) -> String {
    format!(
        "<span class=\"badge s-{0}\"><span aria-hidden=\"true\">{1}</span> {0}</span>",
        esc(status),
        symbol(status)
    )
}

/// An RFC 3339 time as read on a page: `2025-01-31 12:00:05Z`, milliseconds dropped.
pub fn when(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(at) => at
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%SZ")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// A duration in milliseconds as read on a page: `350 ms`, `4.2 s`, `3 min 5 s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1_000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1_000),
    }
}

/// Colours by status (the text and symbol say the same), and a layout that fits a laptop screen.
const STYLE: &str = "\
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f23;background:#fafbfc}\
nav{display:flex;gap:1.5em;align-items:center;padding:.6em 1.5em;background:#24292e}\
nav a{color:#fff;text-decoration:none;font-weight:600}nav a:hover,nav a:focus{text-decoration:underline}\
nav .brand{color:#9ecbff;margin-right:1em}\
main{max-width:75em;margin:0 auto;padding:1em 1.5em}\
a{color:#0550ae}a:focus,summary:focus,button:focus,select:focus,input:focus{outline:2px solid #f9a825;outline-offset:2px}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #e1e4e8}\
th{background:#f1f3f5}code,pre{font:13px/1.4 ui-monospace,monospace}\
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:.6em;overflow:auto;max-height:30em}\
details{margin:.4em 0;border:1px solid #e1e4e8;border-radius:4px;background:#fff}\
summary{cursor:pointer;padding:.4em .6em}details>div{padding:0 .8em .6em}\
.badge{display:inline-block;padding:0 .45em;border-radius:3px;font-weight:600;white-space:nowrap}\
.s-succeeded{background:#dcffe4;color:#165c26}.s-failed{background:#ffdce0;color:#86181d}\
.s-running{background:#dbedff;color:#032f62}.s-pending{background:#f1f3f5;color:#444}\
.s-skipped{background:#f1f3f5;color:#444}.s-cancelled{background:#fff5b1;color:#5c4400}\
.s-interrupted{background:#ffe8cc;color:#7a3e00}\
form.filters{display:flex;gap:1em;align-items:end;flex-wrap:wrap;margin:.5em 0 1em}\
form.filters label{display:flex;flex-direction:column;font-size:13px}\
dl.header{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dl.header dt{font-weight:600}\
svg{max-width:100%;height:auto;background:#fff;border:1px solid #e1e4e8}\
.live{font-size:13px;color:#586069;margin:.2em 0}.live.on::before{content:'● ';color:#2ea043}\
.live.off{color:#86181d}\
.diag{color:#86181d}.muted{color:#586069}\
form.logout{margin-left:auto}form.logout button{background:none;border:1px solid #9ecbff;color:#fff;border-radius:4px;padding:.15em .6em;cursor:pointer}\
form.action,form.rerun{display:inline-flex;gap:.6em;align-items:end;flex-wrap:wrap;margin:.4em .6em .4em 0}\
form.start{display:grid;gap:.9em;max-width:42em;margin:1em 0}form.start .field{display:flex;flex-direction:column;gap:.2em}\
form.start label{font-weight:600}.help{font-weight:400;color:#586069;font-size:13px}\
input,select,textarea,button{font:inherit}input[type=text],input[type=number],input[type=password],select,textarea{padding:.3em .4em;border:1px solid #959da5;border-radius:4px}\
textarea{font:13px/1.4 ui-monospace,monospace;min-height:5em}\
button{padding:.35em .9em;border:1px solid #1b1f23;border-radius:4px;background:#f6f8fa;cursor:pointer}button.primary{background:#2c974b;color:#fff;border-color:#22863a}\
.field-error{color:#86181d;font-weight:600}.warn{background:#fff5b1;border:1px solid #d9c200;padding:.5em .8em;border-radius:4px}\
.confirm label{display:flex;flex-direction:column;gap:.2em}ol.plan>li{margin:.6em 0}";

tokio::task_local! {
    /// What the navigation of the pages written for the request under way ends with (the logout
    /// button of a browser logged in): set around each request by the session gate, so that every page
    /// has it without each handler passing it on.
    pub static NAV_END: String;
}

tokio::task_local! {
    /// Whether the daemon answering the request runs with `--sandbox`, so that the navigation links the
    /// sandbox page. Set for every request by the UI's layer (`super::frame`), so that every page, a 404
    /// included, gets the same navigation without each handler passing it down.
    pub static SANDBOXED: bool;
}

/// The style sheet served at `/ui/assets/style.css` (a file, not a `<style>` element, so that the pages'
/// Content-Security-Policy allows no inline style): [`STYLE`], then the graph nodes' colours by their
/// `data-status`, so that a node a live update re-labels is re-coloured without the script knowing colours.
pub fn stylesheet() -> &'static str {
    static SHEET: LazyLock<String> = LazyLock::new(|| {
        let mut css = String::from(STYLE);
        for status in STATUSES {
            let (fill, stroke) = colours(status);
            let _ = write!(
                css,
                "g.node[data-status={status}] rect{{fill:{fill};stroke:{stroke}}}"
            );
        }
        css
    });
    &SHEET
}

/// A short digest of `text`, put in an asset's URL and ETag so that a browser may cache it for good: a
/// changed file has another URL. Stable for one build of keyflow, which is all a cache needs.
pub fn version(text: &str) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(text.as_bytes());
    format!("{:016x}", hasher.finish())
}

/// A whole page: the shared navigation, then `body` in `<main>`.
pub fn page(title: &str, body: &str) -> String {
    static STYLE_VERSION: LazyLock<String> = LazyLock::new(|| version(stylesheet()));
    let sandbox = if SANDBOXED.try_with(|s| *s).unwrap_or(false) {
        "<a href=\"/ui/sandbox\">Sandbox</a>"
    } else {
        ""
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · keyflow</title><link rel=\"stylesheet\" href=\"/ui/assets/style.css?v={}\"></head>\n<body>\
         <nav aria-label=\"Main\"><span class=\"brand\">keyflow</span>\
         <a href=\"/ui/runs\">Runs</a><a href=\"/ui/flows\">Flows</a>{sandbox}{}</nav>\n\
         <main>\n{body}\n</main></body></html>\n",
        esc(title),
        *STYLE_VERSION,
        NAV_END.try_with(Clone::clone).unwrap_or_default()
    )
}

/// A page answered with `status`.
pub fn respond(status: StatusCode, title: &str, body: &str) -> Response {
    (status, Html(page(title, body))).into_response()
}

/// A `Server-Timing` header: how long the store took to answer and drawing the page took, so that a
/// browser's developer tools (and `bench/ui.rs`) see where a slow page's time goes.
pub fn timing(response: &mut Response, store: Duration, render: Duration) {
    let value = format!(
        "store;dur={:.2}, render;dur={:.2}",
        store.as_secs_f64() * 1e3,
        render.as_secs_f64() * 1e3
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert("server-timing", value);
    }
}

/// The 404 page: what was asked for, and where to look instead.
pub fn not_found(what: &str) -> Response {
    respond(
        StatusCode::NOT_FOUND,
        "Not found",
        &format!(
            "<h1>Not found</h1><p>{}</p><p><a href=\"/ui/runs\">All runs</a></p>",
            esc(what)
        ),
    )
}

/// A page for a store that did not answer: the error, and that reloading may help.
pub fn unavailable(error: &dyn std::fmt::Display) -> Response {
    respond(
        StatusCode::SERVICE_UNAVAILABLE,
        "Run store unavailable",
        &format!(
            "<h1>Run store unavailable</h1><p>{}</p><p>Reload the page once the store answers again.</p>",
            esc(&error.to_string())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(url("a b/ç?&"), "a%20b%2F%C3%A7%3F%26");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(350), "350 ms");
        assert_eq!(duration(4_240), "4.2 s");
        assert_eq!(duration(185_000), "3 min 5 s");
        assert_eq!(
            when("2025-01-31T12:00:05.123+00:00"),
            "2025-01-31 12:00:05Z"
        );
        assert_eq!(when("not a time"), "not a time");
    }
}
