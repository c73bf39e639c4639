//! The raw flow model: plain serde structs mirroring the YAML one to one.
//!
//! Nothing here is checked beyond its shape (`deny_unknown_fields` and field types). Expressions are kept
//! as the raw values the user wrote; [`crate::validate`] compiles and checks them and is the only road from
//! this model to an executable [`crate::plan::Plan`]. The `///` comments become the descriptions in
//! `schemas/flow.schema.json`, which editors show on hover.

mod condition;
mod connection;
mod duration;
mod output;
mod param;
mod step;
mod trigger;

pub use condition::ConditionSpec;
pub use connection::{Connection, SecretSource};
pub use duration::{DurationError, DurationSpec};
pub use output::Output;
pub use param::{Param, ParamType};
pub use step::{OnError, OneOrMany, RetrySpec, Step, UntilSpec};
pub use trigger::{CatchUp, Overlap, Trigger};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A keyflow flow: typed parameters, connections to services, and steps that call blocks.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// Name of the flow, shown in run reports (letters, digits, `-` and `_`).
    pub name: String,
    /// What the flow does, for the people who review it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Version of the flow, for your own change tracking (`"1.2.0"`).
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub version: Option<String>,
    /// Typed parameters, given on the command line with `--param name=value` or `--params-file`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub params: IndexMap<String, Param>,
    /// Connections to services, by name. Steps pick one with `connection:`; credentials never appear here
    /// literally, only as `{ env: NAME }` or `{ file: PATH }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub connections: IndexMap<String, Connection>,
    /// The steps. They run as a graph: a step waits for every step it references and those in its `after:`;
    /// independent steps run at the same time. File order only breaks ties in the display.
    pub steps: Vec<Step>,
    /// Values the run reports at the end: references, templates or literals. A value that carries a secret
    /// is written `{ value: …, reveal: true }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub outputs: IndexMap<String, Output>,
    /// Schedules on which the flow runs by itself under `keyflow serve` (`keyflow schedule list` shows
    /// their next fire times).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
}

/// Accepts `version: 1.2` as well as `version: "1.2"`.
fn string_or_number<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Version {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(match Option::<Version>::deserialize(de)? {
        Some(Version::Text(text)) => Some(text),
        Some(Version::Number(number)) => Some(number.to_string()),
        None => None,
    })
}

/// Deserializes a field that is present into `Some`, even when its value is `null`, so that `equals: null`
/// differs from a missing `equals`.
pub(crate) fn present<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(de).map(Some)
}
