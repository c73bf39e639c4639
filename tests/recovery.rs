//! Exactly-once effects: a call whose answer was lost (the sandbox's `--faults`, drops after the twin
//! applied the request included) is settled by the block's recovery, so nothing is made twice; and the
//! "already" answers the create and destructive blocks settle, against the twins and against moto.
//!
//! Fault runs go one call at a time (`--parallelism 1`) without quotas (they depend on time), so that a
//! seed gives the same faults to the same requests: the seeds below are ones whose draws hit the calls
//! the test is about (each test checks that they still do).

use std::path::Path;

use serde_json::{Value, json};

use crate::aws_kms::{flow, moto};
use crate::harness::{Ran, path_str, root, step};
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
fn saved(state: &Path) -> Value {
    let text = std::fs::read_to_string(state).expect("the state file");
    serde_json::from_str(&text).expect("a state file")
}

/// The ids of the keys the KMS twin holds in `region`.
fn keys(saved: &Value, region: &str) -> Vec<String> {
    saved["kms"]["regions"][region]["keys"]
        .as_object()
        .map(|keys| keys.keys().cloned().collect())
        .unwrap_or_default()
}

/// The number of aliases the KMS twin holds in `region`.
fn aliases(saved: &Value, region: &str) -> usize {
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

#[test]
fn a_key_whose_creation_answer_was_dropped_is_found_by_the_retry_not_made_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("once.yaml");
    std::fs::write(
        &file,
        flow(
            "steps:
  - id: key
    block: aws-kms.create-key
    retry: { attempts: 8, backoff: 10ms }
    with: { description: made once, tags: { team: data } }
",
        ),
    )
    .expect("flow");
    let state = dir.path().join("state.json");
    // Seed 4 drops the first CreateKey after the twin made the key.
    let (ran, report) = under_faults(path_str(&file), "drop=0.5", 4, &state, &[]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let key = step(&report, "key");
    assert!(
        key["attempts"].as_u64().is_some_and(|a| a >= 2),
        "the seed no longer drops the first call: {key}"
    );
    assert!(
        ran.stderr
            .contains("was created by an earlier attempt whose answer was lost"),
        "{}",
        ran.stderr
    );
    assert!(injected(&ran.stderr, "dropped after being applied") >= 1);
    let held = keys(&saved(&state), "eu-west-1");
    assert_eq!(held.len(), 1, "exactly one key: {held:?}");
    assert_eq!(key["output"]["KeyMetadata"]["KeyId"], json!(held[0]));
}

#[test]
fn the_byok_flow_completes_under_faults_and_makes_each_thing_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state.json");
    // Seed 3 gives this flow throttling, a 5xx and two answers dropped after the twins applied them.
    let (ran, report) = under_faults(
        "flows/byok-tenant-encryption.yaml",
        "throttle=0.2,error5xx=0.1,drop=0.05",
        3,
        &state,
        &[],
    );
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(injected(&ran.stderr, "dropped after being applied") >= 1);
    let saved = saved(&state);
    let primary = keys(&saved, "eu-west-1");
    assert_eq!(primary.len(), 1, "one key: {primary:?}");
    assert_eq!(keys(&saved, "eu-west-3"), primary, "one replica, of it");
    assert_eq!(aliases(&saved, "eu-west-1"), 1);
    let arn = report["outputs"]["key_arn"]
        .as_str()
        .expect("the key's ARN");
    let tenant = &saved["qlik"]["tenants"][0];
    let providers: Vec<&str> = tenant["providers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["arn"].as_str())
        .collect();
    assert_eq!(
        providers,
        ["#QLIK_MANAGED_KEY_PROVIDER#", arn],
        "one key provider besides Qlik's"
    );
    assert_eq!(tenant["migration"]["to"], arn, "{tenant}");
    assert_eq!(
        report["outputs"]["migration_id"], tenant["migration"]["id"],
        "the migration the run reports is the tenant's only one"
    );
}

#[test]
fn onboarding_several_tenants_under_faults_makes_each_thing_once_per_tenant() {
    let dir = tempfile::tempdir().expect("temp dir");
    let params = dir.path().join("tenants.json");
    let tenants: Vec<Value> = (1..=3)
        .map(|i| json!({ "context": format!("faulty{i}"), "region": "eu-west-1" }))
        .collect();
    std::fs::write(&params, json!({ "tenants": tenants }).to_string()).expect("params");
    let state = dir.path().join("state.json");
    let (ran, report) = under_faults(
        "flows/onboard-tenants.yaml",
        "throttle=0.05,error5xx=0.05,drop=0.05",
        11,
        &state,
        &["--params-file", path_str(&params)],
    );
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("sandbox: injected"), "{}", ran.stderr);
    let saved = saved(&state);
    let held = keys(&saved, "eu-west-1");
    assert_eq!(held.len(), 3, "one key per tenant: {held:?}");
    let reported: Vec<&str> = report["outputs"]["key_arns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(reported.len(), 3, "{report:#}");
    for arn in reported {
        assert!(
            held.iter().any(|id| arn.ends_with(&format!("key/{id}"))),
            "the run reports a key the twin holds: {arn} in {held:?}"
        );
    }
    assert_eq!(keys(&saved, "eu-west-3").len(), 3, "one replica per tenant");
    assert_eq!(aliases(&saved, "eu-west-1"), 3, "one alias per tenant");
    let onboarded: Vec<&Value> = saved["qlik"]["tenants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["migration"].is_object())
        .collect();
    assert_eq!(onboarded.len(), 3, "{saved:#}");
    for tenant in onboarded {
        let providers = tenant["providers"].as_array().map_or(0, Vec::len);
        assert_eq!(providers, 2, "Qlik's and one of its own: {tenant}");
        assert_eq!(
            tenant["migration"]["to"], tenant["providers"][1]["arn"],
            "{tenant}"
        );
    }
}

/// Steps that create an alias for a key twice, then once for another key.
const ALIAS_TWICE: &str = "steps:
  - id: key
    block: aws-kms.create-key
  - id: other
    block: aws-kms.create-key
  - id: first
    block: aws-kms.create-alias
    with: { alias_name: alias/recovery/once, target_key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: again
    block: aws-kms.create-alias
    after: first
    with: { alias_name: alias/recovery/once, target_key_id: $.steps.key.output.KeyMetadata.Arn }
  - id: elsewhere
    block: aws-kms.create-alias
    after: again
    with: { alias_name: alias/recovery/once, target_key_id: $.steps.other.output.KeyMetadata.KeyId }
";

fn check_alias_twice(report: &Value) {
    assert_eq!(step(report, "first")["status"], "succeeded", "{report:#}");
    assert_eq!(
        step(report, "again")["status"],
        "succeeded",
        "the same key, named by its ARN: {report:#}"
    );
    let elsewhere = step(report, "elsewhere");
    assert_eq!(elsewhere["status"], "failed", "{report:#}");
    assert_eq!(elsewhere["error"]["code"], "AlreadyExistsException");
}

/// Runs `steps` (YAML from `steps:`) in the sandbox.
fn in_sandbox(steps: &str) -> (i32, Value, String) {
    let (_dir, file) = crate::harness::flow_file(&flow(steps));
    let (ran, report) = crate::sandbox::sandboxed(path_str(&file), &["--allow-destructive"]);
    (ran.code, report, ran.stderr)
}

#[test]
fn an_alias_already_on_the_same_key_is_success_and_on_another_an_error() {
    let (code, report, stderr) = in_sandbox(ALIAS_TWICE);
    assert_eq!(code, 1, "{stderr}");
    check_alias_twice(&report);
    let Some(moto) = moto() else { return };
    let (code, report, stderr) = moto.run(&flow(ALIAS_TWICE), &[]);
    assert_eq!(code, 1, "{stderr}");
    check_alias_twice(&report);
}

/// Steps that schedule a key's deletion twice.
const DELETE_TWICE: &str = "steps:
  - id: key
    block: aws-kms.create-key
  - id: first
    block: aws-kms.schedule-key-deletion
    confirm: true
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, pending_window_in_days: 7 }
  - id: again
    block: aws-kms.schedule-key-deletion
    confirm: true
    after: first
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, pending_window_in_days: 30 }
";

fn check_delete_twice(report: &Value) {
    let (first, again) = (step(report, "first"), step(report, "again"));
    assert_eq!(again["status"], "succeeded", "{report:#}");
    assert_eq!(
        again["output"]["DeletionDate"], first["output"]["DeletionDate"],
        "the date the first call set: {report:#}"
    );
    assert_eq!(again["output"]["KeyState"], "PendingDeletion");
}

#[test]
fn a_key_already_pending_deletion_answers_its_deletion_date() {
    let (code, report, stderr) = in_sandbox(DELETE_TWICE);
    assert_eq!(code, 0, "{stderr}");
    check_delete_twice(&report);
    let Some(moto) = moto() else { return };
    // moto 5.2.5 deviates: it schedules a key already pending deletion again, with the new window, where
    // AWS refuses with KMSInvalidStateException. The second call still succeeds there.
    let (code, report, stderr) = moto.run(&flow(DELETE_TWICE), &["--allow-destructive"]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(step(&report, "again")["status"], "succeeded", "{report:#}");
}

#[test]
fn a_replica_already_made_is_answered_instead_of_refused() {
    let steps = "steps:
  - id: primary
    block: aws-kms.create-key
    with: { multi_region: true }
  - id: first
    block: aws-kms.replicate-key
    with: { key_id: $.steps.primary.output.KeyMetadata.KeyId, replica_region: eu-central-1, tags: { site: dr } }
  - id: again
    block: aws-kms.replicate-key
    after: first
    with: { key_id: $.steps.primary.output.KeyMetadata.Arn, replica_region: eu-central-1 }
";
    let (code, report, stderr) = in_sandbox(steps);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let (first, again) = (step(&report, "first"), step(&report, "again"));
    assert_eq!(
        again["output"]["ReplicaKeyMetadata"]["Arn"],
        first["output"]["ReplicaKeyMetadata"]["Arn"]
    );
    assert_eq!(
        again["output"]["ReplicaTags"], first["output"]["ReplicaTags"],
        "{report:#}"
    );
    assert!(again["output"]["ReplicaPolicy"].is_string(), "{report:#}");
}

#[test]
fn a_key_provider_and_a_migration_already_made_are_answered() {
    // The BYOK flow's steps up to the migration, then the provider and the migration asked for again.
    let byok = std::fs::read_to_string(root().join("flows/byok-tenant-encryption.yaml"))
        .expect("the BYOK flow");
    let (head, _) = byok
        .split_once("  - id: wait_for_migration")
        .expect("the wait step");
    let yaml = format!(
        "{head}  - id: provider_again
    block: qlik-cloud.create-key-provider
    after: migrate
    with:
      arn: $.steps.create_key.output.KeyMetadata.Arn
      name: again
  - id: migrate_again
    block: qlik-cloud.trigger-migration
    after: provider_again
    with: {{ fingerprint: $.steps.create_key_provider.output.arnFingerPrint }}
"
    );
    // `core.render` reads the policy only inside the flow's folder: the policies go beside it.
    let (dir, file) = crate::harness::flow_file(&yaml);
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).expect("policies folder");
    for name in ["qlik-aws.json", "qlik-aws-us-gov.json"] {
        std::fs::copy(
            root().join("flows/policies").join(name),
            policies.join(name),
        )
        .expect("copy a policy");
    }
    // A migration that takes ten minutes is still under way when it is asked for again.
    let ran: Ran = bare()
        .args(["run", path_str(&file), "--sandbox", "--output", "json"])
        .args(["--migration-seconds", "600"])
        .output()
        .expect("run keyflow")
        .into();
    let report: Value = serde_json::from_str(&ran.stdout).unwrap_or(Value::Null);
    assert_eq!(ran.code, 0, "{report:#}\n{}", ran.stderr);
    assert_eq!(
        step(&report, "provider_again")["output"]["arnFingerPrint"],
        step(&report, "create_key_provider")["output"]["arnFingerPrint"]
    );
    assert_eq!(
        step(&report, "migrate_again")["output"]["id"],
        step(&report, "migrate")["output"]["id"],
        "the migration under way, not a second one"
    );
}
