//! What a sandbox run made: the keys, aliases, tenants, key providers and migrations that are new or
//! changed, shown after the run so that a rehearsal ends with the list of what production would have. A
//! run over hundreds of tenants stays readable: each line names its tenant when there is more than one,
//! and each list shows its first lines and counts the rest.

use std::collections::BTreeMap;

use keyflow_blocks::aws_kms::emulator::KeySummary;
use keyflow_blocks::qlik_cloud::emulator::{SavedTenant, TenantSeed};

use super::SavedSandbox;

/// How many lines of each list are shown; the rest are counted.
const SHOWN: usize = 10;

/// What changed between two states of the sandbox.
#[derive(Debug, Default)]
pub struct Created {
    /// Lines about keys: `created`, or the state they moved to.
    keys: Vec<String>,
    /// Lines about the tenants, their key providers and migrations.
    qlik: Vec<String>,
}

impl Created {
    /// The differences from `before` to `after`; `seed` is the seeded tenant.
    pub fn between(before: &SavedSandbox, after: &SavedSandbox, seed: &TenantSeed) -> Created {
        let mut tenants: Vec<&SavedTenant> = after.qlik.tenants.iter().collect();
        // The seeded tenant first, then the others by hostname.
        tenants.sort_by_key(|t| (t.id != seed.id, name(t)));
        let many = tenants.len() > 1;
        let mut qlik = Vec::new();
        for now in tenants {
            let was = before.qlik.tenants.iter().find(|t| t.id == now.id);
            qlik.extend(tenant_lines(was, now, many));
        }
        Created {
            keys: key_lines(before, after),
            qlik,
        }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.qlik.is_empty()
    }

    /// The lines to show: the first of the key lines, then the first of the tenant lines, each list's
    /// rest counted.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for list in [&self.keys, &self.qlik] {
            lines.extend(list.iter().take(SHOWN).cloned());
            if list.len() > SHOWN {
                lines.push(format!("… and {} more", list.len() - SHOWN));
            }
        }
        lines
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
fn key_lines(before: &SavedSandbox, after: &SavedSandbox) -> Vec<String> {
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
            Some(was) if was.key_state != key.key_state || was.aliases != key.aliases => {
                keys.push(format!(
                    "changed key {}{aliases}: {} → {}",
                    key.arn, was.key_state, key.key_state
                ))
            }
            Some(_) => {}
        }
    }
    keys
}

