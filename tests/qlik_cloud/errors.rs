//! The twin's refusals as a flow sees them: Qlik's code and title kept, retryable only when a retry can
//! help, the credentials never echoed.

use super::{API_KEY, TENANT, config, flow, twin};
use crate::harness::{flow_file, path_str, step};

const ARN: &str = "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-1111-2222-3333-444455556666";

fn error(report: &serde_json::Value, id: &str) -> serde_json::Value {
    let step = step(report, id);
    assert_eq!(step["status"], "failed", "{id}: {step}");
    step["error"].clone()
}

#[test]
fn refusals_keep_qliks_status_and_are_not_retried() {
    let twin = twin(config());
    let (code, report, _) = twin.run(
        &flow(&format!(
            r#"steps:
  - id: unknown
    block: qlik-cloud.get-key-provider
    on_error: continue
    retry: {{ attempts: 3, backoff: 10ms }}
    with: {{ fingerprint: 0123456789abcdef0123456789abcdef }}
  - id: create
    block: qlik-cloud.create-key-provider
    with: {{ arn: "{ARN}", name: first }}
  - id: duplicate
    block: qlik-cloud.create-key-provider
    after: create
    on_error: continue
    with: {{ arn: "{ARN}", name: again }}
  - id: delete_default
    block: qlik-cloud.delete-key-provider
    confirm: true
    on_error: continue
    with: {{ fingerprint: "{TENANT}" }}
  - id: migrate
    block: qlik-cloud.trigger-migration
    after: duplicate
    with: {{ fingerprint: $.steps.create.output.arnFingerPrint }}
  - id: migrate_again
    block: qlik-cloud.trigger-migration
    after: migrate
    on_error: continue
    with: {{ fingerprint: $.steps.create.output.arnFingerPrint }}
  - id: reset_while_migrating
    block: qlik-cloud.reset-to-qlik-provider
    after: migrate_again
    confirm: true
    on_error: continue
  - id: no_change
    block: qlik-cloud.update-key-provider
    on_error: continue
    with: {{ fingerprint: $.steps.create.output.arnFingerPrint }}
"#
        )),
        &["--allow-destructive"],
        &[],
    );
    assert_eq!(code, 0, "{report:#}");
    let unknown = error(&report, "unknown");
    assert!(
        unknown["message"]
            .as_str()
            .is_some_and(|m| m.contains("HTTP 404")),
        "{unknown}"
    );
    assert_eq!(unknown["retryable"], false);
    assert_eq!(step(&report, "unknown")["attempts"], 1);
    // Qlik's 409 "already registered" and 428 "a migration is under way" for the same key and the same
    // migration are settled by the blocks (a repeat of a call that took effect): they answer what is there.
    let fingerprint = |id: &str| step(&report, id)["output"]["arnFingerPrint"].clone();
    assert_eq!(
        fingerprint("duplicate"),
        fingerprint("create"),
        "{report:#}"
    );
    assert!(
        error(&report, "delete_default")["message"]
            .as_str()
            .is_some_and(|m| m.contains("HTTP 424"))
    );
    assert_eq!(
        step(&report, "migrate_again")["output"]["id"],
        step(&report, "migrate")["output"]["id"],
        "{report:#}"
    );
    assert!(
        error(&report, "reset_while_migrating")["message"]
            .as_str()
            .is_some_and(|m| m.contains("HTTP 406"))
    );
    assert_eq!(error(&report, "no_change")["code"], "InvalidInput");
}

#[test]
fn malformed_arns_and_fingerprints_are_caught_when_the_flow_is_checked() {
    let twin = twin(config());
    let yaml = flow(&format!(
        r#"steps:
  - id: create
    block: qlik-cloud.create-key-provider
    with: {{ arn: "arn:aws:kms:eu-west-1:1111:key/x", name: bad }}
  - id: get
    block: qlik-cloud.get-key-provider
    with: {{ fingerprint: "{}" }}
"#,
        "f".repeat(65)
    ));
    let (_dir, path) = flow_file(&yaml);
    let ran = twin.keyflow(&["validate", path_str(&path)], &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("input `arn` expects a string matching"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("input `fingerprint` expects"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_wrong_api_key_says_so_without_printing_it() {
    let twin = twin(config());
    let wrong = "eyJ-wrong-key-must-not-be-printed";
    let (code, report, ran) = twin.run(
        &flow("steps:\n  - id: tenant\n    block: qlik-cloud.get-tenant-info\n"),
        &[],
        &[("QLIK_API_KEY", wrong)],
    );
    assert_eq!(code, 1);
    let error = error(&report, "tenant");
    assert_eq!(error["retryable"], false);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("HTTP 401") && m.contains("API key")),
        "{error}"
    );
    for text in [&ran.stdout, &ran.stderr] {
        assert!(
            !text.contains(wrong) && !text.contains(API_KEY),
            "a key was printed: {text}"
        );
    }
}

#[test]
fn the_twins_rate_tier_answers_429_and_the_error_is_retryable() {
    let mut config = config();
    config.rates.reads_per_minute = 2;
    let twin = twin(config);
    // The connection's own pacing lifted, so the twin's tier is what answers.
    let (code, report, _) = twin.run(
        "name: tiers\nconnections:\n  qlik: { connector: qlik-cloud, tenant_url: { env: QLIK_TENANT_URL }, api_key: { env: QLIK_API_KEY }, rate_limits: { reads_per_minute: 0 } }\nsteps:\n  - id: read\n    block: qlik-cloud.list-key-providers\n    for_each: [1, 2, 3]\n    concurrency: 1\n",
        &[],
        &[],
    );
    assert_eq!(code, 1, "{report:#}");
    let error = &step(&report, "read")["error"];
    assert_eq!(error["code"], "HTTP-429", "{error}");
    assert_eq!(error["retryable"], true);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("rate limit")),
        "{error}"
    );
}
