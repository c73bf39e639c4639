//! Connections at run time: built once per run, when a step first needs one, and shared by its steps.
//!
//! Secret settings (`{ env: NAME }`, `{ file: PATH }`) are read here, at first use, never at load, and
//! never in the sandbox; errors name the variable or file, never the value.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::sandbox::Sandbox;
use super::secrets::Secrets;
use crate::block::BlockError;
use crate::block::erased::Client;
use crate::expr::{Scope, StepEntries};
use crate::model::SecretSource;
use crate::plan::{Plan, PlannedConnection, Setting};

/// The run's connections, each built at most once.
pub(crate) struct Connections {
    cells: HashMap<String, OnceCell<Result<Client, BlockError>>>,
    sandbox: Option<Arc<Sandbox>>,
}

impl Connections {
    pub fn new(plan: &Plan, sandbox: Option<Arc<Sandbox>>) -> Connections {
        Connections {
            cells: plan
                .connections
                .keys()
                .map(|name| (name.clone(), OnceCell::new()))
                .collect(),
            sandbox,
        }
    }

    /// The client of connection `name`, building it on first use.
    pub async fn get(
        &self,
        plan: &Plan,
        name: &str,
        params: &Value,
        run: &Value,
        secrets: &Secrets,
    ) -> Result<Client, BlockError> {
        let (Some(cell), Some(connection)) = (self.cells.get(name), plan.connections.get(name))
        else {
            return Err(BlockError::fatal(
                "NoConnection",
                format!("connection `{name}` is not declared"),
            ));
        };
        cell.get_or_init(|| async {
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
            let settings = resolve(connection, params, run, secrets, twin.is_none())?;
            connection
                .connector
                .connect(settings, twin)
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

/// The connection's settings; secret ones are read only when `read_secrets` (not in the sandbox).
fn resolve(
    connection: &PlannedConnection,
    params: &Value,
    run: &Value,
    secrets: &Secrets,
    read_secrets: bool,
) -> Result<Value, BlockError> {
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
        let value = match setting {
            Setting::Value(expr) => expr.resolve(&scope).map_err(|e| {
                BlockError::fatal(
                    "InvalidSetting",
                    format!("connection `{}`, setting `{key}`: {e}", connection.name),
                )
            })?,
            Setting::Secret(_) if !read_secrets => continue,
            Setting::Secret(source) => {
                let secret = read_secret(&connection.name, key, source)?;
                secrets.add(&secret);
                Value::String(secret)
            }
        };
        settings.insert(key.clone(), value);
    }
    Ok(Value::Object(settings))
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
