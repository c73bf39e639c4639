//! Connections at run time: built when a step first needs one, and shared by its steps.
//!
//! A client is built once per distinct connector and settings for the whole run, templates' runs
//! included: the templates of 400 tenants in one region share one AWS KMS client (and so its rate limits,
//! as AWS counts quotas per account and region), while each tenant's Qlik Cloud connection is its own.
//! Secret settings (`{ env: NAME }`, `{ file: PATH }`) are read here, at first use, never at load, and
//! never in the sandbox; errors name the variable or file, never the value. What is masked is what the
//! connector says is secret: its secret settings, credentials inside URLs, and the secrets its client
//! found on its own ([`crate::block::Connector::secrets`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::sandbox::Sandbox;
use crate::block::BlockError;
use crate::block::erased::Client;
use crate::expr::{Scope, StepEntries};
use crate::model::SecretSource;
use crate::plan::{Plan, PlannedConnection, Setting};
use crate::redact::Secrets;

type Cell = Arc<OnceCell<Result<Client, BlockError>>>;

/// The clients of a run and of the templates it runs, by connector and settings.
#[derive(Default)]
struct Clients {
    cells: Mutex<HashMap<String, Cell>>,
}

impl Clients {
    fn cell(&self, key: String) -> Cell {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        cells.entry(key).or_default().clone()
    }
}

/// The connections of one run.
pub(crate) struct Connections {
    declared: IndexMap<String, PlannedConnection>,
    clients: Arc<Clients>,
    sandbox: Option<Arc<Sandbox>>,
}

impl Connections {
    pub fn new(plan: &Plan, sandbox: Option<Arc<Sandbox>>) -> Connections {
        Connections {
            declared: plan.connections.clone(),
            clients: Arc::default(),
            sandbox,
        }
    }

    /// The connections of a template's run: the template's own, with those a step replaces, sharing this
    /// run's clients.
    pub fn nested(
        &self,
        plan: &Plan,
        replaced: IndexMap<String, PlannedConnection>,
    ) -> Connections {
        let mut declared = plan.connections.clone();
        declared.extend(replaced);
        Connections {
            declared,
            clients: self.clients.clone(),
            sandbox: self.sandbox.clone(),
        }
    }

    /// The client of connection `name`, building it on first use.
    pub async fn get(
        &self,
        name: &str,
        params: &Value,
        run: &Value,
        secrets: &Secrets,
    ) -> Result<Client, BlockError> {
        let Some(connection) = self.declared.get(name) else {
            return Err(BlockError::fatal(
                "NoConnection",
                format!("connection `{name}` is not declared"),
            ));
        };
        let mut settings = resolve(connection, params, run)?;
        let cell = self.clients.cell(key(connection, &settings));
        cell.get_or_init(|| async move {
            let connector = connection.connector.spec.id;
            let twin = match &self.sandbox {
                Some(sandbox) if sandbox.is_outside(connector) => None,
                Some(sandbox) => Some(sandbox.twin(connector).ok_or_else(|| {
                    BlockError::fatal(
                        "NoSandbox",
                        format!("connection `{name}`: the sandbox has no twin of `{connector}`"),
                    )
                })?),
                None => None,
            };
            if twin.is_none() {
                read_secrets(connection, secrets, &mut settings)?;
            }
            let connected = connection
                .connector
                .connect(Value::Object(settings), twin)
                .await
                .map_err(|e| BlockError {
                    message: format!(
                        "connection `{name}` ({}): {}",
                        connection.connector.spec.id,
                        secrets.mask_str(&e.message)
                    ),
                    ..e
                })?;
            // What the connector found on its own (an API key from the environment or a qlik-cli
            // context) is as secret as what it was given.
            for secret in &connected.secrets {
                secrets.add(secret);
            }
            Ok(connected.client)
        })
        .await
        .clone()
    }
}

/// What tells two connections apart: the connector, the resolved settings, and where the secret ones are
/// read from (not their values).
fn key(connection: &PlannedConnection, values: &Map<String, Value>) -> String {
    let mut key = Map::new();
    key.insert("connector".into(), connection.connector.spec.id.into());
    key.insert("settings".into(), Value::Object(values.clone()));
    for (name, setting) in &connection.settings {
        if let Setting::Secret(source) = setting {
            let (kind, at) = match source {
                SecretSource::Env(name) => ("env", name),
                SecretSource::File(path) => ("file", path),
            };
            key.insert(
                format!("secret:{name}"),
                Value::String(format!("{kind}:{at}")),
            );
        }
    }
    Value::Object(key).to_string()
}

