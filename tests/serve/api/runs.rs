//! Stopping and resuming runs through the API, and un-pausing a trigger paused after failures.

use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client::{Api, assert_fits};
use crate::harness::{path_str, run};
use crate::serve::write;

/// A flow that runs for a minute unless stopped.
const NAP: &str =
    "name: nap\nsteps:\n  - id: sleep\n    block: core.sleep\n    with: { duration: 60s }\n";

/// A flow that sleeps between two steps.
const SLOW: &str = "name: slow\nsteps:\n  - id: first\n    block: core.set\n    with: { v: 1 }\n  - id: wait\n    block: core.sleep\n    after: [first]\n    with: { duration: 5m }\n  - id: last\n    block: core.set\n    after: [wait]\n    with: { v: $.steps.first.output.v }\noutputs:\n  v: $.steps.last.output.v\n";

/// A flow whose check fails.
const CHECKED: &str = "name: checked\nsteps:\n  - id: first\n    block: core.set\n    with: { v: 1 }\n  - id: check\n    block: core.assert\n    with: { value: $.steps.first.output.v, equals: 2, message: not yet }\n";

/// A trigger firing every 5 seconds into a failing flow, paused after its first failure.
const FAILING_TRIGGER: &str = "name: flaky\nsteps:\n  - id: boom\n    block: core.fail\n    with: { message: broken }\ntriggers:\n  - id: often\n    cron: \"*/5 * * * * *\"\n    pause_after_failures: 1\n";

#[test]
fn a_long_run_is_cancelled_at_once() {
    let api = Api::start(&[("nap.yaml", NAP)], None);
    let id = api.start_run("nap", json!({}));
    api.run_ends(&id, "running");
    let answer = api.post(&format!("/api/v1/runs/{id}/cancel"), json!({}));
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_fits("Cancelling", &answer.body);
    assert_eq!(
        (&answer.body["firing_status"], &answer.body["here"]),
        (&json!("running"), &json!(true))
    );
    let report = api.run_ends(&id, "cancelled");
    assert_eq!(report["steps"][0]["status"], "cancelled");
    // Its firing is recorded as done just after the run's end.
    api.poll("the firing to end", || {
        api.get("/api/v1/firings?flow=nap").body["firings"][0]["status"] == "done"
    });
    let again = api.post(&format!("/api/v1/runs/{id}/cancel"), json!({}));
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.body["error"]["code"], "conflict");
    assert_eq!(api.post("/api/v1/runs/nope/cancel", json!({})).status, 404);
    api.stop();
}

/// A `keyflow run` killed by the test's end if the test fails first.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_run_interrupted_under_keyflow_run_is_resumed_through_the_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("flows");
    std::fs::create_dir(&folder).expect("flows folder");
    write(&folder, "slow.yaml", SLOW);
    let store = dir.path().join("runs.db");
    // A run killed in its sleep, and one of a flow the daemon will not serve.
    let mut child = Killed(crate::runs::spawn_run(&folder.join("slow.yaml"), &store));
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        let runs = crate::serve::runs(path_str(&store));
        if let Some(id) = runs.first().and_then(|r| r["run_id"].as_str())
            && crate::serve::show(path_str(&store), id)["steps"][0]["status"] == "succeeded"
        {
            break id.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the run never recorded its first step"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.0.kill();
    let _ = child.0.wait();
    let elsewhere = dir.path().join("checked.yaml");
    std::fs::write(&elsewhere, CHECKED).expect("write a flow");
    let ran = run(&[
        "run",
        path_str(&elsewhere),
        "-q",
        "--store",
        path_str(&store),
    ]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let failed = crate::serve::runs(path_str(&store))
        .into_iter()
        .find(|r| r["flow"] == "checked")
        .and_then(|r| r["run_id"].as_str().map(str::to_string))
        .expect("the failed run");
    // The step cut short may change: it runs again.
    write(&folder, "slow.yaml", &SLOW.replace("5m", "10ms"));

    let api = Api::start_in(dir, None);
    let interrupted = api.get("/api/v1/runs?status=interrupted").body;
    assert_eq!(
        interrupted["runs"][0]["run_id"],
        id.as_str(),
        "{interrupted}"
    );
    let answer = api.post(&format!("/api/v1/runs/{id}/resume"), json!({}));
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_fits("Accepted", &answer.body);
    assert_eq!(answer.body["run_id"], id.as_str());
    let report = api.run_ends(&id, "succeeded");
    assert_eq!(report["steps"][0]["reused"], true, "{report}");
    assert_eq!(report["outputs"]["v"], 1);
    let again = api.post(&format!("/api/v1/runs/{id}/resume"), json!({}));
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(
        again.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("succeeded: there is nothing to resume")),
        "{}",
        again.body
    );
    let answer = api.post(&format!("/api/v1/runs/{failed}/resume"), json!({}));
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("flow `checked`, which this daemon does not serve")),
        "{}",
        answer.body
    );
    api.stop();
}

/// A run that failed, asked to go on once its flow is fixed: the failed step runs again, the one that
/// succeeded stands.
#[test]
fn a_failed_run_goes_on_when_asked() {
    let api = Api::start(&[("checked.yaml", CHECKED)], None);
    let started = api.post("/api/v1/flows/checked/runs", json!({}));
    assert_eq!(started.status, 202, "{}", started.body);
    let id = started.body["run_id"].as_str().expect("run id").to_string();
    api.run_ends(&id, "failed");
    write(
        &api.folder(),
        "checked.yaml",
        &CHECKED.replace("equals: 2", "equals: 1"),
    );
    // The daemon serves the fixed flow within its reload interval.
    std::thread::sleep(Duration::from_millis(600));
    let answer = api.post(&format!("/api/v1/runs/{id}/resume"), json!({}));
    assert_eq!(answer.status, 202, "{}", answer.body);
    let report = api.run_ends(&id, "succeeded");
    assert_eq!(report["steps"][0]["reused"], true, "{report}");
    assert_eq!(report["steps"][1]["status"], "succeeded", "{report}");
    api.stop();
}

#[test]
fn a_trigger_paused_after_failures_is_resumed() {
    let api = Api::start(&[("flaky.yaml", FAILING_TRIGGER)], None);
    let mut flow = Value::Null;
    api.poll("the trigger to pause", || {
        flow = api.get("/api/v1/flows/flaky").body;
        flow["triggers"][0]["state"]["paused"].is_string()
    });
    assert_fits("FlowDocument", &flow);
    let trigger = &flow["triggers"][0];
    assert_eq!(
        (&trigger["id"], &trigger["state"]["failures"]),
        (&json!("often"), &json!(1))
    );
    assert_eq!(trigger["next"].as_array().map(Vec::len), Some(3));
    let answer = api.post("/api/v1/flows/flaky/triggers/often/resume", json!({}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_fits("TriggerDocument", &answer.body);
    assert_eq!(answer.body["state"]["paused"], Value::Null);
    assert_eq!(answer.body["state"]["failures"], 0);
    let answer = api.post("/api/v1/flows/flaky/triggers/oftn/resume", json!({}));
    assert_eq!(answer.status, 404);
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean `often`?")),
        "{}",
        answer.body
    );
    api.stop();
}
