//! The `aws-kms` connection: settings, the AWS chain, errors that say what to do.

use super::{KMS, moto};
use crate::harness::step;

#[test]
fn create_describe_and_list_through_the_standard_chain() {
    let Some(moto) = moto() else { return };
    let report = moto.succeed(&format!(
        "name: smoke\n{KMS}steps:\n  - id: create_key\n    block: aws-kms.create-key\n    with: {{ description: smoke, tags: {{ team: data }} }}\n  - id: describe\n    block: aws-kms.describe-key\n    with: {{ key_id: $.steps.create_key.output.KeyMetadata.Arn }}\n  - id: aliases\n    block: aws-kms.list-aliases\n    with: {{ key_id: $.steps.create_key.output.KeyMetadata.KeyId }}\noutputs:\n  arn: $.steps.describe.output.KeyMetadata.Arn\n"
    ));
    let created = &step(&report, "create_key")["output"]["KeyMetadata"];
    assert_eq!(created["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(created["KeyUsage"], "ENCRYPT_DECRYPT");
    assert_eq!(created["Description"], "smoke");
    assert_eq!(created["Enabled"], true);
    assert!(
        created["Arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:kms:eu-west-1:")),
        "{created}"
    );
    assert!(
        created["CreationDate"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z') && d.contains('T')),
        "RFC 3339: {created}"
    );
    assert_eq!(report["outputs"]["arn"], created["Arn"]);
    assert_eq!(
        step(&report, "describe")["output"]["KeyMetadata"]["KeyState"],
        "Enabled"
    );
    assert_eq!(
        step(&report, "aliases")["output"]["Aliases"],
        serde_json::json!([])
    );
}

#[test]
fn an_explicit_endpoint_in_the_flow_wins() {
    let Some(moto) = moto() else { return };
    let yaml = format!(
        "name: endpoint\nconnections:\n  aws: {{ connector: aws-kms, region: eu-west-3, endpoint_url: \"{}\" }}\nsteps:\n  - id: create_key\n    block: aws-kms.create-key\n",
        moto.url
    );
    let report = moto.succeed(&yaml);
    let arn = step(&report, "create_key")["output"]["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(arn.starts_with("arn:aws:kms:eu-west-3:"), "{arn}");
}

#[test]
fn an_unknown_key_fails_with_the_kms_code_and_is_not_retried() {
    let Some(moto) = moto() else { return };
    let (code, report, _) = moto.run(
        &format!(
            "name: missing\n{KMS}steps:\n  - id: describe\n    block: aws-kms.describe-key\n    retry: {{ attempts: 3, backoff: 10ms }}\n    with: {{ key_id: 11111111-2222-3333-4444-555555555555 }}\n"
        ),
        &[],
    );
    assert_eq!(code, 1);
    let failed = step(&report, "describe");
    assert_eq!(failed["error"]["code"], "NotFoundException");
    assert_eq!(failed["error"]["retryable"], false);
    assert_eq!(failed["attempts"], 1);
    assert!(
        failed["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("DescribeKey: ")),
        "{failed}"
    );
}

#[test]
fn unreachable_endpoints_are_retryable_dispatch_failures() {
    let Some(moto) = moto() else { return };
    let (code, report, _) = moto.run(
        "name: unreachable\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1, endpoint_url: \"http://127.0.0.1:9\" }\nsteps:\n  - id: describe\n    block: aws-kms.describe-key\n    with: { key_id: alias/x }\n",
        &[],
    );
    assert_eq!(code, 1);
    let error = &step(&report, "describe")["error"];
    assert_eq!(error["retryable"], true, "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot reach AWS KMS")),
        "{error}"
    );
}

#[test]
fn a_role_is_assumed_through_sts_before_kms_is_called() {
    let Some(moto) = moto() else { return };
    // moto serves STS too: the connection's endpoint applies to both.
    let yaml = format!(
        "name: role\nconnections:\n  aws: {{ connector: aws-kms, region: eu-west-1, endpoint_url: \"{}\", role_arn: \"arn:aws:iam::123456789012:role/keyflow\", external_id: ext-1, session_name: rotation }}\nsteps:\n  - id: create_key\n    block: aws-kms.create-key\n",
        moto.url
    );
    let report = moto.succeed(&yaml);
    assert_eq!(step(&report, "create_key")["status"], "succeeded");
    let assumed = &moto.state()["sts"]["AssumedRole"];
    let roles = assumed.to_string();
    assert!(
        roles.contains("arn:aws:iam::123456789012:role/keyflow") && roles.contains("rotation"),
        "moto's STS: {assumed}"
    );
}

#[test]
fn missing_credentials_fail_with_what_to_set() {
    let Some(moto) = moto() else { return };
    let yaml = format!(
        "name: creds\nconnections:\n  aws: {{ connector: aws-kms, region: eu-west-1, endpoint_url: \"{}\" }}\nsteps:\n  - id: create_key\n    block: aws-kms.create-key\n",
        moto.url
    );
    // moto's environment, then every credential of the AWS chain taken away.
    let mut command = moto.command();
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        command.env_remove(name);
    }
    let (code, report, ran) = crate::harness::run_flow(command, &yaml, &[]);
    // Missing credentials are the environment's failure (exit 74), not the flow's (issue 16 item 6).
    assert_eq!(code, 74, "{}", ran.stderr);
    let error = &step(&report, "create_key")["error"];
    assert_eq!(error["code"], "NoCredentials", "{error}");
    assert_eq!(error["retryable"], false);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("AWS_PROFILE") && m.contains("aws sso login")),
        "{error}"
    );
}

#[test]
fn connection_quotas_pace_the_calls() {
    let Some(moto) = moto() else { return };
    // 3 CreateKey per second with a burst of 3: the last 3 of 6 keys wait a second (at the published 5/s
    // only the sixth would wait, 0.2 s). A lower bound only: a slow machine cannot make it fail.
    let started = std::time::Instant::now();
    let report = moto.succeed(
        "name: paced\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1, quotas: { CreateKey: 3 } }\nsteps:\n  - id: create_key\n    block: aws-kms.create-key\n    for_each: [1, 2, 3, 4, 5, 6]\n    concurrency: 6\n",
    );
    let elapsed = started.elapsed();
    assert_eq!(
        step(&report, "create_key")["output"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    assert!(
        elapsed >= std::time::Duration::from_millis(900),
        "6 keys at 3/s took only {elapsed:?}"
    );
}
