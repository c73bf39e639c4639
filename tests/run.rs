//! `keyflow run`: reports, statuses and exit codes.

use crate::harness::{run_json, step};

#[test]
fn a_failing_step_fails_the_run_with_exit_1() {
    let (code, report, _) = run_json(
        "name: x\nsteps:\n  - id: boom\n    block: core.fail\n    with: { message: nope, code: Broken }\n  - id: later\n    block: core.log\n    after: boom\n    with: { message: never }\n",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(report["status"], "failed");
    assert_eq!(step(&report, "boom")["error"]["code"], "Broken");
    assert_eq!(step(&report, "later")["status"], "cancelled");
}

#[test]
fn ctrl_c_cancels_the_steps_in_flight_and_reports_every_step() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let (_dir, path) = crate::harness::flow_file(
        "name: interrupted\nsteps:\n  - id: quick\n    block: core.log\n    with: { message: hello }\n  - id: wait\n    block: core.sleep\n    after: quick\n    with: { duration: 60s }\n  - id: later\n    block: core.log\n    after: wait\n    with: { message: never }\n",
    );
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("keyflow"))
        .args([
            "run",
            crate::harness::path_str(&path),
            "--output",
            "json",
            "-q",
            "-vv",
            "--color",
            "never",
        ])
        .env_remove("RUST_LOG")
        .env("KEYFLOW_STORE", crate::harness::tests_store())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start keyflow");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let started = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("step started") && line.contains("step=\"wait\""));
    assert!(started, "the sleep step never started");
    // The shell's builtin `kill`: present wherever `sh` is, unlike a `kill` binary.
    let interrupted = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let output = child.wait_with_output().expect("wait");
    // 130, as a shell reports a job it interrupted.
    assert_eq!(output.status.code(), Some(130));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["status"], "cancelled");
    assert_eq!(report["reason"], "cancelled by the operator");
    assert_eq!(step(&report, "quick")["status"], "succeeded");
    assert_eq!(step(&report, "wait")["status"], "cancelled");
    assert_eq!(
        step(&report, "wait")["reason"],
        "cancelled by the operator while running"
    );
    assert_eq!(step(&report, "later")["status"], "cancelled");
    assert!(
        report["duration_ms"].as_u64().is_some_and(|ms| ms < 30_000),
        "did not stop promptly: {report}"
    );
}
