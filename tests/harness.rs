//! A small fluent harness around the built `keyflow` binary.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `keyflow` command run from the repository root, without colors, recording its runs in the tests'
/// store rather than the user's.
pub fn keyflow() -> Command {
    let mut command = Command::cargo_bin("keyflow").expect("keyflow binary");
    command
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("KEYFLOW_STORE", tests_store())
        .env_remove("RUST_LOG");
    command
}

/// The run store the tests' runs go to (one SQLite file under the target folder, shared by every test
/// process, as the default store is shared by a user's processes).
pub fn tests_store() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("keyflow-tests-runs.db")
}

/// The result of a command.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Ran {
    fn from(output: Output) -> Ran {
        Ran {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `keyflow` with `args`.
pub fn run(args: &[&str]) -> Ran {
    keyflow().args(args).output().expect("run keyflow").into()
}

/// Writes a flow into a temporary folder and gives its path (the folder lives as long as the guard).
pub fn flow_file(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("flow.yaml");
    std::fs::write(&path, yaml).expect("write flow");
    (dir, path)
}

/// `keyflow validate` of a flow given as text.
pub fn validate_yaml(yaml: &str) -> Ran {
    let (_dir, path) = flow_file(yaml);
    run(&["validate", path_str(&path)])
}

/// Runs a flow given as text with `--output json` and returns the exit code and report.
pub fn run_json(yaml: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let (code, report, ran) = run_flow(keyflow(), yaml, extra);
    (code, report, ran.stderr)
}

/// Runs a flow given as text with `command` (a `keyflow` command with its environment set), with
/// `--output json -q` and `extra`: the exit code, the report, and all it printed.
pub fn run_flow(command: Command, yaml: &str, extra: &[&str]) -> (i32, serde_json::Value, Ran) {
    let (_dir, path) = flow_file(yaml);
    run_file(command, path_str(&path), extra)
}

/// Runs the flow file at `path` with `command` (a `keyflow` command with its environment set), with
/// `--output json -q` and `extra`: the exit code, the report, and all it printed.
pub fn run_file(mut command: Command, path: &str, extra: &[&str]) -> (i32, serde_json::Value, Ran) {
    let ran: Ran = command
        .args(["run", path, "--output", "json", "-q"])
        .args(extra)
        .output()
        .expect("run keyflow")
        .into();
    let report = serde_json::from_str(&ran.stdout).unwrap_or_else(|e| {
        panic!(
            "{path}: no JSON report ({e}); stdout: {}\nstderr: {}",
            ran.stdout, ran.stderr
        )
    });
    // Every report the tests read is held to the published schema.
    crate::schemas::assert_matches("run-report.schema.json", &report);
    (ran.code, report, ran)
}

/// A path as `&str`.
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The step of a report with this id.
pub fn step<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("no step `{id}` in {report:#}"))
}
