//! The example plugins: Vault Transit in Python (standard library only) against its twin, and the JSON
//! store in Rust built on the `keyflow-plugin` crate.

use serde_json::Value;

use super::{in_dir, json_store, run_in, step};
use crate::harness::{Ran, keyflow};

/// The Vault Transit example (Python, standard library only) against its own twin.
#[test]
fn the_vault_transit_example_runs_against_its_twin() {
    let ran: Ran = keyflow()
        .args([
            "run",
            "examples/plugins/vault-transit/flows/transit-roundtrip.yaml",
            "--sandbox",
            "--output",
            "json",
            "-q",
        ])
        .output()
        .expect("run")
        .into();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report: Value = serde_json::from_str(&ran.stdout).expect("report");
    assert_eq!(report["status"], "succeeded");
    let outputs = &report["outputs"];
    assert!(
        outputs["first"]
            .as_str()
            .is_some_and(|c| c.starts_with("vault:v1:"))
    );
    assert!(
        outputs["second"]
            .as_str()
            .is_some_and(|c| c.starts_with("vault:v2:"))
    );
    assert_eq!(outputs["versions"], 2);
    assert_eq!(
        step(&report, "opened")["output"]["plaintext"],
        "<redacted>",
        "a plugin's declared secret output is redacted like a built-in's"
    );
}

#[test]
fn the_committed_vault_transit_record_is_what_the_plugin_describes() {
    let checked = crate::harness::run(&[
        "plugin",
        "update",
        "vault-transit",
        "--check",
        "--project",
        "examples/plugins/vault-transit",
    ]);
    assert_eq!(
        checked.code, 0,
        "stale: run `keyflow plugin update vault-transit --project examples/plugins/vault-transit`\n{}{}",
        checked.stdout, checked.stderr
    );
}

#[test]
fn the_rust_example_plugin_runs_a_flow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plugin = json_store();
    let added = in_dir(
        dir.path(),
        &["plugin", "add", plugin.to_str().expect("utf-8")],
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
    let flow = r#"
name: note-keys
connections:
  store: { connector: json-store, path: notes.json }
steps:
  - id: put
    block: json-store.put
    with: { key: tenant-42, value: { key_arn: "arn:aws:kms:eu-west-1:111122223333:key/k" } }
  - id: get
    block: json-store.get
    with: { key: $.steps.put.output.key }
  - id: drop
    block: json-store.delete
    confirm: true
    with: { key: $.steps.get.output.key }
  - id: missing
    block: json-store.get
    after: drop
    on_error: continue
    with: { key: tenant-42 }
outputs:
  arn: $.steps.get.output.value.key_arn
"#;
    let (code, report, stderr) = run_in(dir.path(), flow, &["--allow-destructive"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        report["outputs"]["arn"],
        "arn:aws:kms:eu-west-1:111122223333:key/k"
    );
    assert_eq!(step(&report, "missing")["error"]["code"], "NotFound");
    let notes = std::fs::read_to_string(dir.path().join("notes.json")).expect("the store");
    assert_eq!(notes.trim(), "{}", "the entry was put, then deleted");
}
