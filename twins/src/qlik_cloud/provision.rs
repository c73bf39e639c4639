//! Tenants hosted on first use: an API key made of a known prefix and a tenant's name
//! (`<prefix>acme.eu.qlikcloud.com`, or `<prefix>acme`) that the twin has not seen yet hosts that tenant,
//! so that a flow onboarding hundreds of tenants is rehearsed against one twin without listing them first.
//! Its id is derived from its hostname, so the same key finds the same tenant in every run.

use crate::digest::sha256;
use base64::Engine;

use super::TenantSeed;
use keyflow_blocks::qlik_cloud::regions;

/// The longest hostname DNS allows.
const MAX_HOSTNAME: usize = 253;
/// The longest label DNS allows.
const MAX_LABEL: usize = 63;

/// How the twin provisions tenants on first use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioning {
    /// What the API key of a provisioned tenant starts with; the rest names the tenant: its hostname
    /// (`acme.eu.qlikcloud.com`) or one label (`acme`, hosted as `acme.<region>.qlikcloud.com`), in
    /// lowercase.
    pub api_key_prefix: String,
    /// The Qlik region code of a tenant whose hostname carries no known one (`eu`).
    pub region: String,
    /// The AWS region such a tenant's data lives in (`eu-west-1`).
    pub datacenter: String,
}

impl Provisioning {
    /// The config's inconsistencies.
    pub(super) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.api_key_prefix.is_empty() {
            problems.push("the API key prefix of provisioned tenants is empty".to_string());
        }
        if regions::code(&self.datacenter) != Some(self.region.as_str()) {
            problems.push(format!(
                "provisioned tenants default to region `{}` in `{}`, which are not a Qlik region and its \
                 datacenter",
                self.region, self.datacenter
            ));
        }
        problems
    }

    /// The tenant `token` names, or `None` when it is not the prefix and a lowercase hostname or label.
    pub fn seed(&self, token: &str) -> Option<TenantSeed> {
        let name = token.strip_prefix(self.api_key_prefix.as_str())?;
        let hostname = if name.contains('.') {
            name.to_string()
        } else {
            format!("{name}.{}.qlikcloud.com", self.region)
        };
        if !is_hostname(&hostname) {
            return None;
        }
        let mut labels = hostname.split('.');
        let first = labels.next().unwrap_or_default().to_string();
        let code = labels.next().unwrap_or_default();
        let (region, datacenter) = match regions::by_code(code) {
            Some(datacenter) => (code.to_string(), datacenter.to_string()),
            None => (self.region.clone(), self.datacenter.clone()),
        };
        Some(TenantSeed {
            id: tenant_id(&hostname),
            name: first,
            hostname,
            region,
            datacenter,
        })
    }
}

/// Whether `name` is a lowercase DNS hostname: labels of 1–63 letters, digits and inner hyphens.
fn is_hostname(name: &str) -> bool {
    name.len() <= MAX_HOSTNAME
        && name.split('.').all(|label| {
            (1..=MAX_LABEL).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// A tenant id for `hostname`, shaped like Qlik's: 32 characters of base64url, from its SHA-256.
fn tenant_id(hostname: &str) -> String {
    let digest = sha256(&[format!("qlik-tenant:{hostname}").as_bytes()]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..24])
}

#[cfg(test)]
mod tests {
    use super::super::state::Twin;
    use super::*;

    fn provisioning() -> Provisioning {
        Provisioning {
            api_key_prefix: "tenant:".into(),
            region: "eu".into(),
            datacenter: "eu-west-1".into(),
        }
    }

    #[test]
    fn a_hostname_gives_its_region_and_a_stable_qlik_shaped_id() {
        let seed = provisioning().seed("tenant:b.us.qlikcloud.com").unwrap();
        assert_eq!(seed.hostname, "b.us.qlikcloud.com");
        assert_eq!(seed.name, "b");
        assert_eq!(
            (seed.region.as_str(), seed.datacenter.as_str()),
            ("us", "us-east-1")
        );
        assert_eq!(seed.id.len(), 32);
        assert!(
            seed.id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{}",
            seed.id
        );
        assert_eq!(
            provisioning().seed("tenant:b.us.qlikcloud.com"),
            Some(seed.clone())
        );
        let other = provisioning().seed("tenant:c.us.qlikcloud.com").unwrap();
        assert_ne!(other.id, seed.id);
    }

    #[test]
    fn a_bare_name_or_an_unknown_region_code_lives_in_the_default_region() {
        let bare = provisioning().seed("tenant:acme").unwrap();
        assert_eq!(bare.hostname, "acme.eu.qlikcloud.com");
        assert_eq!(bare.datacenter, "eu-west-1");
        let alias = provisioning().seed("tenant:analytics.acme.com").unwrap();
        assert_eq!(
            (alias.region.as_str(), alias.datacenter.as_str()),
            ("eu", "eu-west-1")
        );
        assert_eq!(alias.name, "analytics");
        let sweden = provisioning().seed("tenant:s.se.qlikcloud.com").unwrap();
        assert_eq!(sweden.datacenter, "eu-north-1");
    }

    #[test]
    fn other_tokens_provision_nothing() {
        for token in [
            "acme.eu.qlikcloud.com",
            "tenant:",
            "tenant:ACME",
            "tenant:a..b.com",
            "tenant:-a.eu.qlikcloud.com",
            "tenant:a b",
            "tenant:a_b",
            &format!("tenant:{}", "a".repeat(64)),
            &format!("tenant:{}.com", "a.".repeat(130)),
        ] {
            assert_eq!(provisioning().seed(token), None, "{token}");
        }
    }

    #[test]
    fn threads_racing_to_first_use_one_tenant_host_it_once() {
        let twin = Twin::new(super::super::EmulatorConfig {
            provisioning: Some(provisioning()),
            ..super::super::EmulatorConfig::default()
        });
        let start = std::sync::Barrier::new(16);
        let ids: Vec<String> = std::thread::scope(|scope| {
            let racers: Vec<_> = (0..16)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        twin.provision("tenant:same.us.qlikcloud.com")
                    })
                })
                .collect();
            racers
                .into_iter()
                .map(|racer| racer.join().unwrap().unwrap())
                .collect()
        });
        assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "{ids:?}");
        assert_eq!(twin.stats().tenants_provisioned, 1);
    }

    #[test]
    fn an_empty_prefix_or_a_foreign_default_region_is_a_problem() {
        assert!(provisioning().problems().is_empty());
        let wrong = Provisioning {
            api_key_prefix: String::new(),
            region: "us".into(),
            datacenter: "eu-west-1".into(),
        };
        assert_eq!(wrong.problems().len(), 2, "{:?}", wrong.problems());
    }
}
