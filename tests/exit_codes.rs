//! Exit codes with one meaning each (0 success, 1 run failed, 2 invalid or misused, 74 the environment,
//! 130 cancelled), and a closed stdout that ends the output quietly instead of panicking.

use std::process::Stdio;

use crate::harness::{Ran, flow_file, keyflow, path_str, root, run};

/// `keyflow` as a plain process, whose standard streams can be set.
fn process() -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyflow"));
    command
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("KEYFLOW_STORE", crate::harness::tests_store())
        .env_remove("RUST_LOG");
    command
}

#[test]
fn each_class_of_outcome_has_its_code() {
    assert_eq!(run(&["validate", "flows/hello.yaml"]).code, 0);
    let (_dir, failing) = flow_file(
        "name: x\nsteps:\n  - id: boom\n    block: core.fail\n    with: { message: no }\n",
    );
    assert_eq!(run(&["run", path_str(&failing), "-q"]).code, 1);
    assert_eq!(
        run(&["validate", "tests/fixtures/invalid/cycle.yaml"]).code,
        2
    );
    assert_eq!(
        run(&["run", "flows/hello.yaml", "--param", "nope=1"]).code,
        2
    );
    assert_eq!(run(&["frobnicate"]).code, 2);
}

#[test]
fn output_that_cannot_be_written_is_an_error_of_the_environment() {
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let ran: Ran = process()
        .args(["blocks", "list"])
        .stdout(full)
        .output()
        .expect("run")
        .into();
    assert_eq!(ran.code, 74, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("cannot write the output"),
        "{}",
        ran.stderr
    );
}

#[test]
fn missing_credentials_are_an_error_of_the_environment() {
    let (_dir, flow) = flow_file(
        "name: x\nconnections:\n  qlik: { connector: qlik-cloud, tenant_url: https://t.eu.qlikcloud.com, api_key: { env: KEYFLOW_TEST_UNSET_KEY } }\nsteps:\n  - id: info\n    block: qlik-cloud.get-tenant-info\n",
    );
    let ran: Ran = keyflow()
        .args(["run", path_str(&flow), "-q"])
        .env_remove("KEYFLOW_TEST_UNSET_KEY")
        .output()
        .expect("run")
        .into();
    assert_eq!(ran.code, 74, "{}{}", ran.stdout, ran.stderr);
}

#[test]
fn a_state_file_that_cannot_be_written_after_a_run_is_an_error_of_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A folder where the state file should be: it cannot be written.
    let state = dir.path().join("state.json");
    std::fs::create_dir(&state).expect("folder");
    let ran: Ran = keyflow()
        .args([
            "run",
            "flows/hello.yaml",
            "-q",
            "--sandbox",
            "--state",
            path_str(&state),
        ])
        .output()
        .expect("run")
        .into();
    assert_eq!(ran.code, 74, "{}{}", ran.stdout, ran.stderr);
}

/// Runs `keyflow args` with a stdout whose reading end is already closed: every write meets a broken pipe.
fn with_closed_stdout(args: &[&str]) -> Ran {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    process()
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .output()
        .expect("run")
        .into()
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    for (args, code) in [
        (&["blocks", "list"][..], 0),
        (&["blocks", "list", "--output", "json"], 0),
        (&["blocks", "describe", "aws-kms.create-key"], 0),
        (&["validate", "flows"], 0),
        (&["validate", "--output", "json", "flows"], 0),
        (
            &["validate", "--format", "github", "tests/fixtures/invalid"],
            2,
        ),
        (&["plan", "flows/byok-tenant-encryption.yaml"], 0),
        (&["plan", "flows/hello.yaml", "--output", "json"], 0),
        (&["run", "flows/hello.yaml", "-q"], 0),
        (&["run", "flows/hello.yaml", "-q", "--output", "json"], 0),
        (&["run", "flows/hello.yaml", "-q", "--output", "jsonl"], 0),
        (&["graph", "flows/hello.yaml"], 0),
        (&["schema", "--check"], 0),
        (&["completions", "bash"], 0),
        (&["man"], 0),
        (&["--help"], 0),
    ] {
        let ran = with_closed_stdout(args);
        assert_eq!(ran.code, code, "{args:?}: {}", ran.stderr);
        assert!(
            !ran.stderr.contains("panicked") && !ran.stderr.contains("Broken pipe"),
            "{args:?}: {}",
            ran.stderr
        );
    }
}

#[test]
fn a_closed_pipe_does_not_lose_the_sandbox_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state.json");
    let ran = with_closed_stdout(&[
        "run",
        "flows/kms-tenant-key.yaml",
        "-q",
        "--output",
        "json",
        "--sandbox",
        "--state",
        path_str(&state),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(state.is_file(), "no state saved: {}", ran.stderr);
}

#[test]
fn a_port_in_use_is_an_error_of_the_environment() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("address").port().to_string();
    let ran = run(&["sandbox", "serve", "--kms-port", &port]);
    assert_eq!(ran.code, 74, "{}{}", ran.stdout, ran.stderr);
}
