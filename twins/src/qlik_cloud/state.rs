//! What the twin remembers: its tenants with their key providers and last migration, the credentials it
//! accepts, the rate-limit windows, and the counters tests read. Migrations are not driven by a task:
//! every access first settles the tenant, applying a migration whose time has come.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::digest::{hex, sha256};
use base64::Engine;
use chrono::{DateTime, Utc};

use super::auth::Tokens;
use super::kms::Checker;
use super::limits::Limiter;
use super::provision::Provisioning;
use super::{EmulatorConfig, TenantSeed};

/// The ARN Qlik shows for its own key provider.
pub const QLIK_MANAGED_ARN: &str = "#QLIK_MANAGED_KEY_PROVIDER#";

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

/// Locks, going on after a panic elsewhere: every update leaves the state consistent.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Twin {
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

/// A fault `Test` or a check of the DR replica found, as `complianceError` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ComplianceError {
    /// `Encryption-88` for the policy; see `kms` for the others.
    pub code: String,
    /// The region checked.
    pub region: String,
    /// What is wrong.
    pub message: String,
}

/// A replica of a multi-Region key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Replica {
    /// Its ARN.
    pub arn: String,
    /// Its region.
    pub region: String,
}

/// What the KMS peer said about a key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyFacts {
    /// Whether it is a multi-Region key.
    pub multi_region: bool,
    /// Its replicas.
    pub replica_keys: Vec<Replica>,
    /// Whether the DR region has a usable replica (or needs none).
    pub dr_compliant: bool,
    /// The first fault found, `None` when compliant.
    pub compliance_error: Option<ComplianceError>,
}

/// A key provider of a tenant.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Provider {
    /// Its fingerprint: the tenant id for the Qlik provider, 32 hex characters for AWS keys.
    pub fingerprint: String,
    /// The key ARN, or [`QLIK_MANAGED_ARN`].
    pub arn: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// When it was registered; `None` for the Qlik provider ("Qlik managed").
    pub created_at: Option<DateTime<Utc>>,
    /// When it last became current.
    pub promoted_at: Option<DateTime<Utc>>,
    /// When it last stopped being current.
    pub demoted_at: Option<DateTime<Utc>>,
    /// What KMS said, when the twin has a KMS peer.
    pub key: Option<KeyFacts>,
}

impl Provider {
    /// Whether this is the Qlik-managed default provider.
    pub fn is_qlik(&self) -> bool {
        self.arn == QLIK_MANAGED_ARN
    }
}

/// Where a migration is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Just started.
    New,
    /// Moving keys.
    InProgress,
    /// Done; the target is current.
    Completed,
}

/// A migration of a tenant's cipher keys to another provider.
#[derive(Debug, Clone)]
pub struct Migration {
    /// `migrationId`.
    pub id: String,
    /// The ARN (or Qlik vault name) migrated from.
    pub from: String,
    /// The ARN migrated to.
    pub to: String,
    /// The target's fingerprint.
    pub to_fingerprint: String,
    /// The prefix of cipher keys already under the target.
    pub to_prefix: String,
    /// When it started.
    pub initiated_at: DateTime<Utc>,
    // The clock it runs on; a state file keeps and rebuilds it (`super::saved`).
    pub(super) started: Instant,
    pub(super) duration: Duration,
    pub(super) applied: bool,
}

impl Migration {
    /// Its phase and progress (0–100) at `now`: New for the first tenth of the run, then InProgress.
    pub fn phase(&self, now: Instant) -> (Phase, u8) {
        let elapsed = now.saturating_duration_since(self.started);
        if elapsed >= self.duration {
            return (Phase::Completed, 100);
        }
        if elapsed < self.duration / 10 {
            return (Phase::New, 0);
        }
        let percent = elapsed.as_secs_f64() * 100.0 / self.duration.as_secs_f64();
        // Bounded to 1..=99, so the cast cannot truncate.
        (Phase::InProgress, percent.clamp(1.0, 99.0) as u8)
    }

