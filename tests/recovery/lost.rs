//! Calls whose answer the twins dropped after applying them: the step's `retry:` settles each one (finds
//! what was made, or sees that what was destroyed is gone) instead of making it twice or failing; and the
//! faults that are refusals (throttling, 5xx) change nothing.

use std::path::Path;

use serde_json::{Value, json};

use super::{aliases, beside_policies, injected, keys, saved, under_faults};
use crate::aws_kms::flow;
use crate::harness::{path_str, step};

/// The steps among `ids` that succeeded at their first attempt (whose first answer was not lost).
fn not_retried<'a>(report: &Value, ids: &[&'a str]) -> Vec<&'a str> {
    ids.iter()
        .copied()
        .filter(|id| step(report, id)["attempts"].as_u64().unwrap_or_default() < 2)
        .collect()
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
    let tags = &saved(&state)["kms"]["regions"]["eu-west-1"]["keys"][&held[0]]["tags"];
    assert_eq!(tags["team"], "data", "{tags}");
    let run_id = report["run_id"].as_str().expect("the run id");
    assert_eq!(
        tags["keyflow:idempotency-key"],
        format!("{run_id}/key"),
        "the run and step: {tags}"
    );
}

/// A key made, aliased, tagged, then everything undone, each step in turn with a `retry:`.
const MADE_AND_UNDONE: &str = "steps:
  - id: key
    block: aws-kms.create-key
    retry: { attempts: 10, backoff: 10ms }
  - id: alias
    block: aws-kms.create-alias
    retry: { attempts: 10, backoff: 10ms }
    with: { alias_name: alias/recovery/gone, target_key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: tag
    block: aws-kms.add-tag
    after: alias
    retry: { attempts: 10, backoff: 10ms }
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, tags: { team: data } }
  - id: untag
    block: aws-kms.delete-tag
    confirm: true
    after: tag
    retry: { attempts: 10, backoff: 10ms }
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, tag_keys: [team] }
  - id: unalias
    block: aws-kms.delete-alias
    confirm: true
    after: untag
    retry: { attempts: 10, backoff: 10ms }
    with: { alias_name: alias/recovery/gone }
  - id: disable
    block: aws-kms.disable-key
    confirm: true
    after: unalias
    retry: { attempts: 10, backoff: 10ms }
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: delete
    block: aws-kms.schedule-key-deletion
    confirm: true
    after: disable
    retry: { attempts: 10, backoff: 10ms }
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, pending_window_in_days: 7 }
";

#[test]
fn kms_calls_whose_answers_were_dropped_are_settled_by_their_retries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("undone.yaml");
    std::fs::write(&file, flow(MADE_AND_UNDONE)).expect("flow");
    let state = dir.path().join("state.json");
    // Seed 5 drops the first answer of CreateKey, CreateAlias, DeleteAlias and ScheduleKeyDeletion.
    let (ran, report) = under_faults(
        path_str(&file),
        "drop=0.4",
        5,
        &state,
        &["--allow-destructive"],
    );
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let settled = ["key", "alias", "unalias", "delete"];
    assert_eq!(
        not_retried(&report, &settled),
        Vec::<&str>::new(),
        "the seed no longer drops these steps' first answers"
    );
    for said in [
        "was created by an earlier attempt whose answer was lost",
        "alias/recovery/gone already points at the key",
        "alias/recovery/gone is gone: an earlier attempt whose answer was lost deleted it",
        "is already pending deletion",
    ] {
        assert!(ran.stderr.contains(said), "`{said}` in:\n{}", ran.stderr);
    }
    let saved = saved(&state);
    let held = keys(&saved, "eu-west-1");
    assert_eq!(held.len(), 1, "exactly one key: {held:?}");
    assert_eq!(aliases(&saved, "eu-west-1"), 0, "the alias is gone");
    let key = &saved["kms"]["regions"]["eu-west-1"]["keys"][&held[0]];
    assert_eq!(key["key_state"], "PendingDeletion", "{key}");
    assert!(key["tags"].get("team").is_none(), "the tag is gone: {key}");
    assert!(
        step(&report, "delete")["output"]["DeletionDate"].is_string(),
        "the date the lost call set: {report:#}"
    );
}

