//! The published schemas: `flow.schema.json` for editors, one descriptor per block, and the run report's.
//!
//! The flow schema is the model's (from schemars, so `///` comments become hover text) plus what the
//! registry knows: the block ids, each block's inputs under `with:` (any value may also be a reference or a
//! template), and each connector's settings.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::block::{Effect, Recovery, RegisteredBlock, Registry};
use crate::model::Flow;

/// Where the schemas are published, for `$id`.
const BASE: &str = "https://keyflow.dev/schemas";

/// The JSON Schema of flow files, for yaml-language-server and other editors.
pub fn flow_schema(registry: &Registry) -> Value {
    let mut schema = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<Flow>()
        .to_value();
    schema["$id"] = json!(format!("{BASE}/flow.schema.json"));
    schema["title"] = json!("keyflow flow");
    let defs = schema["$defs"]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut defs = defs;
    defs.insert(
        "Expression".into(),
        json!({
            "description": "A reference (`$.steps.<id>.output.<field>`, `$.params.<name>`) or a template (`\"{{params.x}}\"`).",
            "type": "string",
            "anyOf": [{ "pattern": "^\\$[.\\[]" }, { "pattern": "\\{\\{" }]
        }),
    );
    if let Some(step) = defs.get_mut("Step") {
        let ids: Vec<&str> = registry.blocks().map(|b| b.spec.id).collect();
        step["properties"]["block"]["enum"] = json!(ids);
        let cases: Vec<Value> = registry
            .blocks()
            .map(|block| {
                json!({
                    "if": { "properties": { "block": { "const": block.spec.id } }, "required": ["block"] },
                    "then": { "properties": { "with": with_schema(block) } }
                })
            })
            .collect();
        if !cases.is_empty() {
            step["allOf"] = Value::Array(cases);
        }
    }
    if let Some(connection) = defs.get_mut("Connection") {
        let ids: Vec<&str> = registry.connectors().map(|c| c.spec.id).collect();
        if !ids.is_empty() {
            connection["properties"]["connector"]["enum"] = json!(ids);
            let cases: Vec<Value> = registry
                .connectors()
                .map(|c| {
                    let mut settings = accept_expressions(&c.settings_schema);
                    if let Some(properties) = settings["properties"].as_object_mut() {
                        // As the checker reads them: any setting may come from `{ env: … }` or
                        // `{ file: … }`; a secret one only from there.
                        for (name, property) in properties.iter_mut() {
                            *property = if c.spec.secret_settings.contains(&name.as_str()) {
                                secret_source()
                            } else {
                                or_from_source(std::mem::take(property))
                            };
                        }
                        properties.insert("connector".into(), json!({ "const": c.spec.id }));
                    }
                    json!({ "if": { "properties": { "connector": { "const": c.spec.id } } }, "then": settings })
                })
                .collect();
            connection["allOf"] = Value::Array(cases);
        }
    }
    schema["$defs"] = Value::Object(defs);
    schema
}

/// A connection setting written literally (or as an expression), or read from `{ env: … }` / `{ file: … }`.
fn or_from_source(schema: Value) -> Value {
    let mut choices = match schema {
        Value::Object(mut map) if map.len() <= 2 && map.contains_key("anyOf") => {
            let description = map.remove("description");
            let choices = map.remove("anyOf").unwrap_or_default();
            (choices, description)
        }
        other => {
            let description = other.get("description").cloned();
            (json!([other]), description)
        }
    };
    if let Some(list) = choices.0.as_array_mut() {
        list.push(secret_source());
    }
    let mut wrapped = Map::new();
    if let Some(description) = choices.1 {
        wrapped.insert("description".into(), description);
    }
    wrapped.insert("anyOf".into(), choices.0);
    Value::Object(wrapped)
}

fn secret_source() -> Value {
    json!({
        "description": "A secret, read when the run first uses the connection.",
        "oneOf": [
            { "type": "object", "properties": { "env": { "type": "string" } }, "required": ["env"], "additionalProperties": false },
            { "type": "object", "properties": { "file": { "type": "string" } }, "required": ["file"], "additionalProperties": false }
        ]
    })
}

