//! What a sandbox run made: the keys, aliases, key providers and migrations that are new or changed, shown
//! after the run so that a rehearsal ends with the list of what production would have.

use std::collections::BTreeMap;

use keyflow_blocks::aws_kms::emulator::KeySummary;

use super::SavedSandbox;

/// What changed between two states of the sandbox.
#[derive(Debug, Default)]
pub struct Created {
    /// Lines about keys: `created`, or the state they moved to.
    pub keys: Vec<String>,
    /// Lines about the tenant's key providers and migrations.
    pub qlik: Vec<String>,
}

impl Created {
    /// The differences from `before` to `after` for `tenant`.
    pub fn between(before: &SavedSandbox, after: &SavedSandbox, tenant: &str) -> Created {
        let old: BTreeMap<String, KeySummary> = before
            .kms
            .summary()
            .into_iter()
            .map(|k| (format!("{}/{}", k.region, k.key_id), k))
            .collect();
        let mut keys = Vec::new();
        for key in after.kms.summary() {
            let aliases = if key.aliases.is_empty() {
                String::new()
            } else {
                format!(" ({})", key.aliases.join(", "))
            };
            match old.get(&format!("{}/{}", key.region, key.key_id)) {
                None => keys.push(format!(
                    "created key {}{aliases}: {}",
                    key.arn, key.key_state
                )),
                Some(was) if was.key_state != key.key_state || was.aliases != key.aliases => keys
                    .push(format!(
                        "changed key {}{aliases}: {} → {}",
                        key.arn, was.key_state, key.key_state
                    )),
                Some(_) => {}
            }
        }
        let find =
            |state: &SavedSandbox| state.qlik.tenants.iter().find(|t| t.id == tenant).cloned();
        let mut qlik = Vec::new();
        if let Some(now) = find(after) {
            let was = find(before);
            let had = |fingerprint: &str| {
                was.as_ref()
                    .is_some_and(|w| w.providers.iter().any(|p| p.fingerprint == fingerprint))
            };
            for provider in now.providers.iter().filter(|p| !had(&p.fingerprint)) {
                qlik.push(format!(
                    "registered key provider {} ({}) for {}",
                    provider.fingerprint, provider.name, provider.arn
                ));
            }
            let removed = was
                .iter()
                .flat_map(|w| &w.providers)
                .filter(|p| !now.providers.iter().any(|n| n.fingerprint == p.fingerprint));
            for provider in removed {
                qlik.push(format!("deleted key provider {}", provider.fingerprint));
            }
            let old_migration = was
                .as_ref()
                .and_then(|w| w.migration.as_ref())
                .map(|m| &m.id);
            if let Some(migration) = now
                .migration
                .as_ref()
                .filter(|m| Some(&m.id) != old_migration)
            {
                qlik.push(format!("migration {} to {}", migration.id, migration.to));
            }
            if was.as_ref().is_some_and(|w| w.current != now.current) {
                let arn = now
                    .providers
                    .iter()
                    .find(|p| p.fingerprint == now.current)
                    .map_or(now.current.as_str(), |p| p.arn.as_str());
                qlik.push(format!("tenant {tenant} now encrypts with {arn}"));
            }
        }
        Created { keys, qlik }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.qlik.is_empty()
    }
}
