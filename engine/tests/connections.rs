//! Connections: the checker's connection passes, and at run time one client per connection per run, built
//! at first use, with secrets read then (never at load) and never shown in errors or reports.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use indexmap::IndexMap;
use keyflow_engine::diagnostic::render_all;
use keyflow_engine::exec::report::{RunReport, Status};
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::plan::Plan;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use tokio_util::sync::CancellationToken;

mod common;
use common::service::registry;

fn errors(yaml: &str) -> String {
    let source = SourceFile::new("c.yaml", yaml);
    match check(source.clone(), &registry(Arc::default())) {
        Ok(_) => String::new(),
        Err(diagnostics) => render_all(&diagnostics, &source, false),
    }
}

fn plan(yaml: &str, built: Arc<AtomicUsize>) -> Plan {
    let source = SourceFile::new("c.yaml", yaml);
    check(source.clone(), &registry(built))
        .unwrap_or_else(|d| panic!("{}", render_all(&d, &source, false)))
}

async fn run(plan: Plan) -> RunReport {
    let params = plan.bind_params(&IndexMap::new()).expect("params");
    Executor::new(ExecOptions::default())
        .run(Arc::new(plan), params, CancellationToken::new())
        .await
}

const HEAD: &str = "name: c\nparams:\n  region: { type: string, default: eu-west-1 }\n";

#[test]
fn connector_blocks_need_a_fitting_connection() {
    let missing = errors(&format!(
        "{HEAD}steps:\n  - id: who\n    block: test-svc.whoami\n"
    ));
    assert!(
        missing.contains("error[missing-connection]: block `test-svc.whoami` needs a connection of connector `test-svc`"),
        "{missing}"
    );
    let two = errors(&format!(
        "{HEAD}connections:\n  a: {{ connector: test-svc, endpoint: x, token: {{ env: T }} }}\n  b: {{ connector: test-svc, endpoint: y, token: {{ env: T }} }}\nsteps:\n  - id: who\n    block: test-svc.whoami\n"
    ));
    assert!(two.contains("error[ambiguous-connection]"), "{two}");
    let unknown = errors(&format!(
        "{HEAD}connections:\n  main: {{ connector: test-svc, endpoint: x, token: {{ env: T }} }}\nsteps:\n  - id: who\n    block: test-svc.whoami\n    connection: mian\n"
    ));
    assert!(
        unknown.contains("unknown connection `mian`") && unknown.contains("did you mean `main`?"),
        "{unknown}"
    );
    let needless = errors(&format!(
        "{HEAD}connections:\n  main: {{ connector: test-svc, endpoint: x, token: {{ env: T }} }}\nsteps:\n  - id: n\n    block: core.noop\n    connection: main\n"
    ));
    assert!(
        needless.contains("error[needless-connection]"),
        "{needless}"
    );
}

#[test]
fn connection_settings_are_checked_and_secrets_must_not_be_literal() {
    let found = errors(&format!(
        "{HEAD}connections:\n  main: {{ connector: test-svs, endpoint: x }}\n  other: {{ connector: test-svc, endpiont: x, token: hunter2, region: 5 }}\nsteps:\n  - id: n\n    block: core.noop\n"
    ));
    assert!(
        found.contains("unknown connector `test-svs`")
            && found.contains("did you mean `test-svc`?"),
        "{found}"
    );
    assert!(
        found.contains("error[literal-secret]: secret setting `token` is written literally"),
        "{found}"
    );
    assert!(
        found.contains("connector `test-svc` has no such setting")
            && found.contains("did you mean `endpoint`?"),
        "{found}"
    );
    assert!(
        found.contains("setting `region`: expects a string or null, found an integer"),
        "{found}"
    );
    assert!(
        found.contains("setting `endpoint`: required by the connector"),
        "{found}"
    );
    assert!(
        !found.contains("hunter2"),
        "a diagnostic echoed the secret:\n{found}"
    );
}

#[test]
fn connections_may_read_params_only() {
    let found = errors(&format!(
        "{HEAD}connections:\n  main: {{ connector: test-svc, endpoint: $.steps.n.output.x, token: {{ env: T }} }}\nsteps:\n  - id: n\n    block: core.noop\n"
    ));
    assert!(
        found.contains("error[out-of-scope]: `$.steps` only exists in steps and flow outputs"),
        "{found}"
    );
}

#[tokio::test]
async fn one_client_per_connection_per_run_with_secrets_read_at_first_use() {
    let built = Arc::new(AtomicUsize::new(0));
    let yaml = format!(
        "{HEAD}connections:\n  main: {{ connector: test-svc, endpoint: \"https://svc.{{{{params.region}}}}.example\", token: {{ env: CARGO_PKG_NAME }}, region: $.params.region }}\nsteps:\n  - id: a\n    block: test-svc.whoami\n  - id: b\n    block: test-svc.whoami\n  - id: c\n    block: test-svc.whoami\n    for_each: [1, 2, 3]\n"
    );
    let plan = plan(&yaml, built.clone());
    assert_eq!(
        built.load(Ordering::SeqCst),
        0,
        "validation must not connect"
    );
    let report = run(plan).await;
    assert_eq!(report.status, Status::Succeeded, "{report:#?}");
    assert_eq!(
        built.load(Ordering::SeqCst),
        1,
        "one client for the whole run"
    );
    let output = report.steps[0].output.as_ref().expect("output");
    assert_eq!(output["endpoint"], "https://svc.eu-west-1.example");
    assert_eq!(output["region"], "eu-west-1");
    let expected_len = std::env::var("CARGO_PKG_NAME")
        .expect("cargo sets it")
        .len();
    assert_eq!(output["token_len"], expected_len);
}

#[tokio::test]
async fn a_missing_secret_fails_the_step_naming_the_variable() {
    let yaml = format!(
        "{HEAD}connections:\n  main: {{ connector: test-svc, endpoint: x, token: {{ env: KEYFLOW_TEST_SURELY_UNSET_VARIABLE }} }}\nsteps:\n  - id: a\n    block: test-svc.whoami\n"
    );
    let report = run(plan(&yaml, Arc::default())).await;
    assert_eq!(report.status, Status::Failed);
    let error = report.steps[0].error.as_ref().expect("error");
    assert_eq!(error.code, "SecretUnavailable");
    assert!(
        error
            .message
            .contains("environment variable `KEYFLOW_TEST_SURELY_UNSET_VARIABLE` is not set"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn file_secrets_are_read_trimmed_and_never_reported() {
    let path = std::env::temp_dir().join(format!("keyflow-secret-{}", std::process::id()));
    std::fs::write(&path, "reject-me\n").expect("write secret");
    let yaml = format!(
        "{HEAD}connections:\n  main: {{ connector: test-svc, endpoint: x, token: {{ file: '{}' }} }}\nsteps:\n  - id: a\n    block: test-svc.whoami\n",
        path.display()
    );
    let report = run(plan(&yaml, Arc::default())).await;
    std::fs::remove_file(&path).ok();
    assert_eq!(report.status, Status::Failed);
    let error = report.steps[0].error.as_ref().expect("error");
    assert_eq!(
        error.code, "AuthFailed",
        "the trimmed secret reached the connector: {error:?}"
    );
    assert!(
        error.message.starts_with("connection `main` (test-svc):"),
        "{}",
        error.message
    );
    let json = serde_json::to_string(&report).expect("json");
    assert!(
        !json.contains("reject-me"),
        "the report shows the secret: {json}"
    );
}