/// A block's input schema as `with:` accepts it: every value may also be an expression.
fn with_schema(block: &RegisteredBlock) -> Value {
    let mut schema = accept_expressions(&block.input_schema);
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
        map.remove("title");
        map.insert(
            "description".into(),
            json!(format!(
                "Inputs of `{}` ({}).",
                block.spec.id, block.spec.title
            )),
        );
    }
    schema
}

/// Lets every property and item of a schema be written as an expression too.
fn accept_expressions(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for property in properties.values_mut() {
            *property = either(accept_expressions(property));
        }
    }
    if let Some(items) = schema.get_mut("items") {
        *items = either(accept_expressions(items));
    }
    if let Some(additional @ Value::Object(_)) = schema.get_mut("additionalProperties") {
        *additional = either(accept_expressions(additional));
    }
    schema
}

fn either(schema: Value) -> Value {
    let mut wrapped = Map::new();
    if let Some(description) = schema.get("description") {
        wrapped.insert("description".into(), description.clone());
    }
    wrapped.insert(
        "anyOf".into(),
        json!([schema, { "$ref": "#/$defs/Expression" }]),
    );
    Value::Object(wrapped)
}

/// The descriptor of one block: its facts, input and output schemas, and example output (what
/// `schemas/blocks/<id>.json` and `keyflow blocks describe --output json` hold).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlockDescriptor {
    /// Where the descriptor is published.
    #[serde(rename = "$id")]
    pub schema_id: String,
    /// The block id, `connector.operation` (`aws-kms.create-key`) or `core.<name>`.
    pub id: String,
    /// The operation's name as the service's own documentation gives it ("Create Key").
    pub title: String,
    /// The connector whose connection the block calls; `null` for core blocks.
    pub connector: Option<String>,
    /// What the block does.
    pub description: String,
    /// What a call does to the world.
    pub effect: Effect,
    /// How a call whose answer was lost (a timeout, a crash) is settled when it is made again.
    pub recovery: Recovery,
    /// Output fields (dotted paths) redacted in reports and logs.
    pub secret_outputs: Vec<String>,
    /// Inputs (top-level names under `with:`) that take secrets: a flow may pass a secret output there
    /// without `reveal: true`.
    pub secret_inputs: Vec<String>,
    /// Whether the output repeats the inputs, resolved (`core.set`).
    pub output_mirrors_input: bool,
    /// The JSON Schema of the block's inputs (under `with:`).
    pub input: Value,
    /// The JSON Schema of the block's output (`$.steps.<id>.output`).
    pub output: Value,
    /// An output the block could give, used by `keyflow plan`; valid against `output`.
    pub example_output: Value,
}

/// The descriptor of one block.
pub fn block_descriptor(block: &RegisteredBlock) -> BlockDescriptor {
    BlockDescriptor {
        schema_id: format!("{BASE}/blocks/{}.json", block.spec.id),
        id: block.spec.id.to_string(),
        title: block.spec.title.to_string(),
        connector: block.spec.connector.map(str::to_string),
        description: block.spec.description.to_string(),
        effect: block.spec.effect,
        recovery: block.spec.recovery,
        secret_outputs: block
            .spec
            .secret_outputs
            .iter()
            .map(|s| s.to_string())
            .collect(),
        secret_inputs: block
            .spec
            .secret_inputs
            .iter()
            .map(|s| s.to_string())
            .collect(),
        output_mirrors_input: block.spec.output_mirrors_input,
        input: block.input_schema.clone(),
        output: block.output_schema.clone(),
        example_output: block.example_output.clone(),
    }
}

/// The JSON Schema of a type as it is written (serialized), with `$id` set to `{BASE}/{file}`: for the
/// documents the CLI prints.
pub fn output_schema<T: JsonSchema>(file: &str, title: &str) -> Value {
    titled::<T>(SchemaSettings::draft2020_12().for_serialize(), file, title)
}

/// The JSON Schema of a type as keyflow reads it (deserialized: fields with a default may be left out),
/// with `$id` set to `{BASE}/{file}`: for the files and messages others write.
pub fn input_schema<T: JsonSchema>(file: &str, title: &str) -> Value {
    titled::<T>(
        SchemaSettings::draft2020_12().for_deserialize(),
        file,
        title,
    )
}

fn titled<T: JsonSchema>(settings: SchemaSettings, file: &str, title: &str) -> Value {
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    schema["$id"] = json!(format!("{BASE}/{file}"));
    schema["title"] = json!(title);
    schema
}