/// The connection's settings that are not secret, resolved over `params` (and, for a setting a step
/// replaced, the item it was resolved for).
fn resolve(
    connection: &PlannedConnection,
    params: &Value,
    run: &Value,
) -> Result<Map<String, Value>, BlockError> {
    let steps = StepEntries::new();
    let scope = Scope {
        params,
        run,
        steps: &steps,
        item: None,
        output: None,
    };
    let mut settings = Map::new();
    for (key, setting) in &connection.settings {
        if let Setting::Value(expr) = setting {
            let value = expr.resolve(&scope).map_err(|e| {
                BlockError::fatal(
                    "InvalidSetting",
                    format!("connection `{}`, setting `{key}`: {e}", connection.name),
                )
            })?;
            settings.insert(key.clone(), value);
        }
    }
    Ok(settings)
}

/// Reads the settings written `{ env }` / `{ file }` into `settings`. Only the connector's secret settings
/// are secrets; any other (a `tenant_url` kept out of the flow file) is not, so errors can name it, but
/// credentials inside it (a URL's userinfo or token parameters) are.
fn read_secrets(
    connection: &PlannedConnection,
    secrets: &Secrets,
    settings: &mut Map<String, Value>,
) -> Result<(), BlockError> {
    for (key, setting) in &connection.settings {
        if let Setting::Secret(source) = setting {
            let value = read_secret(&connection.name, key, source)?;
            if connection
                .connector
                .spec
                .secret_settings
                .contains(&key.as_str())
            {
                secrets.add(&value);
            } else {
                url_credentials(&value).for_each(|c| secrets.add(c));
            }
            settings.insert(key.clone(), Value::String(value));
        }
    }
    Ok(())
}

/// Query parameters whose values are credentials (`?access_token=…`, `&sig=…`).
const TOKEN_PARAMS: &[&str] = &[
    "token",
    "key",
    "secret",
    "password",
    "sig",
    "signature",
    "auth",
    "credential",
    "code",
];

/// The credentials inside a URL: the userinfo (`user:password@`), and its parts, and the values of query
/// parameters named like credentials. Nothing for text that is not a URL.
fn url_credentials(text: &str) -> impl Iterator<Item = &str> {
    let rest = text.split_once("://").map_or("", |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let userinfo = authority.rsplit_once('@').map(|(userinfo, _)| userinfo);
    let parts = userinfo.into_iter().flat_map(|u| {
        let (user, password) = u.split_once(':').unwrap_or((u, ""));
        [u, user, password]
    });
    let query = rest.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    let tokens = query.split('&').filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let name = name.to_ascii_lowercase();
        TOKEN_PARAMS
            .iter()
            .any(|t| name.contains(t))
            .then_some(value)
    });
    parts.chain(tokens).filter(|c| !c.is_empty())
}

fn read_secret(connection: &str, key: &str, source: &SecretSource) -> Result<String, BlockError> {
    match source {
        SecretSource::Env(name) => std::env::var(name).map_err(|_| {
            BlockError::fatal(
                "SecretUnavailable",
                format!("connection `{connection}`, setting `{key}`: environment variable `{name}` is not set"),
            )
        }),
        SecretSource::File(path) => std::fs::read_to_string(path)
            .map(|text| text.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|e| {
                BlockError::fatal(
                    "SecretUnavailable",
                    format!("connection `{connection}`, setting `{key}`: cannot read `{path}`: {}", e.kind()),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::url_credentials;

    #[test]
    fn a_url_is_not_a_secret_but_the_credentials_inside_it_are() {
        let found = |url| url_credentials(url).collect::<Vec<_>>();
        assert!(found("https://acme.eu.qlikcloud.com").is_empty());
        assert!(found("https://acme.eu.qlikcloud.com/path?region=eu-west-1").is_empty());
        assert_eq!(
            found("https://bob:hunter22@proxy.example:8443/x?a=1&access_token=tok123#f"),
            ["bob:hunter22", "bob", "hunter22", "tok123"]
        );
        assert_eq!(
            found("https://t0ken@host/?Signature=abc%2B"),
            ["t0ken", "t0ken", "abc%2B"]
        );
        assert!(found("not a url @ all").is_empty());
    }
}
