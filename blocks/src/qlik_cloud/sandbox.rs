//! Where a `qlik-cloud` connection lands under `--sandbox`: the twin's URL, and the API key of the tenant
//! the connection names — its `tenant_url`'s host, or its `context` — when the twin provisions tenants on
//! first use; the seeded tenant's key otherwise. So every distinct tenant a flow connects to is its own
//! tenant in the twin, while a connection that names none (or names it through a secret, which the sandbox
//! never reads) stays on the seed.

use keyflow_engine::block::BlockError;
use keyflow_engine::exec::sandbox::TwinDescription;
use serde::{Deserialize, Serialize};

use super::{CONNECTOR, QlikCloudSettings};

/// What the Qlik Cloud twin tells a `qlik-cloud` connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QlikTwin {
    /// The twin's URL, which serves every tenant.
    pub tenant_url: String,
    /// The seeded tenant's API key.
    pub api_key: String,
    /// When the twin hosts a tenant on first use: what the API key of any other tenant starts with,
    /// followed by the tenant's name.
    #[serde(default)]
    pub tenant_api_key_prefix: Option<String>,
}

impl TwinDescription for QlikTwin {
    const CONNECTOR: &'static str = CONNECTOR;
    const TWIN: &'static str = "the Qlik Cloud twin";
}

/// `settings` pointed at the twin described by `twin` ([`QlikTwin`]). Contexts and OAuth clients are not
/// used; rate limits stay as the flow sets them.
pub fn settings(
    settings: QlikCloudSettings,
    twin: &serde_json::Value,
) -> Result<QlikCloudSettings, BlockError> {
    let twin = QlikTwin::read(twin)?;
    let api_key = match (twin.tenant_api_key_prefix, tenant_name(&settings)?) {
        (Some(prefix), Some(name)) => format!("{prefix}{name}"),
        _ => twin.api_key,
    };
    Ok(QlikCloudSettings {
        tenant_url: Some(twin.tenant_url),
        api_key: Some(api_key.into()),
        client_id: None,
        client_secret: None,
        context: None,
        rate_limits: settings.rate_limits,
    })
}

/// The tenant a connection names: the lowercase host of its `tenant_url` (no scheme, port or path), else
/// its `context` as a hostname label (lowercase, anything but letters, digits and dots made a hyphen), else
/// none. A `tenant_url` that is not a URL is refused, as outside the sandbox.
fn tenant_name(settings: &QlikCloudSettings) -> Result<Option<String>, BlockError> {
    if let Some(url) = settings.tenant_url.as_deref() {
        let url = super::client::normalize(url)?;
        let host = reqwest::Url::parse(&url)
            .ok()
            .and_then(|parsed| parsed.host_str().map(str::to_ascii_lowercase));
        return Ok(host);
    }
    let label = settings.context.as_deref().map(|context| {
        let label: String = context
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| match c {
                'a'..='z' | '0'..='9' | '.' => c,
                _ => '-',
            })
            .collect();
        label.trim_matches(['-', '.']).to_string()
    });
    Ok(label.filter(|label| !label.is_empty()))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;
    use serde_json::json;

    use super::*;

    fn twin() -> serde_json::Value {
        json!({
            "tenant_url": "http://127.0.0.1:9",
            "api_key": "seeded",
            "tenant_api_key_prefix": "tenant:",
        })
    }

    fn key_of(given: QlikCloudSettings, twin: &serde_json::Value) -> String {
        let sandboxed = settings(given, twin).unwrap();
        assert_eq!(sandboxed.tenant_url.as_deref(), Some("http://127.0.0.1:9"));
        sandboxed.api_key.unwrap().expose_secret().to_string()
    }

    fn url(tenant_url: &str) -> QlikCloudSettings {
        QlikCloudSettings {
            tenant_url: Some(tenant_url.into()),
            ..QlikCloudSettings::default()
        }
    }

    fn context(name: &str) -> QlikCloudSettings {
        QlikCloudSettings {
            context: Some(name.into()),
            ..QlikCloudSettings::default()
        }
    }

    #[test]
    fn a_tenant_url_names_its_host_whatever_its_scheme_port_path_or_case() {
        for given in [
            "https://a.eu.qlikcloud.com",
            "HTTPS://A.EU.QlikCloud.com:443/hub/",
            "a.eu.qlikcloud.com",
            "http://a.eu.qlikcloud.com:8080/api/v1",
        ] {
            assert_eq!(
                key_of(url(given), &twin()),
                "tenant:a.eu.qlikcloud.com",
                "{given}"
            );
        }
    }

    #[test]
    fn a_context_names_a_label_and_the_url_wins_over_it() {
        assert_eq!(key_of(context("Acme_Prod "), &twin()), "tenant:acme-prod");
        let both = QlikCloudSettings {
            context: Some("acme".into()),
            ..url("https://b.us.qlikcloud.com")
        };
        assert_eq!(key_of(both, &twin()), "tenant:b.us.qlikcloud.com");
        assert_eq!(key_of(context("__"), &twin()), "seeded");
    }

    #[test]
    fn no_tenant_or_no_prefix_means_the_seeded_tenant() {
        assert_eq!(key_of(QlikCloudSettings::default(), &twin()), "seeded");
        let seed_only = json!({ "tenant_url": "http://127.0.0.1:9", "api_key": "seeded" });
        assert_eq!(
            key_of(url("https://a.eu.qlikcloud.com"), &seed_only),
            "seeded"
        );
    }

    #[test]
    fn credentials_are_replaced_and_a_bad_url_or_twin_is_refused() {
        let given = QlikCloudSettings {
            api_key: Some("real".into()),
            client_id: Some("id".into()),
            client_secret: Some("secret".into()),
            ..url("https://a.eu.qlikcloud.com")
        };
        let sandboxed = settings(given, &twin()).unwrap();
        assert!(sandboxed.client_id.is_none() && sandboxed.client_secret.is_none());
        assert_eq!(
            settings(url("https://"), &twin()).unwrap_err().code,
            "InvalidTenantUrl"
        );
        let error = settings(QlikCloudSettings::default(), &json!({})).unwrap_err();
        assert!(
            error
                .message
                .contains("the Qlik Cloud twin is not described"),
            "{}",
            error.message
        );
    }
}
