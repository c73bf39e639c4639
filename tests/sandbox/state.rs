//! `--state FILE` under stress: a reader that goes away, SIGTERM, concurrent runs, a missing folder and a
//! SIGKILL mid-run. Each keeps what the sandbox made.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Ran, path_str};

use super::{bare, bare_process, serve};

/// A flow that makes one key, then waits `then` (`0s`: not at all).
fn one_key(dir: &Path, then: &str) -> String {
    let flow = dir.join(format!("one-key-{}.yaml", then.replace(' ', "")));
    std::fs::write(
        &flow,
        format!(
            "name: one-key\nconnections:\n  aws: {{ connector: aws-kms, region: eu-west-1 }}\nsteps:\n  - id: key\n    block: aws-kms.create-key\n    with: {{ description: made before the end }}\n  - id: wait\n    block: core.sleep\n    after: [key]\n    with: {{ duration: {then} }}\n"
        ),
    )
    .expect("flow");
    path_str(&flow).to_string()
}

/// `keyflow run FLOW --sandbox --state STATE -q`, spawned with a clean environment.
fn spawn_run(flow: &str, state: &Path, stdout: Stdio) -> Child {
    bare_process()
        .args(["run", flow, "--sandbox", "-q", "--output", "json"])
        .args(["--state", path_str(state)])
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start keyflow")
}

/// The ids of the keys a state file holds in eu-west-1.
fn keys_in(state: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(state).expect("the state file");
    let saved: serde_json::Value = serde_json::from_str(&text).expect("a state file");
    saved["kms"]["regions"]["eu-west-1"]["keys"]
        .as_object()
        .map(|keys| keys.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn a_reader_that_goes_away_does_not_cost_the_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("s.json");
    let mut child = spawn_run(&one_key(dir.path(), "0s"), &state, Stdio::piped());
    // As `| head -0`: the reading end is closed before keyflow writes its report.
    drop(child.stdout.take());
    let ran: Ran = child.wait_with_output().expect("wait").into();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(keys_in(&state).len(), 1);
}

#[test]
fn sandbox_serve_saves_its_state_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("s.json");
    let mut served = serve(&["--state", path_str(&state)]);
    let stopped = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let status = served.child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    assert!(state.is_file(), "no state saved");
}

#[test]
fn concurrent_runs_on_one_state_file_keep_every_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("s.json");
    let flow = one_key(dir.path(), "0s");
    let children: Vec<Child> = (0..4)
        .map(|_| spawn_run(&flow, &state, Stdio::null()))
        .collect();
    for child in children {
        let ran: Ran = child.wait_with_output().expect("wait").into();
        assert_eq!(ran.code, 0, "{}", ran.stderr);
    }
    // Each run waited for the one before it and started from its state.
    assert_eq!(keys_in(&state).len(), 4);
}

#[test]
fn a_state_file_in_a_missing_folder_is_refused_before_the_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("missing").join("s.json");
    let ran: Ran = bare()
        .args(["run", "flows/hello.yaml", "--sandbox"])
        .args(["--state", path_str(&state)])
        .output()
        .expect("run")
        .into();
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("does not exist: create it"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("twin at"), "{}", ran.stderr);
    assert!(!ran.stdout.contains("succeeded"), "{}", ran.stdout);
}

#[test]
fn a_run_killed_mid_way_keeps_what_it_made_up_to_then() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("s.json");
    let mut child = spawn_run(&one_key(dir.path(), "10m"), &state, Stdio::null());
    // The recorder writes the key soon after it is made; wait for that, not for a time.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !(state.is_file() && keys_in(&state).len() == 1) {
        assert!(
            Instant::now() < deadline,
            "the key was never recorded while the run went on"
        );
        assert!(child.try_wait().expect("poll").is_none(), "the run ended");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_eq!(keys_in(&state).len(), 1);
}
