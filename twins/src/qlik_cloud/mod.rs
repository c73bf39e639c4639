//! A local twin of Qlik Cloud's Encryption API (key providers, migrations), with the parts of the Tenants
//! and OAuth APIs a client needs around it, served by axum on loopback.
//!
//! One twin serves many tenants at one URL: the bearer token (an API key, or an access token the twin
//! issued at `POST /oauth/token`) says whose tenant a request is for. It keeps the quirks of the real
//! service (bare arrays for lists, 201 on test, 205 with a body on reset, the zero time, the default Qlik
//! provider) and its tier rate limits. Migrations advance with the clock, computed when read. With a
//! [`KmsPeer`] it checks keys the way Qlik does: DescribeKey for the key's kind, state and replicas, then,
//! in the sandbox, the key is used as Qlik's proxy role (Encrypt and Decrypt under the tenant's encryption
//! context, see [`ProxyRole`]) and the KMS twin's policy evaluation decides; against moto, which ignores
//! policies, GetKeyPolicy is read with the rules of [`super::policy`].

mod arn;
mod auth;
mod kms;
mod limits;
mod migrations;
mod model;
mod probe;
mod providers;
mod provision;
mod routes;
mod saved;
mod state;
mod tenants;
mod tokens;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::faults;
use crate::server::{Server, any_port};

pub use limits::Tiers;
pub use provision::Provisioning;
pub use saved::{SavedSeed, SavedState, SavedTenant};
pub use state::Stats;
pub(crate) use wire::ApiError;

use state::Twin;

/// A tenant the twin hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSeed {
    /// The tenant id (`ImTRa-bkJTD-NZRYjNBa_rDhwSVA6Qo8`); also the Qlik provider's fingerprint.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its hostname (`acme.eu.qlikcloud.com`).
    pub hostname: String,
    /// The Qlik region code (`eu`, `us`, `uk`…).
    pub region: String,
    /// The AWS region its data lives in (`eu-west-1`): where its keys must be.
    pub datacenter: String,
}

/// An OAuth machine-to-machine client of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// `client_id` of the token request.
    pub client_id: String,
    /// `client_secret` of the token request.
    pub client_secret: String,
    /// The tenant its tokens act in.
    pub tenant_id: String,
}

/// The AWS KMS endpoint the twin checks keys against, as Qlik checks them against AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsPeer {
    /// Its URL (`http://127.0.0.1:5077` for moto).
    pub endpoint_url: String,
    /// The access key id and secret of the key's account, to read key metadata with (moto takes any:
    /// `None` signs as `testing`).
    pub credentials: Option<(String, String)>,
    /// Qlik's proxy role, when the peer evaluates key policies (the sandbox's KMS twin): the key is then
    /// checked by using it as that role, and the policy decides. Without it (moto ignores policies) the
    /// policy is read and checked against [`super::policy`]'s rules.
    pub proxy: Option<ProxyRole>,
}

impl KmsPeer {
    /// A peer that accepts any credentials (moto).
    pub fn at(endpoint_url: impl Into<String>) -> KmsPeer {
        KmsPeer {
            endpoint_url: endpoint_url.into(),
            credentials: None,
            proxy: None,
        }
    }

    /// The same peer, checking keys by using them as `proxy`.
    pub fn with_proxy(mut self, proxy: ProxyRole) -> KmsPeer {
        self.proxy = Some(proxy);
        self
    }
}

/// The credentials the twin signs with when it acts as Qlik's proxy role
/// (`arn:aws:iam::338144066592:role/byok-encryption-proxy-role`).
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyRole {
    /// The role's ARN, as the peer knows the principal: named in refusals.
    pub arn: String,
    /// The access key id the peer maps to that ARN.
    pub access_key_id: String,
    /// Its secret access key.
    pub secret_access_key: String,
}

impl ProxyRole {
    /// A proxy role from its three parts.
    pub fn new(arn: &str, access_key_id: &str, secret_access_key: &str) -> ProxyRole {
        ProxyRole {
            arn: arn.into(),
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
        }
    }
}

