//! What the twin remembers: its tenants with their key providers and last migration, the credentials it
//! accepts, the rate-limit windows, and the counters tests read. Migrations are not driven by a task:
//! every access first settles the tenant, applying a migration whose time has come.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use chrono::Utc;

use super::EmulatorConfig;
use super::kms::Checker;
use super::limits::Limiter;
use super::model::{KeyFacts, Refusal, TenantState};
use super::provision::Provisioning;
use super::tokens::Tokens;
pub use crate::sync::lock;

/// What the twin has seen, for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received, on every path.
    pub requests: u64,
    /// 401 answers.
    pub unauthorized: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// Calls made to the KMS peer.
    pub kms_calls: u64,
    /// Access tokens issued at `/oauth/token`.
    pub tokens_issued: u64,
    /// Tenants hosted on first use of their API key.
    pub tenants_provisioned: u64,
}

/// The whole twin, shared by the handlers.
pub struct Twin {
    /// The hosted tenants by id.
    pub(super) tenants: Mutex<HashMap<String, TenantState>>,
    /// Accepted API keys and issued tokens.
    pub tokens: Mutex<Tokens>,
    /// Rate-limit windows.
    pub limiter: Mutex<Limiter>,
    /// The KMS checks, when a peer is configured.
    pub kms: Option<Checker>,
    /// How long a migration runs.
    pub migration_duration: Duration,
    /// How tenants are provisioned on first use, when they are.
    pub(super) provisioning: Option<Provisioning>,
    requests: AtomicU64,
    unauthorized: AtomicU64,
    rate_limited: AtomicU64,
    tokens_issued: AtomicU64,
    /// Tenants provisioned so far.
    pub(super) tenants_provisioned: AtomicU64,
    /// Notified after every request, any of which may have changed a tenant.
    changes: Option<Arc<Notify>>,
}

impl Twin {
    /// Checks key `arn` in KMS for tenant `tenant_id` whose data lives in `datacenter`, as Qlik does;
    /// `None` without a KMS peer (every well-formed ARN is then accepted).
    pub async fn check_key(
        &self,
        arn: &str,
        tenant_id: &str,
        datacenter: &str,
    ) -> Option<Result<KeyFacts, Refusal>> {
        Some(self.kms.as_ref()?.inspect(arn, tenant_id, datacenter).await)
    }

    /// A twin in its initial state: every tenant on the Qlik provider, no migration.
    pub fn new(config: EmulatorConfig) -> Twin {
        let now = Utc::now();
        let tenants = config
            .tenants
            .iter()
            .map(|seed| (seed.id.clone(), TenantState::new(seed.clone(), now)))
            .collect();
        let saved = config.state.clone();
        let twin = Twin {
            tokens: Mutex::new(Tokens::new(&config)),
            tenants: Mutex::new(tenants),
            limiter: Mutex::new(Limiter::new(config.rates)),
            kms: config.kms.map(Checker::new),
            migration_duration: config.migration_duration,
            provisioning: config.provisioning,
            requests: AtomicU64::new(0),
            unauthorized: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            tokens_issued: AtomicU64::new(0),
            tenants_provisioned: AtomicU64::new(0),
            changes: config.changes,
        };
        if let Some(saved) = saved {
            twin.restore(saved);
        }
        twin
    }

    /// Runs `f` on tenant `id`, settled; `None` when the twin does not host it.
    pub fn with_tenant<R>(&self, id: &str, f: impl FnOnce(&mut TenantState) -> R) -> Option<R> {
        let mut tenants = lock(&self.tenants);
        let tenant = tenants.get_mut(id)?;
        tenant.settle(Instant::now());
        Some(f(tenant))
    }

    /// Counts one answered request by its status.
    pub fn count(&self, status: u16) {
        if let Some(changes) = &self.changes {
            changes.notify_one();
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        match status {
            401 => self.unauthorized.fetch_add(1, Ordering::Relaxed),
            429 => self.rate_limited.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }

    /// Counts one issued token.
    pub fn count_token(&self) {
        self.tokens_issued.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        Stats {
            requests: self.requests.load(Ordering::Relaxed),
            unauthorized: self.unauthorized.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            kms_calls: self.kms.as_ref().map_or(0, Checker::calls),
            tokens_issued: self.tokens_issued.load(Ordering::Relaxed),
            tenants_provisioned: self.tenants_provisioned.load(Ordering::Relaxed),
        }
    }
}

impl Twin {
    /// The tenant of `token` when it is the API key of a tenant provisioned on first use, hosting the
    /// tenant if it is new; `None` when the twin does not provision or the token names no tenant. A
    /// hostname the twin already hosts (the seeded tenant's, a restored one) is that tenant. The tenants
    /// stay locked from lookup to insert, so concurrent first calls for one tenant host it once.
    pub fn provision(&self, token: &str) -> Option<String> {
        let seed = self.provisioning.as_ref()?.seed(token)?;
        let id = {
            let mut tenants = lock(&self.tenants);
            match tenants.values().find(|t| t.seed.hostname == seed.hostname) {
                Some(hosted) => hosted.seed.id.clone(),
                None => {
                    let id = seed.id.clone();
                    tenants.insert(id.clone(), TenantState::provisioned(seed, Utc::now()));
                    self.tenants_provisioned.fetch_add(1, Ordering::Relaxed);
                    id
                }
            }
        };
        lock(&self.tokens).add_api_key(token, &id);
        Some(id)
    }
}
