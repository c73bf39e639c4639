//! Qlik Cloud blocks through the CLI against the project's Qlik twin over real HTTP.
//!
//! Each test starts its own twin in-process (on a runtime of its own, on a free loopback port), so tests
//! run in parallel without sharing state. keyflow runs as a child process with the Qlik environment
//! cleared: no `QLIK_SERVER`, no qlik-cli contexts of the machine.

mod auth;
mod blocks;
mod byok;
mod errors;

use std::time::Duration;

use keyflow_twins::qlik_cloud::{self as emulator, EmulatorConfig, Running, TenantSeed};

use crate::harness::{Ran, keyflow, run_flow};

/// The tenant every test's twin serves.
pub const TENANT: &str = "T3nant-Id_4242424242424242424242";
/// Its API key.
pub const API_KEY: &str = "eyJ-test-api-key-never-printed";

/// A running twin and the runtime that serves it.
pub struct Twin {
    /// The twin's URL.
    pub url: String,
    /// The twin itself (its state, for assertions).
    pub running: Running,
    _runtime: tokio::runtime::Runtime,
    home: tempfile::TempDir,
}

/// The default configuration: one tenant in eu-west-1 with an API key, migrations of 300 ms.
pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        tenants: vec![TenantSeed {
            id: TENANT.into(),
            name: "acme".into(),
            hostname: "acme.eu.qlikcloud.com".into(),
            region: "eu".into(),
            datacenter: "eu-west-1".into(),
        }],
        api_keys: vec![(API_KEY.into(), TENANT.into())],
        migration_duration: Duration::from_millis(300),
        ..EmulatorConfig::default()
    }
}

/// A twin started with `config`.
pub fn twin(config: EmulatorConfig) -> Twin {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let running = runtime
        .block_on(emulator::start(config))
        .expect("start the Qlik twin");
    Twin {
        url: running.url.clone(),
        running,
        _runtime: runtime,
        home: tempfile::tempdir().expect("tempdir"),
    }
}

impl Twin {
    /// A `keyflow` command with the tenant's URL in `QLIK_TENANT_URL` and its key in `QLIK_API_KEY`, `env`
    /// on top, and nothing else of the machine's Qlik set-up (`QLIK_CLI_USER_HOME_DIR` is an empty folder).
    pub fn command(&self, env: &[(&str, &str)]) -> assert_cmd::Command {
        let mut command = keyflow();
        command
            .env("QLIK_TENANT_URL", &self.url)
            .env("QLIK_API_KEY", API_KEY)
            .env("QLIK_CLI_USER_HOME_DIR", self.home.path())
            .env_remove("QLIK_SERVER");
        for (name, value) in env {
            command.env(name, value);
        }
        command
    }

    /// Runs `keyflow` with `args` and `env` (see [`Twin::command`]).
    pub fn keyflow(&self, args: &[&str], env: &[(&str, &str)]) -> Ran {
        self.command(env)
            .args(args)
            .output()
            .expect("run keyflow")
            .into()
    }

    /// The folder `QLIK_CLI_USER_HOME_DIR` points at.
    pub fn home(&self) -> &std::path::Path {
        self.home.path()
    }

    /// Runs a flow with `--output json` and gives the exit code, the report and what keyflow printed.
    pub fn run(
        &self,
        yaml: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> (i32, serde_json::Value, Ran) {
        run_flow(self.command(env), yaml, extra)
    }

    /// Runs a flow that must succeed (destructive steps allowed) and gives its report.
    pub fn succeed(&self, yaml: &str) -> serde_json::Value {
        let (code, report, ran) = self.run(yaml, &["--allow-destructive"], &[]);
        assert_eq!(code, 0, "the run failed: {report:#}\n{}", ran.stderr);
        assert!(
            !ran.stdout.contains(API_KEY) && !ran.stderr.contains(API_KEY),
            "the API key was printed"
        );
        report
    }
}

/// The head of a flow with one `qlik-cloud` connection named `qlik`.
pub const QLIK: &str = "connections:\n  qlik: { connector: qlik-cloud, tenant_url: { env: QLIK_TENANT_URL }, api_key: { env: QLIK_API_KEY } }\n";

/// A flow named `test` over the `qlik` connection, with these steps (YAML from `steps:` on).
pub fn flow(steps: &str) -> String {
    format!("name: test\n{QLIK}{steps}")
}