/// What changed in one tenant since `was` (`None`: the run provisioned it); with `many` tenants, each
/// line says which.
fn tenant_lines(was: Option<&SavedTenant>, now: &SavedTenant, many: bool) -> Vec<String> {
    let tenant = name(now);
    let mut lines = Vec::new();
    if let (None, Some(seed)) = (was, &now.provisioned) {
        lines.push(format!(
            "new tenant {tenant} ({}) in {}",
            now.id, seed.datacenter
        ));
    }
    let had = |fingerprint: &str| {
        was.is_some_and(|w| w.providers.iter().any(|p| p.fingerprint == fingerprint))
    };
    for provider in now.providers.iter().filter(|p| !had(&p.fingerprint)) {
        // A new tenant's Qlik provider was there from the start.
        if was.is_none() && provider.fingerprint == now.id {
            continue;
        }
        lines.push(format!(
            "registered key provider {} ({}) for {}",
            provider.fingerprint, provider.name, provider.arn
        ));
    }
    let removed = was
        .iter()
        .flat_map(|w| &w.providers)
        .filter(|p| !now.providers.iter().any(|n| n.fingerprint == p.fingerprint));
    for provider in removed {
        lines.push(format!("deleted key provider {}", provider.fingerprint));
    }
    let old_migration = was.and_then(|w| w.migration.as_ref()).map(|m| &m.id);
    if let Some(migration) = now
        .migration
        .as_ref()
        .filter(|m| Some(&m.id) != old_migration)
    {
        lines.push(format!("migration {} to {}", migration.id, migration.to));
    }
    let was_current = was.map_or(now.id.as_str(), |w| w.current.as_str());
    if was_current != now.current {
        let arn = now
            .providers
            .iter()
            .find(|p| p.fingerprint == now.current)
            .map_or(now.current.as_str(), |p| p.arn.as_str());
        lines.push(format!("tenant {tenant} now encrypts with {arn}"));
    }
    if many {
        for line in &mut lines {
            if !line.starts_with("new tenant") && !line.starts_with("tenant ") {
                *line = format!("{tenant}: {line}");
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use keyflow_blocks::qlik_cloud::emulator::SavedState;
    use serde_json::{Value, json};

    use super::*;

    const SEED: &str = "KeyflowSandboxTenant000000000001";

    fn seed() -> TenantSeed {
        TenantSeed {
            id: SEED.into(),
            name: "sandbox".into(),
            hostname: "sandbox.eu.qlikcloud.com".into(),
            region: "eu".into(),
            datacenter: "eu-west-1".into(),
        }
    }

    fn provider(fingerprint: &str, arn: &str) -> Value {
        json!({
            "fingerprint": fingerprint, "arn": arn, "name": "n", "description": null,
            "created_at": null, "promoted_at": null, "demoted_at": null, "key": null,
        })
    }

    /// A tenant as a state file keeps it: `id`, provisioned as `hostname` when given, with the Qlik
    /// provider and the AWS keys `arns`, the last of them current when `byok`.
    fn tenant(id: &str, hostname: Option<&str>, arns: &[&str], byok: bool) -> Value {
        let mut providers = vec![provider(id, "#QLIK_MANAGED_KEY_PROVIDER#")];
        providers.extend(arns.iter().map(|arn| provider(&format!("fp-{arn}"), arn)));
        let current = match arns.last() {
            Some(arn) if byok => format!("fp-{arn}"),
            _ => id.to_string(),
        };
        let provisioned = hostname.map(
            |h| json!({"name": "n", "hostname": h, "region": "us", "datacenter": "us-east-1"}),
        );
        json!({"id": id, "providers": providers, "current": current, "migration": null,
               "provisioned": provisioned})
    }

    fn sandbox(tenants: Vec<Value>) -> SavedSandbox {
        let qlik: SavedState =
            serde_json::from_value(json!({ "tenants": tenants })).expect("a saved state");
        SavedSandbox {
            tenant_region: "eu-west-1".into(),
            qlik,
            ..SavedSandbox::default()
        }
    }

    #[test]
    fn with_one_tenant_the_lines_read_as_before() {
        let before = sandbox(vec![tenant(SEED, None, &[], false)]);
        let after = sandbox(vec![tenant(SEED, None, &["arn:k1"], true)]);
        assert_eq!(
            Created::between(&before, &after, &seed()).lines(),
            [
                "registered key provider fp-arn:k1 (n) for arn:k1".to_string(),
                format!("tenant {SEED} now encrypts with arn:k1"),
            ]
        );
    }

    #[test]
    fn with_many_tenants_each_line_says_which() {
        let before = sandbox(vec![tenant(SEED, None, &[], false)]);
        let after = sandbox(vec![
            tenant("id-b", Some("b.us.qlikcloud.com"), &["arn:b"], true),
            tenant(SEED, None, &["arn:s"], false),
            tenant("id-a", Some("a.us.qlikcloud.com"), &[], false),
        ]);
        assert_eq!(
            Created::between(&before, &after, &seed()).lines(),
            [
                format!("{SEED}: registered key provider fp-arn:s (n) for arn:s"),
                "new tenant a.us.qlikcloud.com (id-a) in us-east-1".to_string(),
                "new tenant b.us.qlikcloud.com (id-b) in us-east-1".to_string(),
                "b.us.qlikcloud.com: registered key provider fp-arn:b (n) for arn:b".to_string(),
                "tenant b.us.qlikcloud.com now encrypts with arn:b".to_string(),
            ]
        );
        // Nothing changed since: nothing to say.
        assert!(Created::between(&after, &after, &seed()).is_empty());
    }

    #[test]
    fn long_lists_show_their_first_lines_and_count_the_rest() {
        let before = sandbox(vec![tenant(SEED, None, &[], false)]);
        let mut tenants = vec![tenant(SEED, None, &[], false)];
        for n in 0..25 {
            let host = format!("t{n:02}.us.qlikcloud.com");
            tenants.push(tenant(&format!("id-{n}"), Some(&host), &["arn:k"], false));
        }
        let lines = Created::between(&before, &sandbox(tenants), &seed()).lines();
        assert_eq!(lines.len(), SHOWN + 1, "{lines:#?}");
        assert_eq!(
            lines[0],
            "new tenant t00.us.qlikcloud.com (id-0) in us-east-1"
        );
        assert_eq!(lines[SHOWN], "… and 40 more");
    }
}
