//! The shipped BYOK and onboarding flows under faults: they complete, and the twins then hold one of each
//! thing per tenant.

use serde_json::{Value, json};

use super::{aliases, injected, keys, saved, under_faults};
use crate::harness::path_str;

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
