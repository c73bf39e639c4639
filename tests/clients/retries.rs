//! A step's `retry:` is the only retry layer: no client retries underneath it, throttling included, so the
//! report's `attempts` is the number of requests the service answered.

use super::server::{Reply, Server};
use super::{printed, run_qlik};
use crate::harness::{Ran, flow_file, path_str, step};
use crate::sandbox::bare;

/// `(requests, throttled)` of the sandbox's closing line: "the AWS KMS twin answered N requests,
/// throttled M".
fn kms_traffic(ran: &Ran) -> (u64, u64) {
    let line = ran
        .stderr
        .lines()
        .find_map(|l| {
            l.split_once("the AWS KMS twin answered ")
                .map(|(_, rest)| rest)
        })
        .unwrap_or_else(|| panic!("no traffic line in: {}", ran.stderr));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn kms_attempts_are_the_requests_the_twin_answered_under_a_quota() {
    // The issue's case: six keys at once against a twin allowing one CreateKey a second. The SDK's own
    // retries used to send 16 requests (13 throttled) for 6 reported attempts.
    let (_dir, path) = flow_file(
        "name: fan-out\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n  - id: keys\n    block: aws-kms.create-key\n    for_each: [1, 2, 3, 4, 5, 6]\n    concurrency: 6\n    retry: { attempts: 40, backoff: 100ms, max_delay: 500ms }\n    with: { description: \"key {{item}}\" }\n",
    );
    let ran: Ran = bare()
        .args([
            "run",
            path_str(&path),
            "--sandbox",
            "--quota",
            "CreateKey=1",
        ])
        .args(["--output", "json", "-q"])
        .output()
        .expect("run keyflow")
        .into();
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("a report");
    assert_eq!(ran.code, 0, "{report:#}\n{}", ran.stderr);
    let (requests, throttled) = kms_traffic(&ran);
    assert!(throttled > 0, "the quota was never reached: {}", ran.stderr);
    assert_eq!(
        step(&report, "keys")["attempts"],
        requests,
        "attempts against the twin's count: {}",
        ran.stderr
    );
}

#[test]
fn kms_throttling_without_retry_fails_the_step_at_the_first_refusal() {
    // No `retry:` means one attempt per item: a throttled item fails, and nothing underneath tried again.
    let (_dir, path) = flow_file(
        "name: no-retry\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n  - id: keys\n    block: aws-kms.create-key\n    for_each: [1, 2, 3, 4]\n    concurrency: 4\n    on_error: continue\n    with: { description: \"key {{item}}\" }\n",
    );
    let ran: Ran = bare()
        .args([
            "run",
            path_str(&path),
            "--sandbox",
            "--quota",
            "CreateKey=1",
        ])
        .args(["--output", "json", "-q"])
        .output()
        .expect("run keyflow")
        .into();
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("a report");
    let (requests, throttled) = kms_traffic(&ran);
    let keys = step(&report, "keys");
    assert_eq!(keys["attempts"], 4, "{keys:#}");
    assert_eq!(requests, 4, "{}", ran.stderr);
    assert!(throttled > 0, "{}", ran.stderr);
    assert_eq!(keys["error"]["code"], "ThrottlingException", "{keys:#}");
    assert_eq!(keys["error"]["retryable"], true, "{keys:#}");
}

const TENANT: &str = r#"{"id":"T1","name":"acme","hostnames":["acme.eu.qlikcloud.com"]}"#;
const THROTTLED: &str = r#"{"errors":[{"code":"HTTP-429","title":"API rate limit reached."}]}"#;

fn tenant_flow(url: &str, retry: &str) -> String {
    format!(
        "name: tenant\nconnections:\n  qlik: {{ connector: qlik-cloud, tenant_url: \"{url}\", api_key: {{ env: QLIK_API_KEY }} }}\nsteps:\n  - id: tenant\n    block: qlik-cloud.get-tenant-info\n    retry: {retry}\n"
    )
}

#[test]
fn qlik_attempts_are_the_requests_the_tenant_answered() {
    // Two 429s (Retry-After in both of its forms), a 503, then the answer: four requests, four attempts.
    let server = Server::start(|_, n| match n {
        0 => Reply::json(429, THROTTLED).header("retry-after", "0"),
        1 => Reply::json(429, THROTTLED).header("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT"),
        2 => Reply::json(503, r#"{"errors":[{"title":"Service Unavailable"}]}"#),
        _ => Reply::json(200, TENANT),
    });
    let (code, report, ran) = run_qlik(
        &tenant_flow(&server.url, "{ attempts: 6, backoff: 10ms }"),
        &[("QLIK_API_KEY", "eyJ-retries-key")],
    );
    assert_eq!(code, 0, "{report:#}\n{}", printed(&ran));
    assert_eq!(step(&report, "tenant")["output"]["id"], "T1");
    assert_eq!(server.count("/api/v1/tenants/me"), 4);
    assert_eq!(step(&report, "tenant")["attempts"], 4);
}

#[test]
fn qlik_throttling_without_retry_is_one_request() {
    let server = Server::start(|_, _| Reply::json(429, THROTTLED).header("retry-after", "1"));
    let (code, report, ran) = run_qlik(
        &tenant_flow(&server.url, "{ attempts: 1 }"),
        &[("QLIK_API_KEY", "eyJ-retries-key")],
    );
    assert_eq!(code, 1, "{report:#}\n{}", printed(&ran));
    let tenant = step(&report, "tenant");
    assert_eq!(tenant["error"]["code"], "HTTP-429", "{tenant:#}");
    assert_eq!(tenant["error"]["retryable"], true, "{tenant:#}");
    assert_eq!(tenant["attempts"], 1);
    assert_eq!(server.count("/api/v1/tenants/me"), 1);
}