    /// When it completes (or completed).
    pub fn completed_at(&self) -> DateTime<Utc> {
        let duration = chrono::Duration::from_std(self.duration).unwrap_or(chrono::TimeDelta::MAX);
        self.initiated_at
            .checked_add_signed(duration)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// One tenant: its providers (the Qlik one first), which is current, and its last migration.
#[derive(Debug, Clone)]
pub struct TenantState {
    /// How it was configured.
    pub seed: TenantSeed,
    /// When the twin started hosting it.
    pub created: DateTime<Utc>,
    /// Its providers, the Qlik provider first.
    pub providers: Vec<Provider>,
    /// The current provider's fingerprint.
    pub current: String,
    /// The last migration, running or completed.
    pub migration: Option<Migration>,
    /// Whether the twin provisioned it on first use rather than from its config.
    pub provisioned: bool,
}

impl TenantState {
    fn new(seed: TenantSeed, now: DateTime<Utc>) -> TenantState {
        let qlik = Provider {
            fingerprint: seed.id.clone(),
            arn: QLIK_MANAGED_ARN.into(),
            name: "Qlik Internal Kms".into(),
            description: Some("Default key management service".into()),
            created_at: None,
            promoted_at: Some(now),
            demoted_at: None,
            key: None,
        };
        TenantState {
            current: seed.id.clone(),
            seed,
            created: now,
            providers: vec![qlik],
            migration: None,
            provisioned: false,
        }
    }

    /// A tenant provisioned on first use: it starts as a configured one does.
    pub(super) fn provisioned(seed: TenantSeed, now: DateTime<Utc>) -> TenantState {
        TenantState {
            provisioned: true,
            ..TenantState::new(seed, now)
        }
    }

    /// Applies a migration that has completed by `now`: its target becomes current.
    pub(super) fn settle(&mut self, now: Instant) {
        let Some(migration) = self.migration.as_mut() else {
            return;
        };
        if migration.applied || migration.phase(now).0 != Phase::Completed {
            return;
        }
        migration.applied = true;
        let at = migration.completed_at();
        let (from, to) = (self.current.clone(), migration.to_fingerprint.clone());
        for provider in &mut self.providers {
            if provider.fingerprint == from {
                provider.demoted_at = Some(at);
            } else if provider.fingerprint == to {
                provider.promoted_at = Some(at);
            }
        }
        self.current = to;
    }

    /// The provider with fingerprint `fingerprint`.
    pub fn provider(&self, fingerprint: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.fingerprint == fingerprint)
    }

    /// The provider with fingerprint `fingerprint`, to change.
    pub fn provider_mut(&mut self, fingerprint: &str) -> Option<&mut Provider> {
        self.providers
            .iter_mut()
            .find(|p| p.fingerprint == fingerprint)
    }

    /// The migration still running at `now`, if any.
    pub fn running_migration(&self, now: Instant) -> Option<&Migration> {
        self.migration
            .as_ref()
            .filter(|m| m.phase(now).0 != Phase::Completed)
    }

    /// Starts migrating to `target`, which must be a provider of this tenant, and returns the migration.
    pub fn start_migration(&mut self, target: &str, duration: Duration) -> Option<&Migration> {
        let to = self.provider(target)?;
        let from = self.provider(&self.current)?;
        let from_name = if from.is_qlik() {
            vault_name(&self.seed.id)
        } else {
            from.arn.clone()
        };
        let to_prefix = if to.is_qlik() {
            "v1:".to_string()
        } else {
            format!("#BYOKv1#:{}", to.fingerprint)
        };
        let migration = Migration {
            id: uuid::Uuid::now_v7().to_string(),
            from: from_name,
            to: to.arn.clone(),
            to_fingerprint: to.fingerprint.clone(),
            to_prefix,
            initiated_at: Utc::now(),
            started: Instant::now(),
            duration,
            applied: false,
        };
        Some(self.migration.insert(migration))
    }
}

/// The fingerprint of `arn` in tenant `tenant_id`: the first 128 bits of sha256(`tenant:arn`), in hex.
pub fn fingerprint(tenant_id: &str, arn: &str) -> String {
    hex(&sha256(&[format!("{tenant_id}:{arn}").as_bytes()])[..16])
}

/// The name of the Qlik vault key a tenant's cipher keys start under, shaped like the tutorial's
/// `v1:<id>:<material>`.
fn vault_name(tenant_id: &str) -> String {
    let digest = sha256(&[format!("qlik-vault:{tenant_id}").as_bytes()]);
    let id = hex(&digest[..16]);
    let material = base64::engine::general_purpose::STANDARD.encode(sha256(&[&digest]));
    format!("v1:{id}:{material}")
}
