//! Browsers log in with the daemon's token and get a session cookie that opens the pages and never the
//! API; every form carries a CSRF token bound to the browser, and comes from the daemon's own pages.

use super::{TOKEN, fixture, run_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_pages_need_a_login_whose_cookie_opens_pages_but_not_the_api() {
    let fixture = fixture(Some(TOKEN)).await;
    let mut browser = fixture.browser();

    // Without a session: to the login page, and back after.
    let answer = browser.get("/ui/flows/greet?x=1").await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(
        answer.location(),
        "/ui/login?next=%2Fui%2Fflows%2Fgreet%3Fx%3D1"
    );
    let answer = browser.get("/ui/runs").await;
    assert_eq!(answer.location(), "/ui/login?next=%2Fui%2Fruns");
    // The API keeps its bearer gate.
    let answer = browser.get("/api/v1/runs").await;
    assert_eq!(answer.status, 401, "{}", answer.body);

    let login = browser.get("/ui/login?next=/ui/flows").await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(
        login
            .body
            .contains("<form id=\"login\" method=\"post\" action=\"/ui/login\"")
            && login
                .body
                .contains("<input type=\"password\" id=\"token\" name=\"token\""),
        "{}",
        login.body
    );
    let cookie = login
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("keyflow_browser="))
        .unwrap()
        .to_string();
    assert!(
        cookie.ends_with("; HttpOnly; SameSite=Strict; Path=/"),
        "on loopback, not Secure: {cookie}"
    );
    let csrf = login.csrf();

    // A wrong token: refused, the form again, no session.
    let answer = browser
        .post(
            "/ui/login",
            &[
                ("csrf", &csrf),
                ("token", "not-the-token-0123456789"),
                ("next", "/ui/flows"),
            ],
        )
        .await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(
        answer.body.contains("not this daemon&#39;s token"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("not-the-token"), "{}", answer.body);
    assert!(!browser.cookies.contains_key("keyflow_session"));
    // The login form is a form like any other: without its CSRF token, refused.
    let answer = browser
        .post("/ui/login", &[("token", TOKEN), ("next", "/ui/flows")])
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(!browser.cookies.contains_key("keyflow_session"));

    // The token: a session, and back where the browser was going, never to another site.
    let answer = browser
        .post(
            "/ui/login",
            &[
                ("csrf", &csrf),
                ("token", TOKEN),
                ("next", "//evil.example/ui/runs"),
            ],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location(), "/ui/runs");
    let session = answer
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("keyflow_session="))
        .unwrap()
        .to_string();
    assert!(
        session.ends_with("; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"),
        "{session}"
    );
    assert_eq!(browser.cookies["keyflow_session"].len(), 64);

    // The cookie opens the pages (with a logout button), not the API.
    let page = browser.get("/ui/flows").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("<form class=\"logout\" method=\"post\" action=\"/ui/logout\">")
    );
    let answer = browser.get("/api/v1/runs").await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(answer.body.contains("\"unauthorized\""), "{}", answer.body);
    let answer = browser.get_with_bearer("/api/v1/runs", TOKEN).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // Forms of the session's pages work; the login page sends a logged-in browser on.
    let page = browser.get("/ui/flows/chain").await;
    let answer = browser
        .post("/ui/flows/chain/runs", &[("csrf", &page.csrf())])
        .await;
    let run = run_of(&answer);
    assert_eq!(fixture.ended(&run).await.summary.status.name(), "succeeded");
    let answer = browser.get("/ui/login?next=/ui/flows").await;
    assert_eq!((answer.status, answer.location()), (303, "/ui/flows"));

    // A form of the page before the login is bound to the browser, not the session: refused.
    let answer = browser
        .post("/ui/flows/chain/runs", &[("csrf", &csrf)])
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);

    // Logging out ends the session: the same cookie opens nothing.
    let kept = browser.cookies["keyflow_session"].clone();
    let answer = browser.post("/ui/logout", &[("csrf", &page.csrf())]).await;
    assert_eq!((answer.status, answer.location()), (303, "/ui/login"));
    assert!(!browser.cookies.contains_key("keyflow_session"));
    browser.cookies.insert("keyflow_session".into(), kept);
    let answer = browser.get("/ui/runs").await;
    assert_eq!(answer.status, 303);
    // A form sent without a session is refused with a page that says to log in.
    let answer = browser
        .post("/ui/flows/chain/runs", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(answer.body.contains("Log in"), "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_needs_its_csrf_token_and_the_daemons_own_origin() {
    let fixture = fixture(None).await;
    let mut browser = fixture.browser();
    // Without a token there is no login: the login page sends the browser on.
    let answer = browser.get("/ui/login?next=/ui/flows").await;
    assert_eq!((answer.status, answer.location()), (303, "/ui/flows"));
    let page = browser.get("/ui/flows/chain").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(browser.cookies.contains_key("keyflow_browser"));
    assert_eq!(
        page.headers
            .get("x-frame-options")
            .and_then(|v| v.to_str().ok()),
        Some("DENY")
    );
    let csrf = page.csrf();
    let form = "/ui/flows/chain/runs";
    let own = format!("http://{}", fixture.addr);

    for (fields, headers, why) in [
        (
            vec![],
            vec![("origin", own.as_str())],
            "carries no CSRF token",
        ),
        (
            vec![("csrf", "0".repeat(64))],
            vec![("origin", own.as_str())],
            "not this browser",
        ),
        (
            vec![("csrf", csrf.clone())],
            vec![("origin", "http://evil.example")],
            "another site",
        ),
        (
            vec![("csrf", csrf.clone())],
            vec![("origin", "null")],
            "another site",
        ),
        (
            vec![("csrf", csrf.clone())],
            vec![("sec-fetch-site", "cross-site")],
            "another site",
        ),
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let answer = browser.post_with(form, &fields, &headers).await;
        assert_eq!(answer.status, 403, "{why}: {}", answer.body);
        assert!(
            answer.body.contains(why) && answer.body.contains("Reload the page"),
            "{why}: {}",
            answer.body
        );
    }
    // JSON is not a form of the UI.
    let answer = browser
        .post_with(
            form,
            &[("csrf", &csrf)],
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    // Another browser's token does not pass for this one.
    let mut other = fixture.browser();
    let theirs = other.get("/ui/flows/chain").await.csrf();
    assert_ne!(theirs, csrf);
    let answer = browser.post(form, &[("csrf", &theirs)]).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    // Nothing was started by the refused forms.
    assert!(
        fixture
            .daemon
            .store
            .firings(Some("chain"), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The same form, from the daemon's page (no Origin sent, as some browsers do, or its own): started.
    let answer = browser.post_with(form, &[("csrf", &csrf)], &[]).await;
    let run = run_of(&answer);
    fixture.ended(&run).await;
    let answer = browser
        .post_with(
            form,
            &[("csrf", &csrf)],
            &[("origin", &own), ("sec-fetch-site", "same-origin")],
        )
        .await;
    run_of(&answer);
}
