//! The connector clients as an operator meets them: a step's `retry:` is the only retry layer (the report's
//! `attempts` counts every request the service answered), and a hostile or careless server — one that
//! throttles, sends an absurd token lifetime or a 100 MB error, echoes the credentials — gets neither a
//! panic nor a leak out of keyflow.
//!
//! The KMS side runs through `keyflow run --sandbox`, whose closing line gives the twin's own request
//! counter; the Qlik side runs against [`server::Server`], a loopback server that answers as each test
//! says and counts every request.

mod hostile;
mod retries;
mod secrets;
mod server;

use crate::harness::{Ran, keyflow, run_flow};

/// A `keyflow` command with no Qlik set-up of the machine (no `QLIK_*`, qlik-cli contexts in `home`) and
/// `env` on top.
pub fn qlik_command(home: &std::path::Path, env: &[(&str, &str)]) -> assert_cmd::Command {
    let mut command = keyflow();
    for name in ["QLIK_SERVER", "QLIK_API_KEY", "QLIK_TENANT_URL"] {
        command.env_remove(name);
    }
    command.env("QLIK_CLI_USER_HOME_DIR", home);
    command.envs(env.iter().copied());
    command
}

/// Runs `yaml` with `--output json -q` and `env` (see [`qlik_command`]): exit code, report, what it printed.
pub fn run_qlik(yaml: &str, env: &[(&str, &str)]) -> (i32, serde_json::Value, Ran) {
    let home = tempfile::tempdir().expect("tempdir");
    run_flow(qlik_command(home.path(), env), yaml, &[])
}

/// Everything a run printed, on both streams.
pub fn printed(ran: &Ran) -> String {
    format!("{}\n{}", ran.stdout, ran.stderr)
}
