//! Connections: `connections: { aws: { connector: aws-kms, region: eu-west-1 } }`.
//!
//! A connection names its connector and carries that connector's settings beside it. The settings are kept
//! raw here; the connector's own schema checks them during validation.

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A connection to a service: the connector and its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// The connector, such as `aws-kms` or `qlik-cloud`.
    pub connector: String,
    /// The connector's settings, as written (templates over `params` and secret sources allowed).
    pub settings: IndexMap<String, Value>,
}

/// Where a secret setting is read from when the connection is first used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `{ env: NAME }`: an environment variable of the keyflow process.
    Env(String),
    /// `{ file: PATH }`: the contents of a file, trailing newline removed.
    File(String),
}

impl SecretSource {
    /// Recognises `{ env: NAME }` and `{ file: PATH }`.
    pub fn from_value(value: &Value) -> Option<SecretSource> {
        let map = value.as_object()?;
        if map.len() != 1 {
            return None;
        }
        match map.iter().next()? {
            (key, Value::String(name)) if key == "env" => Some(SecretSource::Env(name.clone())),
            (key, Value::String(path)) if key == "file" => Some(SecretSource::File(path.clone())),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Connection {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let mut settings = IndexMap::<String, Value>::deserialize(de)?;
        let connector = match settings.shift_remove("connector") {
            Some(Value::String(connector)) => connector,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "`connector` must be a string such as `aws-kms`, found {other}"
                )));
            }
            None => return Err(D::Error::missing_field("connector")),
        };
        Ok(Connection {
            connector,
            settings,
        })
    }
}

impl Serialize for Connection {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = IndexMap::new();
        map.insert(
            "connector".to_string(),
            Value::String(self.connector.clone()),
        );
        map.extend(self.settings.clone());
        map.serialize(ser)
    }
}

impl JsonSchema for Connection {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Connection".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A connection: `connector` names the service; the other keys are its settings. \
                Secret settings are written `{ env: NAME }` or `{ file: PATH }`.",
            "type": "object",
            "required": ["connector"],
            "properties": {
                "connector": { "type": "string", "description": "The connector, such as `aws-kms`." }
            },
            "additionalProperties": true
        })
    }
}
