//! AWS KMS blocks against moto's KMS server, an independent implementation of the API, through the CLI.
//!
//! `scripts/test` starts moto (`scripts/moto start`) and exports its URL as `KEYFLOW_MOTO_URL`. Without it
//! these tests say they were skipped, except under `CI=true`, where a missing moto is a failure. moto is
//! shared: the tests that use it take a lock and reset its state first (`POST /moto-api/reset`).
//!
//! Known moto 5.2.5 deviations, documented here and in the tests that meet them rather than worked around
//! in the product: it never throttles; ignores `Limit` (no pagination); does not enforce key policies;
//! accepts invalid policy JSON and deletion windows outside 7–30; needs `PolicyName: default` on
//! GetKeyPolicy; answers ScheduleKeyDeletion with KeyId and DeletionDate only, GetKeyRotationStatus with
//! KeyRotationEnabled only, Encrypt without EncryptionAlgorithm; and ReplicateKey takes only a key id
//! (an ARN gives HTTP 500), ignores Description, Tags and Policy, and answers no ReplicaTags.

mod blocks;
mod catalog;
mod connection;
mod example;
mod order;
mod request;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard};

use crate::harness::{Ran, keyflow, run_flow};

static MOTO: Mutex<()> = Mutex::new(());

/// Exclusive use of a freshly reset moto, or `None` (with a note) when moto is not running.
pub struct Moto {
    /// The server's URL.
    pub url: String,
    _lock: MutexGuard<'static, ()>,
}

/// moto, reset; `None` when `KEYFLOW_MOTO_URL` is unset (a failure under `CI=true`).
pub fn moto() -> Option<Moto> {
    let Ok(url) = std::env::var("KEYFLOW_MOTO_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "KEYFLOW_MOTO_URL is not set under CI: run the tests with ./scripts/test, which starts moto"
        );
        println!("moto tests skipped: KEYFLOW_MOTO_URL is not set (./scripts/test starts moto)");
        return None;
    };
    let lock = MOTO.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    post(&url, "/moto-api/reset");
    Some(Moto { url, _lock: lock })
}

/// A bodiless POST over plain HTTP (moto's control API).
fn post(url: &str, path: &str) {
    request("POST", url, path);
}

/// A bodiless request over plain HTTP/1.0 (no chunked answers), giving the body of a 200 answer.
fn request(method: &str, url: &str, path: &str) -> String {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream =
        TcpStream::connect(host).unwrap_or_else(|e| panic!("cannot reach moto at {host}: {e}"));
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("write to moto");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read from moto");
    assert!(
        response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
        "moto: {response}"
    );
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// Points `command` at moto with throwaway credentials and nothing of the machine's AWS set-up (no
/// profile, no config files, no instance metadata).
pub fn point_at_moto(command: &mut assert_cmd::Command, url: &str) {
    let empty = std::env::temp_dir().join("keyflow-empty-aws-config");
    std::fs::write(&empty, "").expect("write empty AWS config");
    command
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL_KMS", url)
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL");
}

impl Moto {
    /// A `keyflow` command with AWS pointed at moto.
    pub fn command(&self) -> assert_cmd::Command {
        let mut command = keyflow();
        point_at_moto(&mut command, &self.url);
        command
    }

    /// Runs `keyflow` with AWS pointed at moto.
    pub fn keyflow(&self, args: &[&str]) -> Ran {
        self.command()
            .args(args)
            .output()
            .expect("run keyflow")
            .into()
    }

    /// moto's whole state (`GET /moto-api/data.json`): what every service holds, STS's assumed roles too.
    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(&request("GET", &self.url, "/moto-api/data.json"))
            .expect("moto state is JSON")
    }

    /// Runs a flow (given as YAML) with `--output json` and gives the exit code, the report and stderr.
    pub fn run(&self, yaml: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
        let (code, report, ran) = run_flow(self.command(), yaml, extra);
        (code, report, ran.stderr)
    }

    /// Runs a flow that must succeed and gives its report.
    pub fn succeed(&self, yaml: &str) -> serde_json::Value {
        let (code, report, stderr) = self.run(yaml, &["--allow-destructive"]);
        assert_eq!(code, 0, "the run failed: {report:#}\n{stderr}");
        report
    }
}

/// The head of a flow with one `aws-kms` connection named `aws`.
pub const KMS: &str = "connections:\n  aws: { connector: aws-kms, region: eu-west-1 }\n";

/// The message of step `id`'s error, which must be an `InvalidInput` refusal made before any call.
pub fn refused(report: &serde_json::Value, id: &str) -> String {
    let error = &crate::harness::step(report, id)["error"];
    assert_eq!(error["code"], "InvalidInput", "{id}: {error}");
    assert_eq!(error["retryable"], false, "{id}: {error}");
    error["message"].as_str().unwrap_or_default().to_string()
}

/// A flow named `test` over the `aws` connection, with these steps (YAML starting at `steps:`).
pub fn flow(steps: &str) -> String {
    format!("name: test\n{KMS}{steps}")
}
