//! Hostile servers: a token said to live for ever, errors of many megabytes. A step fails (or succeeds)
//! with a message a person can read; nothing panics and nothing floods the output.

use super::server::{Reply, Server};
use super::{printed, qlik_command, run_qlik};
use crate::harness::{Ran, flow_file, keyflow, path_str, step};

const TENANT: &str = r#"{"id":"T1","name":"acme","hostnames":["acme.eu.qlikcloud.com"]}"#;

#[test]
fn a_token_said_to_live_for_ever_neither_panics_nor_is_fetched_twice() {
    for lifetime in [
        r#""expires_in": 18446744073709551615"#,
        r#""expires_in": 18446744073709551000"#,
        r#""expires_at": "9999-12-31T23:59:59Z""#,
    ] {
        let server = Server::start(move |request, _| {
            if request.path == "/oauth/token" {
                return Reply::json(
                    200,
                    &format!(
                        r#"{{"access_token":"tok-for-ever","token_type":"bearer",{lifetime}}}"#
                    ),
                );
            }
            match request.header("authorization") {
                Some("Bearer tok-for-ever") => Reply::json(200, TENANT),
                _ => Reply::json(401, r#"{"errors":[{"title":"Unauthorized"}]}"#),
            }
        });
        let yaml = format!(
            "name: oauth\nconnections:\n  qlik: {{ connector: qlik-cloud, tenant_url: \"{}\", client_id: m2m, client_secret: {{ env: QLIK_CLIENT_SECRET }} }}\nsteps:\n  - id: first\n    block: qlik-cloud.get-tenant-info\n  - id: second\n    block: qlik-cloud.get-tenant-info\n    after: first\n",
            server.url
        );
        let (code, report, ran) = run_qlik(&yaml, &[("QLIK_CLIENT_SECRET", "m2m-secret")]);
        assert_eq!(code, 0, "{lifetime}: {report:#}\n{}", printed(&ran));
        assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
        assert_eq!(step(&report, "second")["output"]["id"], "T1");
        assert_eq!(server.count("/oauth/token"), 1, "{lifetime}");
        let token = server
            .requests()
            .into_iter()
            .find(|r| r.path == "/oauth/token");
        assert!(
            token.is_some_and(|r| r.method == "POST" && r.body.contains("client_credentials")),
            "the token request"
        );
    }
}

/// A Qlik error envelope whose title is `count` times `byte`.
fn long_title(byte: u8, count: usize) -> Reply {
    Reply::padded(
        400,
        r#"{"errors":[{"code":"HTTP-400","title":""#,
        byte,
        count,
        r#""}]}"#,
    )
}

#[test]
fn a_qlik_error_of_megabytes_is_cut_and_says_how_much() {
    // The first answer's body is far over what is read (20 MiB of title); the second is read whole but its
    // title is still too long to print (50,000 characters).
    let server = Server::start(|_, n| match n {
        0 => long_title(b'A', 20 * 1024 * 1024),
        _ => long_title(b'B', 50_000),
    });
    let (_dir, path) = flow_file(&format!(
        "name: huge\nconnections:\n  qlik: {{ connector: qlik-cloud, tenant_url: \"{}\", api_key: {{ env: QLIK_API_KEY }} }}\nsteps:\n  - id: huge\n    block: qlik-cloud.get-tenant-info\n    on_error: continue\n  - id: long\n    block: qlik-cloud.get-tenant-info\n    after: huge\n    on_error: continue\n",
        server.url
    ));
    // Not quiet: progress, summary and report all print the errors.
    let home = tempfile::tempdir().expect("tempdir");
    let ran: Ran = qlik_command(home.path(), &[("QLIK_API_KEY", "eyJ-hostile-key")])
        .args(["run", path_str(&path), "--output", "json"])
        .output()
        .expect("run keyflow")
        .into();
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("a report");
    assert!(
        printed(&ran).len() < 100_000,
        "{} bytes printed",
        printed(&ran).len()
    );
    let huge = step(&report, "huge")["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        huge.contains("HTTP 400")
            && huge.contains(&format!(
                "the answer's body was cut after 65536 of its {} bytes",
                20 * 1024 * 1024 + 43
            )),
        "{huge}"
    );
    let long = step(&report, "long")["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(long.contains("BBBB… [49000 more characters cut]"), "{long}");
}

#[test]
fn a_kms_error_of_megabytes_is_cut_and_says_how_much() {
    let server = Server::start(|_, _| {
        Reply::padded(
            400,
            r#"{"__type":"ValidationException","message":""#,
            b'M',
            5 * 1024 * 1024,
            r#""}"#,
        )
        .header("content-type", "application/x-amz-json-1.1")
    });
    let (_dir, path) = flow_file(&format!(
        "name: huge\nconnections:\n  aws: {{ connector: aws-kms, region: eu-west-1, endpoint_url: \"{}\" }}\nsteps:\n  - id: describe\n    block: aws-kms.describe-key\n    with: {{ key_id: alias/anything }}\n",
        server.url
    ));
    let ran: Ran = keyflow()
        .env("AWS_ACCESS_KEY_ID", "AKIAHOSTILETEST")
        .env("AWS_SECRET_ACCESS_KEY", "hostile-test-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .args(["run", path_str(&path), "--output", "json"])
        .output()
        .expect("run keyflow")
        .into();
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("a report");
    let error = &step(&report, "describe")["error"];
    assert_eq!(error["code"], "ValidationException", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.ends_with(&format!(
                "… [{} more characters cut]",
                5 * 1024 * 1024 - 1000
            ))),
        "{}",
        error["message"].as_str().map_or(0, str::len)
    );
    assert!(
        printed(&ran).len() < 100_000,
        "{} bytes printed",
        printed(&ran).len()
    );
}
