//! `keyflow serve`'s command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use clap::{Args, ValueHint};

use crate::cli::{SANDBOX_HEADING, SandboxSettings};
use crate::exit::Failure;

/// The environment variable that holds the API's bearer token.
pub const TOKEN_ENV: &str = "KEYFLOW_API_TOKEN";

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Folders of flow files (every `.yaml` / `.yml` below them), or flow files.
    #[arg(required = true, value_name = "DIR|FILE", value_hint = ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,
    /// Where the HTTP API listens. Beyond loopback it needs a bearer token (`--token-file` or
    /// KEYFLOW_API_TOKEN).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7717")]
    pub listen: SocketAddr,
    /// A file holding the API's bearer token (its first line); KEYFLOW_API_TOKEN gives it instead.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub token_file: Option<PathBuf>,
    /// At most this many runs at once in this daemon; more firings wait in the store (or for another
    /// daemon).
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_runs: u16,
    /// After SIGTERM or Ctrl-C, how long running flows may take to finish (`60s`, `5m`); those still
    /// running then are handed back as interrupted, and the next start resumes them.
    #[arg(long, default_value = "60s", value_name = "AGE", value_parser = crate::store::parse_age)]
    pub grace: Duration,
    /// How long a firing this daemon runs stays its own without renewal; another daemon of the same
    /// PostgreSQL store takes over (and resumes) the runs of a daemon silent that long.
    #[arg(long, default_value = "30s", value_name = "AGE", value_parser = parse_positive)]
    pub lease: Duration,
    /// How often leases are renewed and the store is asked for work.
    #[arg(long, default_value = "1s", value_name = "AGE", value_parser = parse_positive, hide = true)]
    pub poll: Duration,
    /// How often the folders are checked for changed flow files.
    #[arg(long, default_value = "2s", value_name = "AGE", value_parser = parse_positive)]
    pub reload: Duration,
    #[command(flatten)]
    pub options: DaemonRunOptions,
    #[command(flatten)]
    pub store: crate::store::StoreArgs,
}

/// How the daemon's runs run.
#[derive(Debug, Args)]
pub struct DaemonRunOptions {
    /// Block calls at the same time within one run.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: u16,
    /// No log line per firing and run on stderr (warnings still show).
    #[arg(short, long)]
    pub quiet: bool,
    /// Every run goes against the built-in twins of AWS KMS and Qlik Cloud, started once for the
    /// daemon (see `keyflow run --sandbox`).
    #[arg(long, help_heading = SANDBOX_HEADING)]
    pub sandbox: bool,
    /// Under `--sandbox`, let the blocks of plugins that ship no twin call their real service.
    #[arg(long, requires = "sandbox", help_heading = SANDBOX_HEADING)]
    pub allow_plugins_outside_sandbox: bool,
    #[command(flatten, next_help_heading = SANDBOX_HEADING)]
    pub sandbox_settings: SandboxSettings,
}

impl DaemonRunOptions {
    /// The sandbox settings mean nothing without `--sandbox`.
    pub fn check(&self) -> Result<(), Failure> {
        if !self.sandbox && self.sandbox_settings.any() {
            return Err(Failure::invalid(anyhow!(
                "`--state`, `--tenant-region`, `--migration-seconds`, `--no-quotas` and `--quota` set up the sandbox: add `--sandbox`"
            )));
        }
        Ok(())
    }
}

impl DaemonArgs {
    /// The API's bearer token: from `--token-file`, else KEYFLOW_API_TOKEN; required beyond loopback.
    pub fn token(&self) -> Result<Option<String>, Failure> {
        let token = match &self.token_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Failure::environment(anyhow!(
                        "cannot read --token-file {}: {e}",
                        path.display()
                    ))
                })?;
                Some(text.lines().next().unwrap_or_default().trim().to_string())
            }
            None => std::env::var(TOKEN_ENV).ok().map(|t| t.trim().to_string()),
        };
        let token = token.filter(|t| !t.is_empty());
        if let Some(token) = &token
            && token.len() < 16
        {
            return Err(Failure::invalid(anyhow!(
                "the API token is {} characters long: give one of at least 16 (`openssl rand -hex 32` makes one)",
                token.len()
            )));
        }
        if token.is_none() && !self.listen.ip().is_loopback() {
            return Err(Failure::invalid(anyhow!(
                "--listen {} is beyond loopback: give a bearer token with --token-file FILE or {TOKEN_ENV}, or listen on 127.0.0.1",
                self.listen
            )));
        }
        Ok(token)
    }
}

fn parse_positive(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Some(ms) = text.strip_suffix("ms") {
        return ms
            .parse::<u64>()
            .ok()
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| {
                format!("`{text}`: give a number of milliseconds above 0, such as `500ms`")
            });
    }
    match crate::store::parse_age(text)? {
        d if d.is_zero() => Err(format!("`{text}` is no time at all: give more than 0")),
        d => Ok(d),
    }
}
