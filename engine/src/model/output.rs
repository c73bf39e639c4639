//! Flow outputs: `outputs: { key_arn: $.steps.create_key.output.KeyMetadata.Arn }`, and the form that
//! reports a secret on purpose, `{ value: …, reveal: true }`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// One flow output: a value as written (a reference, a template, a literal), or, for a value that carries
/// a secret, `{ value: …, reveal: true }`.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A value as written.
    Plain(Value),
    /// `{ value, reveal }`: a mapping of exactly these two keys.
    Marked {
        /// The value.
        value: Value,
        /// Whether the output may carry a secret.
        reveal: bool,
    },
}

impl Output {
    /// The value the output reports.
    pub fn value(&self) -> &Value {
        match self {
            Output::Plain(value) | Output::Marked { value, .. } => value,
        }
    }

    /// Whether the flow says the output may carry a secret (`reveal: true`).
    pub fn reveal(&self) -> bool {
        matches!(self, Output::Marked { reveal: true, .. })
    }

    /// Whether the value sits under `value:` (where diagnostics about it point).
    pub fn is_marked(&self) -> bool {
        matches!(self, Output::Marked { .. })
    }
}

impl<'de> Deserialize<'de> for Output {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(de)?;
        let marked = value
            .as_object()
            .filter(|map| map.len() == 2 && map.contains_key("value"))
            .and_then(|map| map.get("reveal"));
        match marked {
            None => Ok(Output::Plain(value)),
            Some(Value::Bool(reveal)) => {
                let reveal = *reveal;
                let value = value.get("value").cloned().unwrap_or(Value::Null);
                Ok(Output::Marked { value, reveal })
            }
            Some(other) => Err(D::Error::custom(format!(
                "`reveal` of an output is `true` or `false`, found {other}"
            ))),
        }
    }
}

impl Serialize for Output {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            Output::Plain(value) => value.serialize(ser),
            Output::Marked { value, reveal } => {
                let mut map = Map::new();
                map.insert("value".into(), value.clone());
                map.insert("reveal".into(), Value::Bool(*reveal));
                map.serialize(ser)
            }
        }
    }
}

impl JsonSchema for Output {
    fn schema_name() -> Cow<'static, str> {
        "Output".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A value the run reports: a reference, a template or a literal. A value that carries a secret (an output field a block declares secret) is refused unless written `{ value: …, reveal: true }`; the report still shows the secret as `<redacted>`.",
            "anyOf": [
                {
                    "type": "object",
                    "properties": {
                        "value": { "description": "The value: a reference, a template or a literal." },
                        "reveal": {
                            "type": "boolean",
                            "description": "`true`: the value may carry a secret, on purpose (a template returning a data key to the flow that uses it, say)."
                        }
                    },
                    "required": ["value", "reveal"],
                    "additionalProperties": false
                },
                true
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(value: Value) -> Result<Output, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn a_mapping_of_value_and_reveal_is_the_marked_form() {
        assert_eq!(
            read(json!({"value": "$.steps.dk.output.Plaintext", "reveal": true})),
            Ok(Output::Marked {
                value: json!("$.steps.dk.output.Plaintext"),
                reveal: true
            })
        );
        assert_eq!(
            read(json!({"value": 1, "other": true})),
            Ok(Output::Plain(json!({"value": 1, "other": true})))
        );
        assert_eq!(read(json!("$.x")), Ok(Output::Plain(json!("$.x"))));
        assert!(
            read(json!({"value": 1, "reveal": "yes"}))
                .unwrap_err()
                .contains("`reveal` of an output is `true` or `false`")
        );
    }

    #[test]
    fn outputs_write_back_as_read() {
        for written in [
            json!({"value": "$.a", "reveal": false}),
            json!({"k": [1, 2]}),
            json!("text"),
        ] {
            let output = read(written.clone()).expect("reads");
            assert_eq!(serde_json::to_value(&output).expect("writes"), written);
        }
    }
}