/// A tenant moved to a key of its own and back, its key provider then deleted, each step in turn with a
/// `retry:`.
const THERE_AND_BACK: &str = "name: there-and-back
connections:
  aws: { connector: aws-kms, region: eu-west-1 }
  qlik: { connector: qlik-cloud, tenant_url: { env: QLIK_TENANT_URL }, api_key: { env: QLIK_API_KEY } }
steps:
  - id: tenant
    block: qlik-cloud.get-tenant-info
    retry: { attempts: 10, backoff: 10ms }
  - id: key
    block: aws-kms.create-key
    after: tenant
    retry: { attempts: 10, backoff: 10ms }
  - id: policy
    block: core.render
    with:
      file: policies/qlik-aws.json
      data:
        account_id: $.steps.key.output.KeyMetadata.AWSAccountId
        tenant_id: $.steps.tenant.output.id
  - id: put_policy
    block: aws-kms.put-key-policy
    retry: { attempts: 10, backoff: 10ms }
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, policy: $.steps.policy.output }
  - id: provider
    block: qlik-cloud.create-key-provider
    after: put_policy
    retry: { attempts: 10, backoff: 10ms }
    with: { arn: $.steps.key.output.KeyMetadata.Arn, name: CMK }
  - id: migrate
    block: qlik-cloud.trigger-migration
    retry: { attempts: 10, backoff: 10ms }
    with: { fingerprint: $.steps.provider.output.arnFingerPrint }
  - id: migrated
    block: qlik-cloud.get-migration-details
    after: migrate
    retry: { attempts: 10, backoff: 10ms }
    until: { condition: { path: $.output.state, equals: Completed }, every: 10ms, timeout: 20s }
  - id: reset
    block: qlik-cloud.reset-to-qlik-provider
    after: migrated
    confirm: true
    retry: { attempts: 10, backoff: 10ms }
  - id: back
    block: qlik-cloud.get-migration-details
    after: reset
    retry: { attempts: 10, backoff: 10ms }
    until: { condition: { path: $.output.state, equals: Completed }, every: 10ms, timeout: 20s }
  - id: delete
    block: qlik-cloud.delete-key-provider
    after: back
    confirm: true
    retry: { attempts: 10, backoff: 10ms }
    with: { fingerprint: $.steps.provider.output.arnFingerPrint }
";

