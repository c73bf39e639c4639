//! Exactly-once effects: a call whose answer was lost (the sandbox's `--faults`, drops after the twin
//! applied the request included) is settled by the block's recovery, so nothing is made twice; and the
//! "already" answers the create and destructive blocks settle, against the twins and against moto.
//!
//! Fault runs go one call at a time (`--parallelism 1`, steps in a chain) without quotas (they depend on
//! time), so that a seed gives the same faults to the same requests: the seeds below are ones whose draws
//! hit the calls the test is about (each test checks that they still do, by the attempts and the logs).

mod already;
mod flows;
mod lost;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{Ran, path_str, root};
use crate::sandbox::bare;

/// Runs `flow` (a path) in the sandbox under `faults` with `seed`, recording into `state`.
fn under_faults(flow: &str, faults: &str, seed: u64, state: &Path, extra: &[&str]) -> (Ran, Value) {
    let seed = seed.to_string();
    let ran: Ran = bare()
        .args(["run", flow, "--sandbox", "--output", "json", "--no-quotas"])
        .args(["--parallelism", "1", "--migration-seconds", "0"])
        .args(["--faults", faults, "--faults-seed", &seed])
        .args(["--state", path_str(state)])
        .args(extra)
        .output()
        .expect("run keyflow")
        .into();
    let report = serde_json::from_str(&ran.stdout).unwrap_or(Value::Null);
    (ran, report)
}

/// A state file's contents.
pub fn saved(state: &Path) -> Value {
    let text = std::fs::read_to_string(state).expect("the state file");
    serde_json::from_str(&text).expect("a state file")
}

/// The ids of the keys the KMS twin holds in `region`.
pub fn keys(saved: &Value, region: &str) -> Vec<String> {
    saved["kms"]["regions"][region]["keys"]
        .as_object()
        .map(|keys| keys.keys().cloned().collect())
        .unwrap_or_default()
}

/// The number of aliases the KMS twin holds in `region`.
pub fn aliases(saved: &Value, region: &str) -> usize {
    match &saved["kms"]["regions"][region]["aliases"] {
        Value::Object(map) => map.len(),
        Value::Array(list) => list.len(),
        _ => 0,
    }
}

/// How many faults of `kind` (`dropped after being applied`) the summary says were injected.
fn injected(stderr: &str, kind: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.contains("sandbox: injected"))
        .unwrap_or_else(|| panic!("no faults line in:\n{stderr}"));
    line.split([':', ','])
        .find(|part| part.contains(kind))
        .and_then(|part| part.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no `{kind}` in `{line}`"))
}

/// Writes `yaml` as a flow beside a copy of the BYOK flow's policies (`core.render` reads files only in
/// the flow's folder).
fn beside_policies(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, file) = crate::harness::flow_file(yaml);
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).expect("policies folder");
    for name in ["qlik-aws.json", "qlik-aws-us-gov.json"] {
        std::fs::copy(
            root().join("flows/policies").join(name),
            policies.join(name),
        )
        .expect("copy a policy");
    }
    (dir, file)
}
