//! `keyflow serve`'s HTTP API, driven over real HTTP against the real binary: bearer-token auth, runs
//! started with checked params and followed to their end, the same JSON as `keyflow runs list|show`,
//! metrics, and the OpenAPI document (served = committed, and every answer matches its schema in it);
//! [`runs`]: cancel, resume, and un-pausing a trigger; [`rerun`]: steps of a run run again, and the web
//! UI's login beside the API's token.

pub mod client;
mod rerun;
mod runs;

use serde_json::{Value, json};

use crate::harness::root;
use client::{Api, assert_fits, json_of, keyflow_json};

/// A token of the length `keyflow serve` asks for.
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// A flow with a required and a defaulted param.
const GREET: &str = "name: greet\nparams:\n  who: { type: string, description: whom to greet }\n  times: { type: integer, default: 1, enum: [1, 2, 3] }\nsteps:\n  - id: say\n    block: core.set\n    with: { text: \"hello {{params.who}}\", times: $.params.times }\noutputs:\n  text: $.steps.say.output.text\n";

#[test]
fn with_a_token_every_route_but_the_probes_needs_it_and_refusals_are_logged_without_it() {
    let api = Api::start(&[("greet.yaml", GREET)], Some(TOKEN));
    for probe in ["/healthz", "/readyz"] {
        let answer = api.send("GET", probe, None, Some(""));
        assert_eq!(answer.status, 200, "{probe}: {}", answer.body);
    }
    let wrong = "not-the-token-at-all-0123456789";
    for path in [
        "/api/v1/flows",
        "/metrics",
        "/api/v1/openapi.json",
        "/nowhere",
    ] {
        for token in ["", wrong] {
            let answer = api.send("GET", path, None, Some(token));
            assert_eq!(answer.status, 401, "{path} with `{token}`: {}", answer.body);
            assert_eq!(answer.headers["www-authenticate"], "Bearer");
            assert_eq!(answer.body["error"]["code"], "unauthorized");
        }
    }
    let answer = api.post("/api/v1/flows/greet/runs", json!({"params": {"who": "x"}}));
    assert_eq!(answer.status, 202, "{}", answer.body);
    let answer = api.get("/nowhere");
    assert_eq!(
        (answer.status, &answer.body["error"]["code"]),
        (404, &json!("not_found"))
    );
    let log = api.stop();
    assert!(
        log.contains("refused GET /api/v1/flows from 127.0.0.1:")
            && log.contains("a bearer token that is not this daemon's")
            && log.contains("no bearer token"),
        "{log}"
    );
    assert!(!log.contains(wrong) && !log.contains(TOKEN), "{log}");
}

#[test]
fn a_run_started_with_params_is_checked_followed_and_listed_as_the_cli_lists_it() {
    let api = Api::start(
        &[
            ("greet.yaml", GREET),
            (
                "broken.yaml",
                "name: broken\nsteps:\n  - id: a\n    block: core.lgo\n",
            ),
        ],
        None,
    );
    let flows = api.get("/api/v1/flows");
    assert_eq!(flows.status, 200, "{}", flows.body);
    assert_fits("FlowsDocument", &flows.body);
    let greet = &flows.body["flows"][0];
    assert_eq!(greet["name"], "greet");
    assert_eq!(
        greet["params"],
        json!([
            {"name": "who", "type": "string", "required": true, "default": null, "enum": null,
             "pattern": null, "description": "whom to greet"},
            {"name": "times", "type": "integer", "required": false, "default": 1, "enum": [1, 2, 3],
             "pattern": null, "description": null},
        ])
    );
    let rejected = &flows.body["rejected"][0];
    assert!(
        rejected["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("broken.yaml"))
    );
    assert_eq!(rejected["diagnostics"][0]["code"], "unknown-block");
    assert_eq!(rejected["diagnostics"][0]["line"], 4);
    assert_eq!(api.get("/api/v1/flows/greet").body["name"], "greet");

    let answer = api.post(
        "/api/v1/flows/greet/runs",
        json!({"params": {"who": "ada", "times": 2}}),
    );
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_fits("Accepted", &answer.body);
    let id = answer.body["run_id"].as_str().expect("run id").to_string();
    assert_eq!(
        answer.headers["location"],
        format!("/api/v1/runs/{id}").as_str()
    );
    let report = api.run_ends(&id, "succeeded");
    assert_fits("RunDocument", &report);
    assert_eq!(report["outputs"]["text"], "hello ada");

    // Params are checked as `--param` values are, every problem at once.
    let answer = api.post(
        "/api/v1/flows/greet/runs",
        json!({"params": {"whom": "ada", "times": 5}}),
    );
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_fits("ErrorBody", &answer.body);
    assert_eq!(answer.body["error"]["code"], "invalid_params");
    let messages: Vec<&str> = answer.body["error"]["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["message"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        messages,
        [
            "parameter `whom`: the flow has no such parameter; did you mean `who`?",
            "parameter `who`: required; give it with `--param who=…` (whom to greet)",
            "parameter `times`: `5` is not one of `1`, `2`, `3`",
        ]
    );
    let answer = api.post("/api/v1/flows/greeet/runs", json!({}));
    assert_eq!(answer.status, 404);
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean `greet`?")),
        "{}",
        answer.body
    );
    let answer = api.send(
        "POST",
        "/api/v1/flows/greet/runs",
        Some("{\"params\": "),
        None,
    );
    assert_eq!(
        (answer.status, &answer.body["error"]["code"]),
        (400, &json!("bad_request"))
    );

    // The same JSON as the command line gives.
    let listed = api.get("/api/v1/runs?flow=greet&status=succeeded&since=1h&limit=5");
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_fits("RunsDocument", &listed.body);
    let store = api.store();
    let cli = keyflow_json(
        &[
            "runs",
            "list",
            "--flow",
            "greet",
            "--status",
            "succeeded",
            "--since",
            "1h",
            "--limit",
            "5",
        ],
        &store,
    );
    assert_eq!(listed.body, cli);
    assert_eq!(listed.body["runs"].as_array().map(Vec::len), Some(1));
    let prefix = &id[..13];
    let shown = api.get(&format!("/api/v1/runs/{prefix}"));
    assert_eq!(shown.body, keyflow_json(&["runs", "show", &id], &store));
    let answer = api.get("/api/v1/runs?status=asleep");
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(
        api.get("/api/v1/runs/nope").body["error"]["code"],
        "not_found"
    );

    let firings = api.get("/api/v1/firings?flow=greet");
    assert_fits("FiringsDocument", &firings.body);
    let firing = &firings.body["firings"][0];
    assert_eq!(
        (&firing["run_id"], &firing["trigger"], &firing["status"]),
        (&json!(id), &Value::Null, &json!("done"))
    );
    let metrics = api.get("/metrics").body;
    let metrics = metrics.as_str().expect("text");
    assert!(
        metrics.contains("keyflow_runs_total{flow=\"greet\",status=\"succeeded\"} 1")
            && metrics.contains(
                "keyflow_step_duration_seconds_count{flow=\"greet\",block=\"core.set\"} 1"
            ),
        "{metrics}"
    );
    api.stop();
}

#[test]
fn the_served_openapi_document_is_the_committed_one() {
    let api = Api::start(&[("greet.yaml", GREET)], None);
    let answer = api.get("/api/v1/openapi.json");
    assert_eq!(answer.status, 200);
    let text = std::fs::read_to_string(root().join("schemas/openapi.json")).expect("openapi.json");
    assert_eq!(answer.body, json_of(&text));
    assert_eq!(answer.body["openapi"], "3.1.0");
    api.stop();
}
