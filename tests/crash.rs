//! The crash test of durable runs: the BYOK flow against the twins of `keyflow sandbox serve --state`
//! (which outlive the run, as AWS and Qlik do), its `keyflow run` killed with SIGKILL right after each
//! step boundary in turn and as each step that creates something starts, then `keyflow resume`d. Every
//! sequence ends `succeeded` with exactly one key, one replica, one alias, one key provider and one
//! migration in the twins, and every step on record.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::harness::{Ran, path_str};
use crate::recovery::{aliases, keys, saved};
use crate::runs::runs_of;
use crate::sandbox::{bare_process, serve};

const FLOW: &str = "flows/byok-tenant-encryption.yaml";

/// Where a run is killed.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// Once this many steps have finished (the events are read as the run writes them).
    AfterSteps(usize),
    /// As this step starts: its call may be on its way, made, or answered.
    AsStarts(&'static str),
}

/// `keyflow ARGS…` with only the served twins' environment, recording into `store`.
pub fn keyflow(exports: &[(String, String)], store: &Path) -> Command {
    let mut command = bare_process();
    command
        .env("KEYFLOW_STORE", store)
        .envs(exports.iter().map(|(n, v)| (n, v)));
    command
}

/// Runs the flow and kills it at `kill`; gives whether it was killed before it ended.
fn run_until(exports: &[(String, String)], store: &Path, kill: Kill) -> bool {
    let mut child = keyflow(exports, store)
        .args(["run", FLOW, "--output", "jsonl", "-q", "--parallelism", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyflow");
    let stdout = child.stdout.take().expect("stdout");
    let mut finished = 0;
    for line in BufReader::new(stdout).lines() {
        let event: Value = serde_json::from_str(&line.expect("a line")).unwrap_or_default();
        let now = match (kill, event["event"].as_str()) {
            (Kill::AfterSteps(n), Some("step_finished")) => {
                finished += 1;
                finished == n
            }
            (Kill::AsStarts(id), Some("step_started")) => event["step"] == id,
            _ => false,
        };
        if now {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
            return true;
        }
    }
    child.wait().expect("reap");
    false
}

/// One sequence: fresh twins, a run killed at `kill`, then resumed to the end; checks what the twins
/// hold and what the store recorded.
fn crash_and_resume(kill: Kill) {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state.json");
    let store = dir.path().join("runs.db");
    let served = serve(&[
        "--migration-seconds",
        "0",
        "--no-quotas",
        "--state",
        path_str(&state),
    ]);
    let killed = run_until(&served.exports, &store, kill);
    assert!(killed, "{kill:?}: the run ended before it could be killed");
    let listed: Ran = keyflow(&served.exports, &store)
        .args(["runs", "list", "--output", "json"])
        .output()
        .expect("runs list")
        .into();
    let runs = runs_of(&listed.stdout);
    assert_eq!(runs.len(), 1, "{kill:?}: {}", listed.stdout);
    assert_eq!(runs[0]["status"], "interrupted", "{kill:?}");
    let id = runs[0]["run_id"].as_str().expect("run id").to_string();
    let resumed: Ran = keyflow(&served.exports, &store)
        .args([
            "resume",
            &id,
            "--output",
            "json",
            "-q",
            "--parallelism",
            "1",
        ])
        .output()
        .expect("resume")
        .into();
    assert_eq!(
        resumed.code, 0,
        "{kill:?}: {}{}",
        resumed.stderr, resumed.stdout
    );
    let report: Value = serde_json::from_str(&resumed.stdout).expect("report");
    assert_eq!(report["status"], "succeeded", "{kill:?}: {report:#}");
    assert_eq!(report["run_id"], id.as_str(), "the same run went on");
    served.stop();

    let saved = saved(&state);
    let primary = keys(&saved, "eu-west-1");
    assert_eq!(primary.len(), 1, "{kill:?}: one key: {primary:?}");
    assert_eq!(keys(&saved, "eu-west-3"), primary, "{kill:?}: one replica");
    assert_eq!(aliases(&saved, "eu-west-1"), 1, "{kill:?}: one alias");
    let tenant = &saved["qlik"]["tenants"][0];
    let providers = tenant["providers"].as_array().map_or(0, Vec::len);
    assert_eq!(providers, 2, "{kill:?}: Qlik's and one more: {tenant}");
    let arn = report["outputs"]["key_arn"].as_str().expect("key ARN");
    assert_eq!(tenant["migration"]["to"], arn, "{kill:?}: {tenant}");
    assert_eq!(
        report["outputs"]["migration_id"], tenant["migration"]["id"],
        "{kill:?}: the tenant's only migration is the run's"
    );

    // Every step of the flow is on record, ended.
    let shown: Ran = keyflow(&[], &store)
        .args(["runs", "show", &id, "--output", "json"])
        .output()
        .expect("runs show")
        .into();
    let shown: Value = serde_json::from_str(&shown.stdout).expect("run document");
    let steps = shown["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), report["steps"].as_array().map_or(0, Vec::len));
    for step in steps {
        assert!(
            ["succeeded", "skipped"].contains(&step["status"].as_str().unwrap_or_default()),
            "{kill:?}: {step}"
        );
    }
}

#[test]
fn a_run_killed_after_any_step_is_resumed_and_makes_each_thing_once() {
    // The flow's 15 steps; the last boundary is the run's end, which has nothing to resume.
    for after in 1..15 {
        crash_and_resume(Kill::AfterSteps(after));
    }
}

#[test]
fn a_run_killed_as_a_creating_step_starts_is_resumed_and_makes_each_thing_once() {
    for step in [
        "create_key",
        "replicate",
        "create_alias",
        "create_key_provider",
        "migrate",
    ] {
        crash_and_resume(Kill::AsStarts(step));
    }
}