impl std::fmt::Debug for ProxyRole {
    // The secret stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyRole")
            .field("arn", &self.arn)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// What the twin serves and how it behaves.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The tenants hosted.
    pub tenants: Vec<TenantSeed>,
    /// API keys as `(key, tenant id)`.
    pub api_keys: Vec<(String, String)>,
    /// OAuth clients.
    pub oauth_clients: Vec<OAuthClient>,
    /// How long an issued access token is valid.
    pub token_ttl: Duration,
    /// How long a migration takes from start to `Completed`.
    pub migration_duration: Duration,
    /// Requests per minute per tenant in each rate-limit tier.
    pub rates: Tiers,
    /// Where to check keys; without it every well-formed ARN registers.
    pub kms: Option<KmsPeer>,
    /// Providers and migrations to start from (what [`Running::snapshot`] saved), for hosted tenants and
    /// the ones provisioned on first use.
    pub state: Option<SavedState>,
    /// Tenants hosted on first use of their API key; off (`None`) by default.
    pub provisioning: Option<Provisioning>,
    /// Notified after every request, which may have changed the state (the sandbox records it as a run
    /// goes).
    pub changes: Option<Arc<tokio::sync::Notify>>,
    /// Faults to inject into clients' requests (`--faults`).
    pub faults: Option<Arc<faults::Faults>>,
}

impl Default for EmulatorConfig {
    fn default() -> EmulatorConfig {
        EmulatorConfig {
            tenants: Vec::new(),
            api_keys: Vec::new(),
            oauth_clients: Vec::new(),
            token_ttl: Duration::from_secs(3600),
            migration_duration: Duration::from_secs(5),
            rates: Tiers::default(),
            kms: None,
            state: None,
            provisioning: None,
            changes: None,
            faults: None,
        }
    }
}

impl EmulatorConfig {
    /// The config's inconsistencies: credentials of tenants it does not host, a tenant hosted twice.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut hosted = HashSet::new();
        for tenant in &self.tenants {
            if !hosted.insert(tenant.id.as_str()) {
                problems.push(format!("tenant `{}` is listed twice", tenant.id));
            }
        }
        let named = self
            .api_keys
            .iter()
            .map(|(_, tenant)| ("an API key", tenant))
            .chain(
                self.oauth_clients
                    .iter()
                    .map(|client| ("an OAuth client", &client.tenant_id)),
            );
        for (what, tenant) in named {
            if !hosted.contains(tenant.as_str()) {
                problems.push(format!(
                    "{what} names tenant `{tenant}`, which is not hosted"
                ));
            }
        }
        if let Some(provisioning) = &self.provisioning {
            problems.extend(provisioning.problems());
        }
        problems
    }
}

/// A twin serving on loopback; dropping it stops the server.
pub struct Running {
    /// Its base URL (`http://127.0.0.1:PORT`), without a trailing slash.
    pub url: String,
    twin: Arc<Twin>,
    server: Server,
}

impl Running {
    /// What the twin has seen so far: requests, refusals, KMS calls.
    pub fn state(&self) -> Stats {
        self.twin.stats()
    }

    /// Every tenant's key providers and last migration, to start a later twin from (`--state FILE`).
    pub fn snapshot(&self) -> SavedState {
        self.twin.snapshot()
    }

    /// Takes [`Running::snapshot`] whenever called, without holding on to the server (the sandbox's
    /// recorder).
    pub(crate) fn snapshots(&self) -> impl Fn() -> SavedState + Send + Sync + 'static {
        let twin = self.twin.clone();
        move || twin.snapshot()
    }

    /// Revokes every OAuth access token issued so far (a test of a client's renewal on 401).
    pub fn revoke_tokens(&self) {
        state::lock(&self.twin.tokens).revoke();
    }

    /// Stops the server and waits until it no longer accepts connections.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.server.shutdown().await
    }
}

/// Starts a twin on `127.0.0.1` at a free port. Fails when the config names tenants it does not host, or
/// when no port can be bound.
pub async fn start(config: EmulatorConfig) -> std::io::Result<Running> {
    start_at(config, any_port()).await
}

/// Starts a twin at `addr` (a fixed port for `keyflow sandbox serve`); fails as [`start`] does.
pub async fn start_at(
    config: EmulatorConfig,
    addr: std::net::SocketAddr,
) -> std::io::Result<Running> {
    let faults = config.faults.clone();
    let twin = build(config)?;
    let app = faults::wrap(routes::router(twin.clone()), faults, faults::Service::Qlik);
    let server = Server::start(app, addr).await?;
    Ok(Running {
        url: server.url.clone(),
        twin,
        server,
    })
}

/// The twin as an axum router, to serve in-process. Unlike [`start`] it does not refuse an inconsistent
/// config: credentials of tenants it does not host are simply never accepted.
pub fn router(config: EmulatorConfig) -> axum::Router {
    routes::router(Arc::new(Twin::new(config)))
}

fn build(config: EmulatorConfig) -> std::io::Result<Arc<Twin>> {
    let problems = config.problems();
    if !problems.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("Qlik Cloud twin config: {}", problems.join("; ")),
        ));
    }
    Ok(Arc::new(Twin::new(config)))
}
