//! Connector plugins end to end: `keyflow plugin add|list|update|remove`, plugin blocks checked like the
//! built-ins from the committed record alone, the Python (Vault Transit) and Rust (JSON store) example
//! plugins running flows, and a plugin misbehaving in every way failing only its step, leaving no process.

mod examples;
mod misbehaving;
mod protocol;
mod record;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{Ran, keyflow, root};

/// A temporary project holding a copy of the misbehaving test plugin, added.
pub fn misbehaving_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("misbehaving.py");
    std::fs::copy(
        root().join("tests/fixtures/plugins/misbehaving.py"),
        &script,
    )
    .expect("copy the plugin");
    let added = in_dir(dir.path(), &["plugin", "add", "misbehaving.py"]);
    assert_eq!(added.code, 0, "{}", added.stderr);
    dir
}

/// `keyflow` run in `dir`.
pub fn in_dir(dir: &Path, args: &[&str]) -> Ran {
    keyflow()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run keyflow")
        .into()
}

/// Runs `yaml` (written as `flow.yaml` in `dir`) with `--output json -q` and `extra`.
pub fn run_in(
    dir: &Path,
    yaml: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, Value, String) {
    std::fs::write(dir.join("flow.yaml"), yaml).expect("write flow");
    let mut command = keyflow();
    command
        .current_dir(dir)
        .args(["run", "flow.yaml", "--output", "json", "-q"])
        .args(extra);
    for (name, value) in env {
        command.env(name, value);
    }
    let ran: Ran = command.output().expect("run keyflow").into();
    let report = serde_json::from_str(&ran.stdout).unwrap_or(Value::Null);
    (ran.code, report, ran.stderr)
}

pub fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("no step `{id}` in {report:#}"))
}

/// The processes the misbehaving plugin started that are still there (alive or zombie).
pub fn left_over(dir: &Path) -> Vec<String> {
    let Ok(pids) = std::fs::read_dir(dir.join("pids")) else {
        return Vec::new();
    };
    pids.filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmd| cmd.contains("misbehaving.py"))
        })
        .collect()
}

/// The Rust example (`plugin/examples/json_store.rs`, built by `cargo test --workspace`).
pub fn json_store() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let debug = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let plugin = debug.join("examples").join("json_store");
    assert!(
        plugin.is_file(),
        "{} is missing: `cargo build -p keyflow-plugin --example json_store` (cargo test --workspace builds it)",
        plugin.display()
    );
    plugin
}
