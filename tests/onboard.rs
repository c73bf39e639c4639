//! `onboard-tenants.yaml` and `rotate-tenants.yaml`: the BYOK and rotation flows as templates, once per
//! tenant, each tenant with its own Qlik Cloud connection, and so its own tenant in the sandbox.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::harness::path_str;
use crate::sandbox::sandboxed;

/// Runs the onboarding flow in the sandbox over `tenants`.
fn onboard(tenants: Value, extra: &[&str]) -> (crate::harness::Ran, Value) {
    over_tenants("flows/onboard-tenants.yaml", tenants, extra)
}

/// Runs `flow` in the sandbox over `tenants`.
fn over_tenants(flow: &str, tenants: Value, extra: &[&str]) -> (crate::harness::Ran, Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let params = dir.path().join("tenants.json");
    std::fs::write(&params, json!({ "tenants": tenants }).to_string()).expect("params");
    let mut args = vec!["--params-file", path_str(&params)];
    args.extend_from_slice(extra);
    sandboxed(flow, &args)
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_tenant_gets_its_own_key_provider_and_migration() {
    let tenants: Vec<Value> = (1..=6)
        .map(|i| json!({ "context": format!("tenant{i}"), "region": "eu-west-1" }))
        .collect();
    let (ran, report) = onboard(Value::Array(tenants), &[]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let outputs = &report["outputs"];
    let keys = strings(&outputs["key_arns"]);
    assert_eq!(keys.len(), 6, "{outputs}");
    assert_eq!(
        keys.iter().collect::<HashSet<_>>().len(),
        6,
        "one key per tenant: {keys:?}"
    );
    assert!(
        keys.iter()
            .all(|k| k.starts_with("arn:aws:kms:eu-west-1:111122223333:key/mrk-"))
    );
    let fingerprints = strings(&outputs["fingerprints"]);
    assert_eq!(
        fingerprints.iter().collect::<HashSet<_>>().len(),
        6,
        "{fingerprints:?}"
    );
    assert_eq!(strings(&outputs["migrations"]), vec!["Completed"; 6]);
    let runs = report["steps"][0]["runs"]
        .as_array()
        .expect("each tenant's run");
    assert_eq!(runs.len(), 6);
    let tenant_ids: HashSet<&str> = runs
        .iter()
        .map(|run| {
            assert_eq!(run["status"], "succeeded", "{run}");
            let tenant = run["steps"]
                .as_array()
                .and_then(|steps| steps.iter().find(|s| s["id"] == "tenant"))
                .expect("the tenant step");
            tenant["output"]["id"].as_str().expect("tenant id")
        })
        .collect();
    assert_eq!(
        tenant_ids.len(),
        6,
        "each tenant is a tenant of its own: {tenant_ids:?}"
    );
}

#[test]
fn a_tenant_that_fails_fails_alone_and_its_run_says_how_far_it_got() {
    // A qlik-cli context names a tenant in the sandbox's region (eu-west-1): the second tenant is said
    // to be elsewhere, so its run stops at the region check, before creating anything.
    let tenants = json!([
        { "context": "good", "region": "eu-west-1" },
        { "context": "misplaced", "region": "us-east-1" },
        { "context": "also-good", "region": "eu-west-1" }
    ]);
    let (ran, report) = onboard(tenants, &[]);
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    let step = &report["steps"][0];
    assert_eq!(step["status"], "failed");
    let message = step["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("item 1: ")
            && message.contains("step `right_region`")
            && message.contains("the tenant runs in another region"),
        "{message}"
    );
    // The run fails at the end, saying which tenant did not make it.
    let verdict = crate::harness::step(&report, "fail_if_a_tenant_failed");
    assert_eq!(verdict["status"], "failed");
    assert_eq!(verdict["error"]["code"], "TenantsNotOnboarded");
    assert!(
        verdict["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("not every tenant was onboarded")),
        "{verdict}"
    );
    // The other tenants went on, and their keys are in the outputs.
    let runs = step["runs"].as_array().expect("runs");
    let statuses: Vec<&Value> = runs.iter().map(|run| &run["status"]).collect();
    assert_eq!(
        statuses,
        [&json!("succeeded"), &json!("failed"), &json!("succeeded")]
    );
    assert_eq!(step["output"][1], Value::Null, "{}", step["output"]);
    assert_eq!(
        strings(&report["outputs"]["key_arns"]).len(),
        2,
        "{}",
        report["outputs"]
    );
    let create_key = runs[1]["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == "create_key"))
        .expect("create_key");
    assert_ne!(
        create_key["status"], "succeeded",
        "nothing was created for it: {create_key}"
    );
}

#[test]
fn the_plan_shows_the_steps_each_tenant_runs_with_the_first_tenants_params() {
    let dir = tempfile::tempdir().expect("temp dir");
    let params = dir.path().join("tenants.json");
    let tenants =
        json!({ "tenants": [{ "context": "north", "region": "eu-north-1" }], "partition": "aws" });
    std::fs::write(&params, tenants.to_string()).expect("params");
    let file = crate::harness::root().join("flows/onboard-tenants.yaml");
    let args = ["plan", path_str(&file), "--params-file", path_str(&params)];
    let ran = crate::harness::run(&args);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout
            .contains("runs the 14 steps of platform:templates/byok-tenant@^1.0 per item"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("· create_key  aws-kms.create-key"),
        "{}",
        ran.stdout
    );

    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let ran = crate::harness::run(&json_args);
    let plan: Value = serde_json::from_str(&ran.stdout).expect("json plan");
    let inner = plan["steps"][0]["steps"]
        .as_array()
        .expect("the template's steps");
    let find = |id: &str| {
        inner
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no step {id}"))
    };
    // The tenant's params reach the template: its region, and so no disaster-recovery region.
    assert_eq!(find("right_region")["input"]["equals"], "eu-north-1");
    assert_eq!(find("dr")["input"]["region"], "");
    assert_eq!(find("create_key")["effect"], "create");
    assert!(plan["steps"][1].get("steps").is_none());
}

#[test]
fn tenants_onboarded_in_one_run_are_rotated_in_another() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state.json");
    let state = path_str(&state);
    let tenants: Vec<Value> = ["north", "south", "east"]
        .iter()
        .map(|name| json!({ "context": name, "region": "eu-west-1" }))
        .collect();
    let tenants = Value::Array(tenants);
    let (ran, onboarded) = onboard(tenants.clone(), &["--state", state]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let first_keys: HashSet<String> = strings(&onboarded["outputs"]["key_arns"])
        .into_iter()
        .collect();
    assert_eq!(first_keys.len(), 3);

    // Disabling the old keys is destructive: refused before any tenant is touched.
    let (ran, refused) = over_tenants(
        "flows/rotate-tenants.yaml",
        tenants.clone(),
        &["--state", state],
    );
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(
        refused["steps"][0]["error"]["code"],
        "DestructiveNotAllowed"
    );

    let (ran, rotated) = over_tenants(
        "flows/rotate-tenants.yaml",
        tenants,
        &["--state", state, "--allow-destructive"],
    );
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let outputs = &rotated["outputs"];
    let old: HashSet<String> = strings(&outputs["old_key_arns"]).into_iter().collect();
    assert_eq!(
        old, first_keys,
        "each tenant's old key is the one onboarding made"
    );
    let new: HashSet<String> = strings(&outputs["new_key_arns"]).into_iter().collect();
    assert_eq!(new.len(), 3, "{outputs}");
    assert!(new.is_disjoint(&first_keys), "{outputs}");
    assert_eq!(strings(&outputs["migrations"]), vec!["Completed"; 3]);
    assert_eq!(
        crate::harness::step(&rotated, "fail_if_a_tenant_failed")["status"],
        "skipped"
    );
    // The old keys were disabled, as the sandbox's summary says.
    for key in &first_keys {
        assert!(
            ran.stderr
                .contains(&format!("changed key {key}: Enabled → Disabled")),
            "{key}:\n{}",
            ran.stderr
        );
    }
}
