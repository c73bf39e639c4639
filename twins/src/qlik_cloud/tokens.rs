//! The credentials the twin accepts: API keys and OAuth clients from its config, API keys of tenants
//! hosted on first use, and the access tokens it issued, each mapped to its tenant.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{EmulatorConfig, OAuthClient};

/// An issued access token.
#[derive(Debug)]
struct Issued {
    tenant: String,
    expires: Instant,
}

/// The credentials the twin accepts.
#[derive(Debug)]
pub struct Tokens {
    api_keys: HashMap<String, String>,
    clients: Vec<OAuthClient>,
    issued: HashMap<String, Issued>,
    /// How long an issued token is valid.
    pub ttl: Duration,
}

impl Tokens {
    /// The API keys and OAuth clients of `config` whose tenant it hosts.
    pub fn new(config: &EmulatorConfig) -> Tokens {
        let hosted = |tenant: &str| config.tenants.iter().any(|t| t.id == tenant);
        Tokens {
            api_keys: config
                .api_keys
                .iter()
                .filter(|(_, tenant)| hosted(tenant))
                .cloned()
                .collect(),
            clients: config
                .oauth_clients
                .iter()
                .filter(|c| hosted(&c.tenant_id))
                .cloned()
                .collect(),
            issued: HashMap::new(),
            ttl: config.token_ttl,
        }
    }

    /// The tenant `token` acts in at `now`; an expired access token is forgotten.
    pub fn tenant_of(&mut self, token: &str, now: Instant) -> Option<String> {
        if let Some(tenant) = self.api_keys.get(token) {
            return Some(tenant.clone());
        }
        let issued = self.issued.get(token)?;
        if now >= issued.expires {
            self.issued.remove(token);
            return None;
        }
        Some(issued.tenant.clone())
    }

    /// Accepts `key` as an API key of `tenant` from now on.
    pub fn add_api_key(&mut self, key: &str, tenant: &str) {
        self.api_keys.insert(key.to_string(), tenant.to_string());
    }

    /// Forgets every issued access token, as a tenant admin revoking a client's sessions would: the next
    /// call with one gets 401. API keys stay valid.
    pub fn revoke(&mut self) {
        self.issued.clear();
    }

    /// A new access token for the client, or `None` when the id or secret is wrong.
    pub fn issue(&mut self, client_id: &str, secret: &str, now: Instant) -> Option<String> {
        let client = self
            .clients
            .iter()
            .find(|c| c.client_id == client_id && c.client_secret == secret)?;
        let token = format!(
            "qtw_{}{}",
            uuid::Uuid::now_v7().simple(),
            uuid::Uuid::now_v7().simple()
        );
        let issued = Issued {
            tenant: client.tenant_id.clone(),
            expires: now + self.ttl,
        };
        self.issued.insert(token.clone(), issued);
        Some(token)
    }
}
