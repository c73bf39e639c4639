//! Connections at run time: built when a step first needs one, and shared by its steps.
//!
//! A client is built once per distinct connector and settings for the whole run, templates' runs
//! included: the templates of 400 tenants in one region share one AWS KMS client (and so its rate limits,
//! as AWS counts quotas per account and region), while each tenant's Qlik Cloud connection is its own.
//! Secret settings (`{ env: NAME }`, `{ file: PATH }`) are read here, at first use, never at load, and
//! never in the sandbox; errors name the variable or file, never the value.

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
            connection
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
                })
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

/// Reads the secret settings into `settings`.
fn read_secrets(
    connection: &PlannedConnection,
    secrets: &Secrets,
    settings: &mut Map<String, Value>,
) -> Result<(), BlockError> {
    for (key, setting) in &connection.settings {
        if let Setting::Secret(source) = setting {
            let secret = read_secret(&connection.name, key, source)?;
            secrets.add(&secret);
            settings.insert(key.clone(), Value::String(secret));
        }
    }
    Ok(())
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
