//! What a sandbox run made: the keys, aliases, tenants, key providers and migrations that are new or
//! changed, as data the CLI renders after the run, so that a rehearsal ends with the list of what
//! production would have.

use std::collections::BTreeMap;

use super::SavedSandbox;
use crate::aws_kms::KeySummary;
use crate::qlik_cloud::{SavedTenant, TenantSeed};

/// What changed between two states of the sandbox: keys first, then tenants (the seeded one first,
/// then the others by name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Created {
    /// Keys created or changed.
    pub keys: Vec<KeyChange>,
    /// What happened in the tenants.
    pub tenants: Vec<Change>,
    /// Whether the sandbox holds more than one tenant (then each tenant's change says which).
    pub many_tenants: bool,
}

/// A key created, or one whose state or aliases changed.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyChange {
    /// Its ARN.
    pub arn: String,
    /// The names of its aliases now.
    pub aliases: Vec<String>,
    /// Its state before (`None`: the run created it).
    pub was: Option<&'static str>,
    /// Its state now (`Enabled`).
    pub state: &'static str,
}

/// Something that happened in one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The tenant: its hostname when the twin provisioned it, else its id.
    pub tenant: String,
    /// What happened.
    pub what: TenantChange,
}

/// What happened in a tenant.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantChange {
    /// The twin hosted the tenant on first use.
    New {
        /// Its id.
        id: String,
        /// Its `datacenter`.
        datacenter: String,
    },
    /// A key provider was registered.
    Registered {
        /// Its fingerprint.
        fingerprint: String,
        /// Its name.
        name: String,
        /// The key's ARN.
        arn: String,
    },
    /// A key provider was deleted.
    Deleted {
        /// Its fingerprint.
        fingerprint: String,
    },
    /// A migration started.
    Migration {
        /// Its id.
        id: String,
        /// The fingerprint of the provider it migrates to.
        to: String,
    },
    /// The tenant now encrypts with another key.
    EncryptsWith {
        /// The key's ARN (`#QLIK_MANAGED_KEY_PROVIDER#` for Qlik's own), or the provider's fingerprint
        /// when it is gone.
        arn: String,
    },
}

impl Created {
    /// The differences from `before` to `after`; `seed` is the seeded tenant.
    pub fn between(before: &SavedSandbox, after: &SavedSandbox, seed: &TenantSeed) -> Created {
        let mut tenants: Vec<&SavedTenant> = after.qlik.tenants.iter().collect();
        // The seeded tenant first, then the others by hostname.
        tenants.sort_by_key(|t| (t.id != seed.id, name(t)));
        let many_tenants = tenants.len() > 1;
        let mut changes = Vec::new();
        for now in tenants {
            let was = before.qlik.tenants.iter().find(|t| t.id == now.id);
            changes.extend(tenant_changes(was, now));
        }
        Created {
            keys: key_changes(before, after),
            tenants: changes,
            many_tenants,
        }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.tenants.is_empty()
    }
}

/// What a tenant is called: its hostname when the twin provisioned it, else its id.
fn name(tenant: &SavedTenant) -> &str {
    tenant
        .provisioned
        .as_ref()
        .map_or(tenant.id.as_str(), |seed| seed.hostname.as_str())
}

/// Keys created, and keys whose state or aliases changed.
fn key_changes(before: &SavedSandbox, after: &SavedSandbox) -> Vec<KeyChange> {
    let old: BTreeMap<String, KeySummary> = before
        .kms
        .summary()
        .into_iter()
        .map(|k| (format!("{}/{}", k.region, k.key_id), k))
        .collect();
    let mut keys = Vec::new();
    for key in after.kms.summary() {
        let was = match old.get(&format!("{}/{}", key.region, key.key_id)) {
            None => None,
            Some(was) if was.key_state != key.key_state || was.aliases != key.aliases => {
                Some(was.key_state)
            }
            Some(_) => continue,
        };
        keys.push(KeyChange {
            arn: key.arn,
            aliases: key.aliases,
            was,
            state: key.key_state,
        });
    }
    keys
}

/// What changed in one tenant since `was` (`None`: the run provisioned it).
fn tenant_changes(was: Option<&SavedTenant>, now: &SavedTenant) -> Vec<Change> {
    let mut changes = Vec::new();
    if let (None, Some(seed)) = (was, &now.provisioned) {
        changes.push(TenantChange::New {
            id: now.id.clone(),
            datacenter: seed.datacenter.clone(),
        });
    }
    let had = |fingerprint: &str| {
        was.is_some_and(|w| w.providers.iter().any(|p| p.fingerprint == fingerprint))
    };
    for provider in now.providers.iter().filter(|p| !had(&p.fingerprint)) {
        // A new tenant's Qlik provider was there from the start.
        if was.is_none() && provider.fingerprint == now.id {
            continue;
        }
        changes.push(TenantChange::Registered {
            fingerprint: provider.fingerprint.clone(),
            name: provider.name.clone(),
            arn: provider.arn.clone(),
        });
    }
    let removed = was
        .iter()
        .flat_map(|w| &w.providers)
        .filter(|p| !now.providers.iter().any(|n| n.fingerprint == p.fingerprint));
    for provider in removed {
        changes.push(TenantChange::Deleted {
            fingerprint: provider.fingerprint.clone(),
        });
    }
    let old_migration = was.and_then(|w| w.migration.as_ref()).map(|m| &m.id);
    if let Some(migration) = now
        .migration
        .as_ref()
        .filter(|m| Some(&m.id) != old_migration)
    {
        changes.push(TenantChange::Migration {
            id: migration.id.clone(),
            to: migration.to.clone(),
        });
    }
    let was_current = was.map_or(now.id.as_str(), |w| w.current.as_str());
    if was_current != now.current {
        let arn = now
            .providers
            .iter()
            .find(|p| p.fingerprint == now.current)
            .map_or(now.current.as_str(), |p| p.arn.as_str());
        changes.push(TenantChange::EncryptsWith { arn: arn.into() });
    }
    let tenant = name(now);
    changes
        .into_iter()
        .map(|what| Change {
            tenant: tenant.to_string(),
            what,
        })
        .collect()
}
