//! What the Qlik twin holds, as plain data: tenants with their key providers and last migration, the facts
//! of a key, the compliance errors Qlik reports. Nothing here serves a request or calls a peer.

use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, Utc};

use super::TenantSeed;
use crate::digest::{hex, sha256};

/// The ARN Qlik shows for its own key provider.
pub const QLIK_MANAGED_ARN: &str = "#QLIK_MANAGED_KEY_PROVIDER#";

/// `complianceError.code` of a policy that does not let Qlik in (seen in Qlik's examples).
pub const POLICY_CODE: &str = "Encryption-88";
/// `complianceError.code` of a key the twin could not read.
pub const ACCESS_CODE: &str = "Encryption-86";
/// `complianceError.code` of a key Qlik cannot use (type, usage, state, region).
pub const KEY_CODE: &str = "Encryption-87";
/// `complianceError.code` of a key without its replica in the DR region.
pub const REPLICA_CODE: &str = "Encryption-89";

/// Why a key cannot be used.
#[derive(Debug)]
pub enum Refusal {
    /// The peer did not answer (408).
    Unreachable(String),
    /// The key is missing or its policy keeps Qlik out (403).
    Forbidden(String),
    /// The key is of the wrong kind, state or region (406).
    Unusable(String),
    /// The key policy keeps Qlik out in `region` (403 on create): it lacks what Qlik needs, or it
    /// refused Qlik's proxy role a call.
    Policy {
        /// The region whose key policy was read or used.
        region: String,
        /// What it lacks or refused, in Qlik's words first.
        message: String,
    },
}

impl Refusal {
    /// The refusal as a sentence, for `detail`.
    pub fn detail(&self) -> String {
        match self {
            Refusal::Unreachable(why)
            | Refusal::Forbidden(why)
            | Refusal::Unusable(why)
            | Refusal::Policy { message: why, .. } => why.clone(),
        }
    }

    /// The refusal as a `complianceError` for `region`.
    pub fn compliance(&self, region: &str) -> ComplianceError {
        let (code, region) = match self {
            Refusal::Unreachable(_) | Refusal::Forbidden(_) => (ACCESS_CODE, region),
            Refusal::Unusable(_) => (KEY_CODE, region),
            Refusal::Policy { region, .. } => (POLICY_CODE, region.as_str()),
        };
        ComplianceError {
            code: code.into(),
            region: region.into(),
            message: self.detail(),
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

impl Phase {
    /// The name Qlik's API gives it (`InProgress`).
    pub fn name(self) -> &'static str {
        match self {
            Phase::New => "New",
            Phase::InProgress => "InProgress",
            Phase::Completed => "Completed",
        }
    }
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
    /// A tenant as configured: on the Qlik provider, no migration.
    pub fn new(seed: TenantSeed, now: DateTime<Utc>) -> TenantState {
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
