//! A daemon with a token in the browser: the pages ask for it through the login form, a wrong token is
//! refused, the right one opens a session; and an action whose form lost its CSRF field is refused and
//! starts nothing, while the same form intact starts a run.

use serde_json::json;

use super::driver::Ui;
use super::webdriver::ENTER;
use super::{GREET, run_id};

/// A token of the length `keyflow serve` asks for.
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// Set on `window`; gone once another page has loaded.
const MARK: &str = "window.keyflowTestMarker = 'this page'; return true;";
const NEW_PAGE: &str = "window.keyflowTestMarker !== 'this page'";

#[test]
fn the_login_form_opens_a_session_and_an_action_without_csrf_is_refused() {
    let Some(ui) = Ui::start("login_csrf", &[("greet.yaml", GREET)], Some(TOKEN)) else {
        return;
    };
    ui.open("/ui/runs");
    ui.wait_for("form#login[method=\"post\"][action=\"/ui/login\"] input[type=\"password\"][name=\"token\"]");
    ui.screenshot("login");

    // Typed, then Enter in the field, as a person logs in.
    ui.fill(
        "form#login input[name=\"token\"]",
        "not-the-token-at-all-0123456789",
    );
    ui.js(MARK, &[]);
    ui.press(ENTER);
    ui.wait_until("the login's answer", NEW_PAGE);
    ui.wait_for("form#login input[name=\"token\"]");
    assert!(
        !ui.source().contains("not-the-token-at-all"),
        "the refused token is shown back"
    );

    ui.fill("form#login input[name=\"token\"]", TOKEN);
    ui.press(ENTER);
    ui.wait_for_path("a page past the login", |path| path != "/ui/login");
    ui.open("/ui/flows");
    ui.wait_for("main a[href=\"/ui/flows/greet\"]");
    assert!(!ui.source().contains(TOKEN), "the token is shown on a page");

    // The start form without its CSRF field: refused, no run.
    ui.open("/ui/flows/greet");
    ui.wait_for("form#start-run input[type=\"hidden\"][name=\"csrf\"]");
    ui.fill("form#start-run [name=\"param.who\"]", "Mallory");
    ui.js(
        "document.querySelector('form#start-run input[name=\"csrf\"]').remove(); return true;",
        &[],
    );
    ui.js(MARK, &[]);
    ui.click("form#start-run button#start");
    ui.wait_until("the refusal", NEW_PAGE);
    let path = ui.path();
    assert!(
        !path.starts_with("/ui/runs/"),
        "a form without CSRF field led to {path}"
    );
    let said = ui.text("main");
    assert!(
        said.contains("CSRF"),
        "the refusal does not say why: {said}"
    );
    ui.screenshot("csrf-refused");
    let runs = ui.api.get("/api/v1/runs?flow=greet").body;
    assert_eq!(
        runs["runs"],
        json!([]),
        "a run started without CSRF: {runs}"
    );

    // The same form intact starts the run.
    ui.open("/ui/flows/greet");
    ui.wait_for("form#start-run input[type=\"hidden\"][name=\"csrf\"]");
    ui.fill("form#start-run [name=\"param.who\"]", "Alice");
    ui.click("form#start-run button#start");
    let path = ui.wait_for_path("the run's page", |path| path.starts_with("/ui/runs/"));
    let run = ui.api.run_ends(&run_id(&path), "succeeded");
    assert_eq!(run["outputs"]["text"], "hello Alice");
}
