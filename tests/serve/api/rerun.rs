//! `POST /api/v1/runs/{id}/rerun`: steps of a run that ended run again in a new run that reuses the
//! earlier run's other results, with what it refuses; and a browser's login to the web UI, refused
//! without what was typed reaching the log, whose cookie does not open the API.

use serde_json::{Value, json};

use super::client::{Api, assert_fits};
use super::{GREET, TOKEN};
use crate::serve::write;

/// Three steps, the second reading the first.
const CHAIN: &str = "name: chain\nsteps:\n  - id: a\n    block: core.set\n    with: { n: 1 }\n  - id: b\n    block: core.set\n    with: { m: $.steps.a.output.n }\n  - id: c\n    block: core.set\n    after: b\n    with: { k: 3 }\n";

/// A run that lasts a minute unless stopped.
const NAP: &str =
    "name: nap\nsteps:\n  - id: sleep\n    block: core.sleep\n    with: { duration: 60s }\n";

fn step<'r>(report: &'r Value, id: &str) -> &'r Value {
    report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("no step {id}: {report}"))
}

#[test]
fn steps_of_a_run_that_ended_run_again_in_a_new_run_that_reuses_the_rest() {
    let api = Api::start(&[("chain.yaml", CHAIN), ("nap.yaml", NAP)], None);
    let id = api.start_run("chain", json!({}));
    api.run_ends(&id, "succeeded");

    let answer = api.post(&format!("/api/v1/runs/{id}/rerun"), json!({"steps": ["b"]}));
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_fits("Accepted", &answer.body);
    let new = answer.body["run_id"].as_str().expect("run id").to_string();
    assert_ne!(new, id);
    assert_eq!(
        answer.body["firing"]["rerun"],
        json!({"from": id, "steps": ["b"]})
    );
    assert_eq!(answer.body["firing"]["allow_destructive"], false);
    let report = api.run_ends(&new, "succeeded");
    assert_eq!(step(&report, "a")["reused"], true, "{report}");
    assert_ne!(step(&report, "b")["reused"], true, "{report}");
    assert_ne!(step(&report, "c")["reused"], true, "{report}");
    assert_eq!(step(&report, "b")["attempts"], 1, "{report}");
    let firings = api.get("/api/v1/firings?flow=chain");
    assert_fits("FiringsDocument", &firings.body);
    assert_eq!(firings.body["firings"][0]["rerun"]["from"], json!(id));
    assert_eq!(firings.body["firings"][1]["rerun"], Value::Null);

    // What is refused, and how.
    let refused = |path: &str, body: Option<&str>, status: u16, code: &str, says: &str| {
        let answer = api.send("POST", path, body, None);
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        assert_fits("ErrorBody", &answer.body);
        assert_eq!(answer.body["error"]["code"], code, "{}", answer.body);
        let message = answer.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{path}: {message}");
    };
    let rerun = format!("/api/v1/runs/{id}/rerun");
    refused(
        "/api/v1/runs/nope/rerun",
        Some("{\"steps\": [\"b\"]}"),
        404,
        "not_found",
        "no run `nope`",
    );
    refused(
        &rerun,
        Some("{\"steps\": [\"bb\"]}"),
        422,
        "unprocessable",
        "flow `chain` has no step `bb`; did you mean `b`?",
    );
    refused(&rerun, None, 422, "unprocessable", "no step to re-run");
    refused(
        &rerun,
        Some("{\"step\": \"b\"}"),
        400,
        "bad_request",
        "unknown field",
    );
    let nap = api.start_run("nap", json!({}));
    api.run_ends(&nap, "running");
    refused(
        &format!("/api/v1/runs/{nap}/rerun"),
        Some("{\"steps\": [\"sleep\"]}"),
        409,
        "conflict",
        "is still running",
    );
    assert_eq!(
        api.post(&format!("/api/v1/runs/{nap}/cancel"), json!({}))
            .status,
        202
    );
    api.run_ends(&nap, "cancelled");
    // Its flow no longer served: nothing to re-run it with.
    std::fs::remove_file(api.folder().join("chain.yaml")).expect("remove");
    api.poll("chain to be no longer served", || {
        api.get("/api/v1/flows/chain").status == 404
    });
    refused(
        &rerun,
        Some("{\"steps\": [\"b\"]}"),
        422,
        "unprocessable",
        "which this daemon does not serve",
    );
    write(&api.folder(), "chain.yaml", CHAIN);
    let log = api.stop();
    assert!(
        log.contains(&format!(
            "run {new} of `chain` asked for through the API from 127.0.0.1:"
        )) && log.contains(&format!("re-running `b` of run {id}")),
        "{log}"
    );
}

#[test]
fn a_browser_logs_in_with_the_token_and_a_refused_login_is_logged_without_it() {
    let api = Api::start(&[("greet.yaml", GREET)], Some(TOKEN));
    // The login page gives the browser its cookie and the form its CSRF token.
    let login = api.send("GET", "/ui/login", None, Some(""));
    assert_eq!(login.status, 200, "{}", login.body);
    let page = login.body.as_str().unwrap_or_default().to_string();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_string();
    let browser = login.headers["set-cookie"]
        .to_str()
        .expect("a cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let wrong = "guessed-0123456789abcdef";
    let answer = api.post_form(
        "/ui/login",
        &browser,
        &format!("csrf={csrf}&token={wrong}&next=%2Fui%2Fruns"),
    );
    assert_eq!(answer.status, 401, "{}", answer.body);
    let answer = api.post_form(
        "/ui/login",
        &browser,
        &format!("csrf={csrf}&token={TOKEN}&next=%2Fui%2Fruns"),
    );
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.headers["location"], "/ui/runs");
    let session = answer.headers["set-cookie"]
        .to_str()
        .expect("a cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(session.starts_with("keyflow_session="), "{session}");
    // The session opens the pages, never the API.
    let api_answer = api.post_form("/api/v1/flows/greet/runs", &session, "");
    assert_eq!(api_answer.status, 401, "{}", api_answer.body);
    let log = api.stop();
    assert!(
        log.contains("refused a login to the web UI from 127.0.0.1:")
            && log.contains("a token that is not this daemon's")
            && log.contains("a browser logged in to the web UI from 127.0.0.1:"),
        "{log}"
    );
    assert!(!log.contains(wrong) && !log.contains(TOKEN), "{log}");
}
