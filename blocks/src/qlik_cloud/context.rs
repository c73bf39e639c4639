//! Where a connection's tenant and API key come from when the flow does not give them: a qlik-cli context
//! (`~/.qlik/contexts.yml`, or under `QLIK_CLI_USER_HOME_DIR`), then `QLIK_SERVER` / `QLIK_API_KEY`.

use std::path::PathBuf;

use indexmap::IndexMap;
use keyflow_engine::block::BlockError;
use secrecy::SecretString;
use serde::Deserialize;

use super::QlikCloudSettings;

/// The tenant and API key a connection uses.
pub struct Found {
    /// The tenant's URL.
    pub tenant_url: String,
    /// The API key, unless OAuth is used.
    pub api_key: Option<ApiKey>,
}

/// An API key and where it came from, for errors about it (which never quote it).
pub struct ApiKey {
    /// The key.
    pub key: SecretString,
    /// Where it was read: "the connection's `api_key`", "qlik-cli context `prod` of …", "QLIK_API_KEY".
    pub from: String,
}

#[derive(Deserialize)]
struct Contexts {
    #[serde(rename = "current-context", default)]
    current: Option<String>,
    #[serde(default)]
    contexts: IndexMap<String, Context>,
}

#[derive(Deserialize)]
struct Context {
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    headers: IndexMap<String, String>,
}

/// Settings first, then a qlik-cli context (the one named, or the current one when the flow names
/// neither a tenant nor a context), then the environment.
pub fn find(settings: &QlikCloudSettings) -> Result<Found, BlockError> {
    let mut tenant_url = settings.tenant_url.clone();
    let mut api_key = settings.api_key.clone().map(|key| ApiKey {
        key,
        from: "the connection's `api_key`".into(),
    });
    let oauth = settings.client_id.is_some();
    let wanted = settings.context.clone();
    if (wanted.is_some() || tenant_url.is_none())
        && let Some(context) = from_context(wanted.as_deref())?
    {
        tenant_url = tenant_url.or(context.server);
        if !oauth {
            api_key = api_key.or(context.api_key);
        }
    }
    let tenant_url = tenant_url.or_else(|| env("QLIK_SERVER")).ok_or_else(|| {
        BlockError::fatal(
            "NoTenant",
            "no Qlik Cloud tenant: give the connection `tenant_url: https://<tenant>.<region>.qlikcloud.com`, \
             name a qlik-cli `context`, or set QLIK_SERVER",
        )
    })?;
    if !oauth {
        api_key = api_key.or_else(|| {
            env("QLIK_API_KEY").map(|key| ApiKey {
                key: key.into(),
                from: "QLIK_API_KEY".into(),
            })
        });
    }
    Ok(Found {
        tenant_url,
        api_key,
    })
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn contexts_file() -> Option<PathBuf> {
    if let Some(dir) = env("QLIK_CLI_USER_HOME_DIR") {
        return Some(PathBuf::from(dir).join("contexts.yml"));
    }
    env("HOME")
        .or_else(|| env("USERPROFILE"))
        .map(|home| PathBuf::from(home).join(".qlik").join("contexts.yml"))
}

/// What a qlik-cli context gives: its server and the API key of its `Authorization` header.
struct FromContext {
    server: Option<String>,
    api_key: Option<ApiKey>,
}

/// The server and API key of context `name` (or of the current context when `name` is `None`).
/// A named context that does not exist is an error; a missing file without a name is not.
fn from_context(name: Option<&str>) -> Result<Option<FromContext>, BlockError> {
    let Some(path) = contexts_file() else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) if name.is_none() => return Ok(None),
        Err(e) => {
            return Err(BlockError::fatal(
                "NoContext",
                format!(
                    "qlik-cli context `{}`: cannot read {}: {}",
                    name.unwrap_or_default(),
                    path.display(),
                    e.kind()
                ),
            ));
        }
    };
    // serde's message quotes the value it could not read, and this file holds API keys: say where only.
    let contexts: Contexts = serde_yaml::from_str(&text).map_err(|e| {
        let at = e
            .location()
            .map(|at| format!(" at line {}, column {}", at.line(), at.column()))
            .unwrap_or_default();
        BlockError::fatal(
            "NoContext",
            format!(
                "{} is not a qlik-cli contexts file: something{at} is not where or what qlik-cli writes \
                 (`contexts: {{ NAME: {{ server: URL, headers: {{ Authorization: Bearer KEY }} }} }}`)",
                path.display()
            ),
        )
    })?;
    let Some(wanted) = name.map(str::to_string).or(contexts.current) else {
        return Ok(None);
    };
    let Some(context) = contexts.contexts.get(&wanted) else {
        let known: Vec<&str> = contexts.contexts.keys().map(String::as_str).collect();
        return Err(BlockError::fatal(
            "NoContext",
            format!(
                "no qlik-cli context `{wanted}` in {} (it has: {})",
                path.display(),
                known.join(", ")
            ),
        ));
    };
    let key = context
        .headers
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, value)| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(|key| ApiKey {
            key: key.trim().into(),
            from: format!("qlik-cli context `{wanted}` of {}", path.display()),
        });
    Ok(Some(FromContext {
        server: context.server.clone(),
        api_key: key,
    }))
}
