//! `--sandbox`: every connection pointed at its connector's local twin.
//!
//! The sandbox knows, per connector id, what its twin needs to say to a connection (endpoint, throwaway
//! credentials, a default region); the connector turns that into settings ([`crate::block::Connector::sandbox`]).
//! What a twin says is a typed description ([`TwinDescription`]) that the connector defines next to the code
//! that reads it and the sandbox fills in, so the two cannot drift apart. Secret settings are not read at
//! all in the sandbox: a flow whose secrets only exist in production rehearses without them.

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::block::BlockError;

/// What a connector's twin tells a connection under `--sandbox`, defined by the connector.
pub trait TwinDescription: Serialize + DeserializeOwned {
    /// The connector whose twin this describes (`aws-kms`).
    const CONNECTOR: &'static str;
    /// What errors call the twin ("the AWS KMS twin").
    const TWIN: &'static str;

    /// The description `twin` holds, as the connector's `sandbox` reads it.
    fn read(twin: &Value) -> Result<Self, BlockError> {
        Self::deserialize(twin).map_err(|e| {
            BlockError::fatal("NoSandbox", format!("{} is not described: {e}", Self::TWIN))
        })
    }
}

/// The twins a run is pointed at, by connector id.
#[derive(Debug, Clone, Default)]
pub struct Sandbox {
    twins: HashMap<String, Value>,
    outside: Vec<String>,
}

impl Sandbox {
    /// An empty sandbox: every connector-backed step fails with "no twin".
    pub fn new() -> Sandbox {
        Sandbox::default()
    }

    /// Adds the twin `twin` describes, for its connector.
    pub fn with<T: TwinDescription>(mut self, twin: &T) -> Sandbox {
        // A description of plain fields always serializes; were one not to, its connector says so.
        let value = serde_json::to_value(twin).unwrap_or_default();
        self.twins.insert(T::CONNECTOR.to_string(), value);
        self
    }

    /// Adds a twin described at run time (a plugin's twin, started by the plugin host): `twin` is what the
    /// connector's `sandbox` reads.
    pub fn with_described(mut self, connector: &str, twin: Value) -> Sandbox {
        self.twins.insert(connector.to_string(), twin);
        self
    }

    /// Lets the connections of `connector`, which has no twin, reach the real service (their secrets
    /// read) in a sandbox run: what `--allow-plugins-outside-sandbox` asks for, never the default.
    pub fn outside(mut self, connector: &str) -> Sandbox {
        self.outside.push(connector.to_string());
        self
    }

    /// Whether the connections of `connector` run outside the sandbox (see [`Sandbox::outside`]).
    pub fn is_outside(&self, connector: &str) -> bool {
        self.outside.iter().any(|c| c == connector)
    }

    /// What the twin of `connector` says, if the sandbox has one.
    pub fn twin(&self, connector: &str) -> Option<&Value> {
        self.twins.get(connector)
    }
}
