//! `--sandbox` and `keyflow sandbox serve`: the flows run against the built-in twins with no cloud account
//! and nothing of the machine's AWS or Qlik set-up.

mod state;
mod tenants;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::harness::{Ran, keyflow, path_str, step};

/// The variables of a machine's AWS and Qlik set-up that a sandbox test must not see.
pub const MACHINE_ENV: &[&str] = &[
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_KMS",
    "QLIK_SERVER",
    "QLIK_API_KEY",
    "QLIK_TENANT_URL",
];

/// Files the AWS chain and qlik-cli would read, pointed nowhere.
pub const NOWHERE: &[(&str, &str)] = &[
    ("AWS_CONFIG_FILE", "/nonexistent/keyflow-test"),
    ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/keyflow-test"),
    ("QLIK_CLI_USER_HOME_DIR", "/nonexistent/keyflow-test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// A `keyflow` command with no AWS or Qlik environment at all, as on a fresh machine.
pub fn bare() -> assert_cmd::Command {
    let mut command = keyflow();
    for name in MACHINE_ENV {
        command.env_remove(name);
    }
    command.envs(NOWHERE.iter().copied());
    command
}

/// Runs `flow` (a path under the project) in the sandbox with `extra` arguments.
pub fn sandboxed(flow: &str, extra: &[&str]) -> (Ran, serde_json::Value) {
    let ran: Ran = bare()
        .args([
            "run",
            flow,
            "--sandbox",
            "--output",
            "json",
            "--migration-seconds",
            "0.3",
        ])
        .args(extra)
        .output()
        .expect("run keyflow")
        .into();
    let report = serde_json::from_str(&ran.stdout).unwrap_or(serde_json::Value::Null);
    (ran, report)
}

#[test]
fn the_byok_flow_runs_end_to_end_in_the_sandbox_and_says_what_it_made() {
    let (ran, report) = sandboxed("flows/byok-tenant-encryption.yaml", &[]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let outputs = &report["outputs"];
    assert!(
        outputs["key_arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:kms:eu-west-1:111122223333:key/mrk-")),
        "{outputs}"
    );
    assert_eq!(outputs["migration_state"], "Completed");
    let validated = &step(&report, "validate")["output"];
    assert_eq!(validated["drCompliant"], true, "{validated}");
    // What it made, listed after the run.
    assert!(ran.stderr.contains("in the sandbox:"), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("created key arn:aws:kms:eu-west-1:111122223333:key/mrk-"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("created key arn:aws:kms:eu-west-3:"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("registered key provider"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("now encrypts with arn:aws:kms:eu-west-1:"),
        "{}",
        ran.stderr
    );
}

#[test]
fn state_carries_what_one_run_made_into_the_next() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("sandbox.json");
    let (ran, _) = sandboxed(
        "flows/byok-tenant-encryption.yaml",
        &["--state", path_str(&state), "-q"],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state)
            .expect("state file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the state file is private: {mode:o}");
    }
    // A second run sees the key provider and the key the first one made.
    let flow = dir.path().join("look.yaml");
    std::fs::write(
        &flow,
        "name: look\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1 }\n  qlik: { connector: qlik-cloud }\nsteps:\n  - id: providers\n    block: qlik-cloud.list-key-providers\n  - id: keys\n    block: aws-kms.list-aliases\noutputs:\n  providers: $.steps.providers.output\n  aliases: $.steps.keys.output.Aliases\n",
    )
    .expect("flow");
    let (ran, report) = sandboxed(path_str(&flow), &["--state", path_str(&state)]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let providers = report["outputs"]["providers"]
        .as_array()
        .expect("providers");
    assert_eq!(providers.len(), 2, "Qlik's and the BYOK one: {providers:?}");
    assert!(
        providers
            .iter()
            .any(|p| p["current"] == true && p["keyprovider"] == "AWS-KMS")
    );
    let aliases = report["outputs"]["aliases"].to_string();
    assert!(aliases.contains("alias/qlik/"), "{aliases}");
    assert!(
        ran.stderr.contains("the run changed nothing"),
        "{}",
        ran.stderr
    );

    // A file that is not a state file is refused, not overwritten.
    std::fs::write(&state, "not json").expect("write");
    let (ran, _) = sandboxed(path_str(&flow), &["--state", path_str(&state)]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("is not a keyflow sandbox state file"),
        "{}",
        ran.stderr
    );
    assert_eq!(std::fs::read_to_string(&state).expect("read"), "not json");
}

#[test]
fn sandbox_settings_need_sandbox_and_a_qlik_region() {
    let ran: Ran = bare()
        .args(["run", "flows/hello.yaml", "--state", "x.json"])
        .output()
        .expect("run")
        .into();
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("add `--sandbox`"), "{}", ran.stderr);
    let (ran, _) = sandboxed("flows/hello.yaml", &["--tenant-region", "mars-north-1"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("Qlik Cloud has no tenants in `mars-north-1`"),
        "{}",
        ran.stderr
    );
    // Another tenant region: the flow follows its `region` parameter there.
    let (ran, report) = sandboxed(
        "flows/byok-tenant-encryption.yaml",
        &[
            "--tenant-region",
            "us-east-1",
            "--param",
            "region=us-east-1",
        ],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let replica = &step(&report, "replicate")["output"]["ReplicaKeyMetadata"]["Arn"];
    assert!(
        replica
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:kms:us-east-2:")),
        "{replica}"
    );
}

/// `keyflow sandbox serve` in the background, stopped (with Ctrl-C's signal) when dropped.
pub struct Served {
    child: Child,
    pub exports: Vec<(String, String)>,
    comments: Vec<String>,
}

impl Served {
    /// Stops it as Ctrl-C does (it saves `--state` first) and waits for it.
    pub fn stop(mut self) {
        self.interrupt();
    }

    fn interrupt(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.interrupt();
    }
}

/// [`bare`] as a plain process, for a test that reads its output as it comes or signals it: from the
/// repository root, recording into the tests' store.
pub fn bare_process() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_keyflow"));
    for name in MACHINE_ENV {
        command.env_remove(name);
    }
    command
        .current_dir(crate::harness::root())
        .env("NO_COLOR", "1")
        .env("KEYFLOW_STORE", crate::harness::tests_store())
        .env_remove("RUST_LOG")
        .envs(NOWHERE.iter().copied());
    command
}

/// `keyflow sandbox serve EXTRA…`, once it has printed the environment that points at it.
pub fn serve(extra: &[&str]) -> Served {
    let mut child = bare_process()
        .args(["sandbox", "serve"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyflow sandbox serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut exports = Vec::new();
    let mut comments = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        if line.starts_with('#') {
            comments.push(line.clone());
        }
        if let Some((name, value)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            exports.push((name.to_string(), value.to_string()));
            if name == "QLIK_TENANT_URL" {
                break;
            }
        }
    }
    Served {
        child,
        exports,
        comments,
    }
}

#[test]
fn sandbox_serve_prints_the_environment_another_keyflow_uses_unchanged() {
    let served = serve(&["--migration-seconds", "0.3"]);
    let names: Vec<&str> = served.exports.iter().map(|(n, _)| n.as_str()).collect();
    for wanted in [
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "QLIK_SERVER",
        "QLIK_API_KEY",
    ] {
        assert!(names.contains(&wanted), "{wanted} in {names:?}");
    }
    assert!(
        served
            .comments
            .iter()
            .any(|c| c.contains("tenant of its own") && c.contains("`tenant_url` or `context`")),
        "{:?}",
        served.comments
    );
    // Another keyflow, not in sandbox mode, with only that environment: the real code paths (AWS chain,
    // QLIK_* fallbacks) reach the twins.
    let mut command = bare();
    for (name, value) in &served.exports {
        command.env(name, value);
    }
    let ran: Ran = command
        .args([
            "run",
            "flows/byok-tenant-encryption.yaml",
            "--output",
            "json",
            "-q",
        ])
        .output()
        .expect("run")
        .into();
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("report");
    assert_eq!(report["outputs"]["migration_state"], "Completed");
}

/// Twelve keys at once, against a KMS twin that allows two CreateKey calls a second.
fn fan_out(client_quota: u32) -> String {
    format!(
        "name: fan-out\nparams:\n  names: {{ type: array, default: [a, b, c, d, e, f, g, h, i, j, k, l] }}\nconnections:\n  aws: {{ connector: aws-kms, region: eu-west-1, quotas: {{ CreateKey: {client_quota} }} }}\nsteps:\n  - id: keys\n    block: aws-kms.create-key\n    for_each: $.params.names\n    concurrency: 12\n    retry: {{ attempts: 8, backoff: 500ms, max_delay: 4s }}\n    with: {{ description: \"key {{{{item}}}}\" }}\n"
    )
}

/// The number after `throttled ` in the sandbox's traffic line.
fn throttled(stderr: &str) -> u64 {
    stderr
        .split("throttled ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no traffic line in {stderr}"))
}

#[test]
fn throttling_is_absorbed_by_retries_and_avoided_by_client_side_limits() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (client_quota, expect_throttles) in [(0, true), (2, false)] {
        let flow = dir.path().join(format!("fan-out-{client_quota}.yaml"));
        std::fs::write(&flow, fan_out(client_quota)).expect("flow");
        let (ran, report) = sandboxed(path_str(&flow), &["--quota", "CreateKey=2", "-q"]);
        assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
        let keys = &step(&report, "keys");
        assert_eq!(keys["status"], "succeeded", "{keys}");
        assert_eq!(keys["output"].as_array().map(Vec::len), Some(12));
        let throttled = throttled(&ran.stderr);
        if expect_throttles {
            // No client-side limit: the twin refused some calls and the retries got them through.
            assert!(throttled > 0, "{}", ran.stderr);
        } else {
            eprintln!("with client-side limits at the quota, the twin throttled {throttled} calls");
        }
    }
}

/// The operator's flows one after another in one sandbox, as a rehearsal would run them: onboard, rotate
/// (old key's deletion scheduled), audit, revoke in an emergency, and go back to Qlik's key.
#[test]
fn every_operator_flow_runs_in_the_sandbox_one_after_another() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("rehearsal.json");
    let state = path_str(&state);
    let run = |flow: &str, extra: &[&str]| {
        let mut args = vec!["--state", state, "--allow-destructive", "-q"];
        args.extend_from_slice(extra);
        let (ran, report) = sandboxed(flow, &args);
        assert_eq!(ran.code, 0, "{flow}: {}\n{}", ran.stdout, ran.stderr);
        report
    };
    let onboarded = run("flows/byok-tenant-encryption.yaml", &[]);
    let first_key = onboarded["outputs"]["key_arn"]
        .as_str()
        .expect("key")
        .to_string();

    let rotated = run(
        "flows/rotate-tenant-key.yaml",
        &[
            "--param",
            "schedule_deletion=true",
            "--param",
            "pending_window_in_days=7",
        ],
    );
    let outputs = &rotated["outputs"];
    assert_eq!(outputs["old_key_arn"], first_key.as_str(), "{outputs}");
    let new_key = outputs["new_key_arn"]
        .as_str()
        .expect("new key")
        .to_string();
    assert_ne!(new_key, first_key);
    assert_eq!(outputs["deletion_scheduled"], true, "{outputs}");

    let audited = run(
        "flows/audit-keys.yaml",
        &[
            "--param",
            &format!("tenant_id={}", keyflow_sandbox_tenant()),
        ],
    );
    let report = audited["outputs"].to_string();
    assert!(
        report.contains(&new_key),
        "the audit lists the new key: {report}"
    );
    assert!(
        report.contains("PendingDeletion"),
        "and the old one, pending deletion: {report}"
    );

    let revoked = run("flows/emergency-disable-key.yaml", &[]);
    let revoked_outputs = revoked["outputs"].to_string();
    assert!(revoked_outputs.contains(&new_key), "{revoked_outputs}");
    assert!(revoked_outputs.contains("Disabled"), "{revoked_outputs}");

    let reverted = run("flows/revert-to-qlik-key.yaml", &[]);
    assert_eq!(reverted["outputs"]["former_key_arn"], new_key.as_str());
    assert_eq!(reverted["outputs"]["migration_state"], "Completed");
}

/// The sandbox's seeded tenant, as the README documents it.
fn keyflow_sandbox_tenant() -> &'static str {
    "KeyflowSandboxTenant000000000001"
}
