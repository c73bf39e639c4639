//! The script and the style sheet as served (content types, caching by digest, revalidation), and the
//! headers every page gets: a Content-Security-Policy that only the daemon's own files pass.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use super::tests::{fixture, get, serve};
use super::tests_client::open;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_and_style_are_cached_by_digest_and_pages_allow_only_them() {
    let fixture = fixture().await;
    let addr = serve(fixture.daemon.clone()).await;
    let page = open(addr, "/ui/runs", "Connection: close\r\n").await;
    assert_eq!(page.code, 200);
    assert!(
        page.head.contains(&format!(
            "content-security-policy: {}",
            super::CONTENT_SECURITY_POLICY
        )),
        "{}",
        page.head
    );
    assert!(page.head.contains("x-content-type-options: nosniff"));
    let (_, body) = get(addr, "/ui/runs").await;
    // No inline script or style for the policy to refuse.
    assert!(!body.contains("<style") && !body.contains(" style=") && !body.contains("<script>"));
    let script = {
        let at = body.find("/ui/assets/live.js?v=").unwrap();
        body[at..at + body[at..].find('"').unwrap()].to_string()
    };
    let style = {
        let at = body.find("/ui/assets/style.css?v=").unwrap();
        body[at..at + body[at..].find('"').unwrap()].to_string()
    };

    let js = open(addr, &script, "Connection: close\r\n").await;
    assert_eq!(js.code, 200);
    assert!(
        js.head.contains("content-type: text/javascript"),
        "{}",
        js.head
    );
    assert!(
        js.head
            .contains("cache-control: public, max-age=31536000, immutable")
    );
    let etag = js
        .head
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap()
        .trim()
        .to_string();
    assert!(script.ends_with(etag.trim_matches('"')), "{script} {etag}");
    let again = open(
        addr,
        "/ui/assets/live.js",
        &format!("If-None-Match: {etag}\r\nConnection: close\r\n"),
    )
    .await;
    assert_eq!(again.code, 304);
    // Asked for without the current digest: revalidated every time, never stale.
    let (code, text) = get(addr, "/ui/assets/live.js?v=old").await;
    assert_eq!(code, 200);
    assert!(text.contains("new EventSource"));
    let old = open(addr, "/ui/assets/live.js?v=old", "Connection: close\r\n").await;
    assert!(old.head.contains("cache-control: no-cache"), "{}", old.head);

    let css = open(addr, &style, "Connection: close\r\n").await;
    assert!(css.head.contains("content-type: text/css"), "{}", css.head);
    let (_, sheet) = get(addr, &style).await;
    assert!(sheet.contains("g.node[data-status=succeeded] rect{fill:#dcffe4;stroke:#2ea043}"));
    let (code, _) = get(addr, "/ui/assets/nothing.js").await;
    assert_eq!(code, 404);
}

/// The script labels graph nodes with the same symbols as the server's badges.
#[test]
fn the_script_knows_the_servers_symbols() {
    let script = include_str!("assets/live.js");
    for status in super::html::STATUSES {
        let pair = format!("\"{status}\": \"{}\"", super::html::symbol(status));
        assert!(script.contains(&pair), "{pair}");
    }
}

/// With a token, pages need a login, but the login page's own style sheet does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assets_need_no_login() {
    let fixture = fixture().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let access = super::session::Access::new(Some("0123456789abcdef".into()), addr).unwrap();
    let app = super::router(&fixture.daemon, Arc::new(access)).with_state(fixture.daemon.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let runs = open(addr, "/ui/runs", "Connection: close\r\n").await;
    assert_eq!(runs.code, 303, "{}", runs.head);
    assert!(
        runs.head
            .contains("content-security-policy: default-src 'none'")
    );
    let (code, login) = get(addr, "/ui/login").await;
    assert_eq!(code, 200, "{login}");
    let at = login.find("/ui/assets/style.css?v=").unwrap();
    let style = &login[at..at + login[at..].find('"').unwrap()];
    let (code, sheet) = get(addr, style).await;
    assert_eq!(code, 200);
    assert!(sheet.contains("nav a{"), "{sheet}");
}
