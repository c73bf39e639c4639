//! `--sandbox`: every connection pointed at its connector's local twin.
//!
//! The sandbox knows, per connector id, what its twin needs to say to a connection (endpoint, throwaway
//! credentials, a default region); the connector turns that into settings ([`crate::block::Connector::sandbox`]).
//! Secret settings are not read at all in the sandbox: a flow whose secrets only exist in production
//! rehearses without them.

use std::collections::HashMap;

use serde_json::Value;

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