#[test]
fn qlik_calls_whose_answers_were_dropped_are_settled_by_their_retries() {
    let (dir, file) = beside_policies(THERE_AND_BACK);
    let state = dir.path().join("state.json");
    // Seed 15 drops the first answer of the provider's creation, the migration, the reset and the
    // provider's deletion.
    let (ran, report) = under_faults(
        path_str(&file),
        "drop=0.4",
        15,
        &state,
        &["--allow-destructive"],
    );
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let settled = ["provider", "migrate", "reset", "delete"];
    assert_eq!(
        not_retried(&report, &settled),
        Vec::<&str>::new(),
        "the seed no longer drops these steps' first answers"
    );
    let fingerprint = step(&report, "provider")["output"]["arnFingerPrint"]
        .as_str()
        .expect("the provider's fingerprint");
    for said in [
        format!("is already registered as key provider {fingerprint}: using it"),
        format!("to {fingerprint} is already Completed: using it"),
        format!(
            "key provider {fingerprint} is gone: an earlier attempt whose answer was lost deleted it"
        ),
    ] {
        assert!(ran.stderr.contains(&said), "`{said}` in:\n{}", ran.stderr);
    }
    assert_eq!(
        step(&report, "migrate")["output"]["migratingToFingerprint"],
        fingerprint,
        "{report:#}"
    );
    let saved = saved(&state);
    assert_eq!(keys(&saved, "eu-west-1").len(), 1, "one key");
    let tenant = &saved["qlik"]["tenants"][0];
    let providers: Vec<&str> = tenant["providers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["arn"].as_str())
        .collect();
    assert_eq!(providers, ["#QLIK_MANAGED_KEY_PROVIDER#"], "{tenant}");
    assert_eq!(
        tenant["migration"]["to"], "#QLIK_MANAGED_KEY_PROVIDER#",
        "the tenant's last migration is the one back: {tenant}"
    );
}

/// A key and a read of the tenant, each tried twice; a failure does not stop the run.
const TRIED_TWICE: &str = "name: tried-twice
connections:
  aws: { connector: aws-kms, region: eu-west-1 }
  qlik: { connector: qlik-cloud, tenant_url: { env: QLIK_TENANT_URL }, api_key: { env: QLIK_API_KEY } }
steps:
  - id: key
    block: aws-kms.create-key
    retry: { attempts: 2, backoff: 10ms }
    on_error: continue
  - id: tenant
    block: qlik-cloud.get-tenant-info
    after: key
    retry: { attempts: 2, backoff: 10ms }
    on_error: continue
";

/// Runs [`TRIED_TWICE`] under `faults` and gives stderr and the two steps' error codes.
fn tried_twice(faults: &str, dir: &Path) -> (String, Value, Value) {
    let file = dir.join(format!("{faults}.yaml"));
    std::fs::write(&file, TRIED_TWICE).expect("flow");
    let state = dir.join(format!("{faults}.json"));
    let (ran, report) = under_faults(path_str(&file), faults, 1, &state, &[]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    for id in ["key", "tenant"] {
        let ran = step(&report, id);
        assert_eq!(ran["status"], "failed", "{ran}");
        assert_eq!(ran["attempts"], 2, "{ran}");
        assert_eq!(ran["error"]["retryable"], true, "{ran}");
    }
    assert_eq!(
        keys(&saved(&state), "eu-west-1"),
        Vec::<String>::new(),
        "a refusal makes nothing"
    );
    let code = |id: &str| step(&report, id)["error"]["code"].clone();
    (ran.stderr, code("key"), code("tenant"))
}

#[test]
fn throttling_and_5xx_faults_refuse_the_request_in_each_service_s_own_way() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (stderr, key, tenant) = tried_twice("throttle=1", dir.path());
    assert_eq!(
        (key, tenant),
        (json!("ThrottlingException"), json!("HTTP-429"))
    );
    assert_eq!(injected(&stderr, "throttled"), 4, "{stderr}");
    // The 429's `Retry-After: 1` is waited for, not the step's 10ms backoff.
    assert!(stderr.contains("tenant: attempt 1 failed"), "{stderr}");
    assert!(stderr.contains("retrying in 1.0s"), "{stderr}");

    let (stderr, key, tenant) = tried_twice("error5xx=1", dir.path());
    assert_eq!(
        (key, tenant),
        (json!("KMSInternalException"), json!("HTTP-503"))
    );
    assert_eq!(injected(&stderr, "answered 5xx"), 4, "{stderr}");
}

#[test]
fn a_fault_list_that_is_not_one_is_refused_with_the_form_to_write() {
    for (given, says) in [
        ("drop=2", "`2` is not a probability from 0 to 1"),
        (
            "timeout=0.1",
            "`timeout` is not a fault (throttle, error5xx, drop)",
        ),
        (
            "throttle=0.6,drop=0.6",
            "the probabilities add up to more than 1",
        ),
    ] {
        let ran: crate::harness::Ran = crate::sandbox::bare()
            .args(["run", "flows/hello.yaml", "--sandbox", "--faults", given])
            .output()
            .expect("run keyflow")
            .into();
        assert_eq!(ran.code, 2, "{given}: {}", ran.stderr);
        assert!(ran.stderr.contains(says), "{given}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("throttle=0.2,error5xx=0.1,drop=0.05"),
            "{given}: {}",
            ran.stderr
        );
    }
}
