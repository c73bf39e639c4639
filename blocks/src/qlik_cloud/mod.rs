//! Qlik Cloud: the `qlik-cloud` connector and its Encryption API blocks, on reqwest.
//!
//! A connection names a tenant (`tenant_url`) and how to authenticate — an API key, OAuth client
//! credentials, or a qlik-cli context — falling back to `QLIK_SERVER` / `QLIK_API_KEY`. One client per
//! connection per run, shared by its steps, pacing calls at the tenant's rate tiers ([`client`]).

mod auth;
pub mod client;
mod context;
mod errors;
mod flow_check;
pub mod policy;
mod recovery;
pub mod regions;
pub mod sandbox;
pub mod shapes;

mod check_key_policy;
mod create_key_provider;
mod delete_key_provider;
mod get_key_provider;
mod get_migration_details;
mod get_tenant_info;
mod list_key_providers;
mod request;
mod reset_to_qlik_provider;
mod trigger_migration;
mod update_key_provider;
mod validate_key_provider;

pub use check_key_policy::CheckKeyPolicy;
pub use create_key_provider::CreateKeyProvider;
pub use delete_key_provider::DeleteKeyProvider;
pub use flow_check::KeyPolicyForQlik;
pub use get_key_provider::GetKeyProvider;
pub use get_migration_details::GetMigrationDetails;
pub use get_tenant_info::GetTenantInfo;
pub use list_key_providers::ListKeyProviders;
pub use request::Request;
pub use reset_to_qlik_provider::ResetToQlikProvider;
pub use trigger_migration::TriggerMigration;
pub use update_key_provider::UpdateKeyProvider;
pub use validate_key_provider::ValidateKeyProvider;

use keyflow_engine::block::{BlockContext, BlockError, Connector, ConnectorSpec};
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;

use auth::Auth;
use client::{QlikClient, Tiers};

/// The connector id flows write: `connector: qlik-cloud`.
pub const CONNECTOR: &str = "qlik-cloud";

/// The `qlik-cloud` connector.
pub struct QlikCloud;

/// Settings of a `qlik-cloud` connection. Without `tenant_url` and credentials, the qlik-cli context
/// named by `context` (or the current one) and then `QLIK_SERVER` / `QLIK_API_KEY` are used.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QlikCloudSettings {
    /// The tenant: `https://<tenant>.<region>.qlikcloud.com` (or an alias hostname).
    #[serde(default)]
    pub tenant_url: Option<String>,
    /// An API key (hub → profile → API keys), as `{ env: QLIK_API_KEY }` or `{ file: PATH }`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub api_key: Option<SecretString>,
    /// The client id of an OAuth machine-to-machine client, instead of an API key.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Its client secret, as `{ env: … }` or `{ file: … }`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub client_secret: Option<SecretString>,
    /// A qlik-cli context of `~/.qlik/contexts.yml` (or `$QLIK_CLI_USER_HOME_DIR/contexts.yml`) by name.
    #[serde(default)]
    pub context: Option<String>,
    /// Calls per minute over Qlik's rate tiers (default: reads 1000, writes 100 per tenant).
    #[serde(default)]
    pub rate_limits: Option<Tiers>,
}

impl Connector for QlikCloud {
    type Settings = QlikCloudSettings;
    type Client = QlikClient;

    fn spec(&self) -> ConnectorSpec {
        ConnectorSpec {
            id: CONNECTOR,
            title: "Qlik Cloud",
            description: "One Qlik Cloud tenant's Encryption and Tenants APIs, with an API key or OAuth client \
                          credentials (or a qlik-cli context, or QLIK_SERVER / QLIK_API_KEY).",
            secret_settings: &["api_key", "client_secret"],
        }
    }

    async fn connect(&self, settings: QlikCloudSettings) -> Result<QlikClient, BlockError> {
        let found = context::find(&settings)?;
        let auth = match (found.api_key, settings.client_id, settings.client_secret) {
            (Some(key), _, _) => Auth::api_key(key)?,
            (None, Some(id), Some(secret)) => Auth::oauth(id, secret),
            (None, Some(_), None) => {
                return Err(BlockError::fatal(
                    "NoCredentials",
                    "`client_id` is given without `client_secret`: add `client_secret: { env: … }`",
                ));
            }
            (None, None, _) => {
                return Err(BlockError::fatal(
                    "NoCredentials",
                    "no Qlik Cloud credentials: give the connection `api_key: { env: QLIK_API_KEY }` or \
                     `client_id` and `client_secret`, name a qlik-cli `context`, or set QLIK_API_KEY",
                ));
            }
        };
        QlikClient::new(
            &found.tenant_url,
            auth,
            settings.rate_limits.unwrap_or_default(),
        )
    }

    /// The API key found in the environment or a qlik-cli context, the client secret, and credentials
    /// inside the tenant's URL: every one of them is masked by the run, whatever its source.
    fn secrets(&self, client: &QlikClient) -> Vec<String> {
        client.secrets()
    }

    /// The twin's URL and the API key of the tenant the connection names ([`sandbox::QlikTwin`], see
    /// [`sandbox::settings`]) replace the tenant and credentials.
    fn sandbox(
        &self,
        settings: QlikCloudSettings,
        twin: &serde_json::Value,
    ) -> Result<QlikCloudSettings, BlockError> {
        sandbox::settings(settings, twin)
    }
}

/// The Qlik client of the step's connection.
pub fn client(ctx: &BlockContext) -> Result<&QlikClient, BlockError> {
    ctx.client::<QlikClient>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_holding_secrets_do_not_print_them() {
        let settings: QlikCloudSettings = serde_json::from_value(serde_json::json!({
            "tenant_url": "https://acme.eu.qlikcloud.com",
            "api_key": "eyJ-debug-canary-key",
            "client_secret": "debug-canary-secret",
        }))
        .expect("settings");
        let printed = format!("{settings:?}");
        assert!(printed.contains("acme.eu.qlikcloud.com"), "{printed}");
        assert!(!printed.contains("canary"), "{printed}");
    }
}
