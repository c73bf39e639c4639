//! `--sandbox`: every connection pointed at its connector's local twin.
//!
//! The sandbox knows, per connector id, what its twin needs to say to a connection (endpoint, throwaway
//! credentials, a default region); the connector turns that into settings ([`crate::block::Connector::sandbox`]).
//! Secret settings are not read at all in the sandbox: a flow whose secrets only exist in production
//! rehearses without them.

use std::collections::HashMap;

use serde_json::Value;

use crate::block::BlockError;

/// The twins a run is pointed at, by connector id.
#[derive(Debug, Clone, Default)]
pub struct Sandbox {
    twins: HashMap<String, Value>,
}

impl Sandbox {
    /// An empty sandbox: every connector-backed step fails with "no twin".
    pub fn new() -> Sandbox {
        Sandbox::default()
    }

    /// Adds the twin of `connector`, described as its connector's `sandbox` reads it.
    pub fn with_twin(mut self, connector: &str, twin: Value) -> Sandbox {
        self.twins.insert(connector.to_string(), twin);
        self
    }

    /// What the twin of `connector` says, if the sandbox has one.
    pub fn twin(&self, connector: &str) -> Option<&Value> {
        self.twins.get(connector)
    }
}

/// The string `name` of what a twin says (`endpoint_url`), for a connector's `sandbox`; `what` names the
/// twin in the error ("the AWS KMS twin").
pub fn twin_field(twin: &Value, name: &str, what: &str) -> Result<String, BlockError> {
    twin.get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| BlockError::fatal("NoSandbox", format!("{what} gives no `{name}`")))
}
