//! What a state file keeps of the twin (see [`super::Running::snapshot`]): each tenant's providers and
//! last migration, and who the tenants provisioned on first use are, so that a later twin hosts them again.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::TenantSeed;
use super::model::{Migration, Provider, TenantState};
use super::state::Twin;
use crate::sync::lock;

impl Twin {
    /// Every tenant's providers and last migration, settled, to be restored by a later twin.
    pub fn snapshot(&self) -> SavedState {
        let now = Instant::now();
        let mut tenants: Vec<SavedTenant> = lock(&self.tenants)
            .values_mut()
            .map(|tenant| {
                tenant.settle(now);
                SavedTenant {
                    id: tenant.seed.id.clone(),
                    providers: tenant.providers.clone(),
                    current: tenant.current.clone(),
                    migration: tenant.migration.as_ref().map(SavedMigration::from),
                    provisioned: tenant.provisioned.then(|| SavedSeed::of(&tenant.seed)),
                }
            })
            .collect();
        tenants.sort_by(|a, b| a.id.cmp(&b.id));
        SavedState { tenants }
    }

    /// Puts back what [`Twin::snapshot`] saved, for the tenants this twin hosts and the ones provisioned
    /// on first use (others are left out).
    pub fn restore(&self, state: SavedState) {
        let mut tenants = lock(&self.tenants);
        let now = Utc::now();
        for saved in state.tenants {
            if let Some(seed) = saved.provisioned
                && !tenants.contains_key(&saved.id)
            {
                let tenant = TenantState::provisioned(seed.into_seed(saved.id.clone()), now);
                tenants.insert(saved.id.clone(), tenant);
            }
            if let Some(tenant) = tenants.get_mut(&saved.id) {
                tenant.providers = saved.providers;
                tenant.current = saved.current;
                tenant.migration = saved.migration.map(Migration::from);
            }
        }
    }
}

/// A migration as a state file keeps it: the clock it runs on is rebuilt from `initiated_at`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SavedMigration {
    /// `migrationId`.
    pub id: String,
    /// The ARN (or Qlik vault name) migrated from.
    pub from: String,
    /// The ARN migrated to.
    pub to: String,
    /// The target's fingerprint.
    pub to_fingerprint: String,
    to_prefix: String,
    initiated_at: DateTime<Utc>,
    duration_ms: u64,
    applied: bool,
}

impl SavedMigration {
    /// Its state now (`New`, `InProgress`, `Completed`) and progress (0–100), as the twin's API answers
    /// them.
    pub fn phase(&self) -> (&'static str, u8) {
        let (phase, progress) = Migration::from(self.clone()).phase(Instant::now());
        (phase.name(), progress)
    }
}

impl From<&Migration> for SavedMigration {
    fn from(m: &Migration) -> SavedMigration {
        SavedMigration {
            id: m.id.clone(),
            from: m.from.clone(),
            to: m.to.clone(),
            to_fingerprint: m.to_fingerprint.clone(),
            to_prefix: m.to_prefix.clone(),
            initiated_at: m.initiated_at,
            duration_ms: u64::try_from(m.duration.as_millis()).unwrap_or(u64::MAX),
            applied: m.applied,
        }
    }
}

impl From<SavedMigration> for Migration {
    fn from(m: SavedMigration) -> Migration {
        // The time it has already run, by the wall clock, carried over to this process's monotonic one.
        let ran = (Utc::now() - m.initiated_at).to_std().unwrap_or_default();
        let now = Instant::now();
        Migration {
            id: m.id,
            from: m.from,
            to: m.to,
            to_fingerprint: m.to_fingerprint,
            to_prefix: m.to_prefix,
            initiated_at: m.initiated_at,
            started: now.checked_sub(ran).unwrap_or(now),
            duration: Duration::from_millis(m.duration_ms),
            applied: m.applied,
        }
    }
}

/// A tenant's providers and migration as a state file keeps them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SavedTenant {
    /// The tenant's id.
    pub id: String,
    /// Its providers, the Qlik provider first.
    pub providers: Vec<Provider>,
    /// The current provider's fingerprint.
    pub current: String,
    /// Its last migration.
    pub migration: Option<SavedMigration>,
    /// Who it is, when the twin provisioned it on first use (the configured tenants are the config's);
    /// absent from files written before tenants were provisioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<SavedSeed>,
}

/// The twin's tenants as a state file keeps them (see [`super::Running::snapshot`]).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SavedState {
    /// Each tenant's providers and last migration.
    pub tenants: Vec<SavedTenant>,
}

/// A tenant provisioned on first use as a state file keeps it: its seed but the id, which
/// [`SavedTenant`] holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedSeed {
    /// Its display name.
    pub name: String,
    /// Its hostname.
    pub hostname: String,
    /// Its Qlik region code.
    pub region: String,
    /// The AWS region its data lives in.
    pub datacenter: String,
}

impl SavedSeed {
    /// What a state file keeps of `seed`.
    pub fn of(seed: &TenantSeed) -> SavedSeed {
        SavedSeed {
            name: seed.name.clone(),
            hostname: seed.hostname.clone(),
            region: seed.region.clone(),
            datacenter: seed.datacenter.clone(),
        }
    }

    /// The seed of tenant `id`.
    pub fn into_seed(self, id: String) -> TenantSeed {
        TenantSeed {
            id,
            name: self.name,
            hostname: self.hostname,
            region: self.region,
            datacenter: self.datacenter,
        }
    }
}
