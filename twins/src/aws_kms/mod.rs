//! A local twin of AWS KMS: the AWS JSON 1.1 protocol (`POST /`, `X-Amz-Target: TrentService.<Op>`) as
//! aws-sdk-kms and the AWS CLI speak it, served by axum on loopback.
//!
//! One URL serves every region: the region and the caller come from the SigV4 credential scope of the
//! `Authorization` header, as the SDKs sign it, and the signature is checked with the caller's secret. Keys,
//! aliases and quotas are per region. Keys enforce AWS's key states, key policies (with the lockout safety
//! check), the published quotas of [`keyflow_blocks::aws_kms::limits::PUBLISHED`], and real authenticated encryption
//! (AES-256-GCM with the encryption context bound), so that a flow rehearsed here fails where it would fail
//! in AWS. The whole state can be taken ([`Running::snapshot`]) and started from again
//! ([`KmsTwinConfig::state`]).

mod access;
mod aliases;
mod auth;
mod call;
mod crypto;
mod keys;
mod lifecycle;
mod model;
mod policy;
mod quotas;
mod replicas;
mod routes;
mod rules;
mod settings;
mod sigv4;
mod state;
mod tags;
mod validate;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use keyflow_blocks::aws_kms::operation::Quota;
use tokio::sync::Notify;

use crate::faults;
use crate::server::{Server, any_port};

pub use state::{
    AliasRecord, KeyRecord, KeyState, KeySummary, KmsState, MultiRegionKeyType, RegionState,
    Rotation,
};
pub(crate) use wire::KmsError;
pub use wire::{KmsStats, OperationStats};

use routes::Twin;

/// The account the twin plays by default.
pub const DEFAULT_ACCOUNT_ID: &str = "111122223333";
/// The access key id of the default principal.
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIASANDBOX000000000";
/// The secret access key of the default principal.
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "keyflow-sandbox-secret-access-key-000000";
/// The ARN of the default principal.
pub const DEFAULT_PRINCIPAL_ARN: &str = "arn:aws:iam::111122223333:user/keyflow-sandbox";

/// How the twin throttles.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Quotas {
    /// The published AWS quotas ([`keyflow_blocks::aws_kms::limits::PUBLISHED`]), per account and region.
    #[default]
    Published,
    /// No throttling at all.
    Off,
    /// The published quotas with some replaced (requests per second by quota, as in
    /// [`keyflow_blocks::aws_kms::limits::PUBLISHED`]; `0` lifts one).
    Overrides(HashMap<Quota, f64>),
}

/// A principal the twin knows: its credentials and who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The access key id it signs with (`AKIA…`).
    pub access_key_id: String,
    /// The secret access key its signatures are checked with.
    pub secret_access_key: String,
    /// Its ARN (`arn:aws:iam::111122223333:user/keyflow-sandbox`), matched against key policies.
    pub arn: String,
}

impl Principal {
    /// A principal from its three parts.
    pub fn new(access_key_id: &str, secret_access_key: &str, arn: &str) -> Principal {
        Principal {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            arn: arn.into(),
        }
    }
}

/// What the twin serves and how it behaves.
#[derive(Debug, Clone)]
pub struct KmsTwinConfig {
    /// The twin's own AWS account (`111122223333`): it owns every key, and its principals pass IAM.
    pub account_id: String,
    /// The principals whose requests are accepted; a principal of another account (Qlik's proxy role) can
    /// use a key only as far as the key's policy lets it.
    pub principals: Vec<Principal>,
    /// Throttling.
    pub quotas: Quotas,
    /// A state to start from (a former [`Running::snapshot`]); empty without it.
    pub state: Option<KmsState>,
    /// Notified after every request that changed the state (the sandbox records it as a run goes).
    pub changes: Option<Arc<Notify>>,
    /// Faults to inject into clients' requests (`--faults`).
    pub faults: Option<Arc<crate::faults::Faults>>,
}

impl Default for KmsTwinConfig {
    fn default() -> KmsTwinConfig {
        KmsTwinConfig {
            account_id: DEFAULT_ACCOUNT_ID.into(),
            principals: vec![Principal::new(
                DEFAULT_ACCESS_KEY_ID,
                DEFAULT_SECRET_ACCESS_KEY,
                DEFAULT_PRINCIPAL_ARN,
            )],
            quotas: Quotas::Published,
            state: None,
            changes: None,
            faults: None,
        }
    }
}

/// A twin serving on loopback; dropping it stops the server.
pub struct Running {
    /// Its base URL (`http://127.0.0.1:PORT`), without a trailing slash: the `endpoint_url` of clients.
    pub url: String,
    twin: Arc<Twin>,
    server: Server,
}

impl Running {
    /// What the twin has answered so far.
    pub fn stats(&self) -> KmsStats {
        self.twin.stats()
    }

    /// Everything the twin holds, to save and start from again. Keys past their deletion date are gone.
    pub fn snapshot(&self) -> KmsState {
        self.twin.snapshot()
    }

    /// Takes the state whenever called, without holding on to the server (the sandbox's recorder).
    pub(crate) fn snapshots(&self) -> impl Fn() -> KmsState + Send + Sync + 'static {
        let twin = self.twin.clone();
        move || twin.snapshot()
    }

    /// Stops the server and waits until it no longer accepts connections.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.server.shutdown().await
    }
}

/// Starts a twin on `127.0.0.1` at a free port.
pub async fn start(config: KmsTwinConfig) -> std::io::Result<Running> {
    start_at(config, any_port()).await
}

/// Starts a twin at `addr` (a fixed port for `keyflow sandbox serve`). Fails when the config is
/// inconsistent (a principal ARN that is not one, an access key listed twice) or `addr` cannot be bound.
pub async fn start_at(config: KmsTwinConfig, addr: SocketAddr) -> std::io::Result<Running> {
    let problems = problems(&config);
    if !problems.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("AWS KMS twin config: {}", problems.join("; ")),
        ));
    }
    let faults = config.faults.clone();
    let twin = Arc::new(Twin::new(config));
    let app = faults::wrap(routes::router(twin.clone()), faults, faults::Service::Kms);
    let server = Server::start(app, addr).await?;
    Ok(Running {
        url: server.url.clone(),
        twin,
        server,
    })
}

/// The twin as an axum router, to serve in-process. Unlike [`start`] it does not refuse an inconsistent
/// config: a principal whose ARN names no account is simply refused on every call.
pub fn router(config: KmsTwinConfig) -> axum::Router {
    routes::router(Arc::new(Twin::new(config)))
}

/// The config's inconsistencies, each saying what to fix.
fn problems(config: &KmsTwinConfig) -> Vec<String> {
    let mut problems = Vec::new();
    if !rules::is_account_id(&config.account_id) {
        problems.push(format!(
            "account_id `{}` is not a 12-digit AWS account id",
            config.account_id
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for principal in &config.principals {
        if !seen.insert(principal.access_key_id.as_str()) {
            problems.push(format!(
                "access key `{}` is listed twice; give each principal its own",
                principal.access_key_id
            ));
        }
        if access::account_of(&principal.arn).is_none() {
            problems.push(format!(
                "principal `{}` is not an IAM or STS ARN with an account id \
                 (`arn:aws:iam::111122223333:user/name`)",
                principal.arn
            ));
        }
    }
    problems
}
