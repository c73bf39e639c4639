//! The published schemas: `flow.schema.json` for editors, one descriptor per block, and the run report's.
//!
//! The flow schema is the model's (from schemars, so `///` comments become hover text) plus what the
//! registry knows: the block ids, each block's inputs under `with:` (any value may also be a reference or a
//! template), and each connector's settings.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::block::{RegisteredBlock, Registry};
use crate::exec::report::RunReport;
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
                        properties.insert("connector".into(), json!({ "const": c.spec.id }));
                        for secret in c.spec.secret_settings {
                            if properties.contains_key(*secret) {
                                properties.insert((*secret).to_string(), secret_source());
                            }
                        }
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

/// The descriptor of one block: its facts, input and output schemas, and example output.
pub fn block_descriptor(block: &RegisteredBlock) -> Value {
    json!({
        "$id": format!("{BASE}/blocks/{}.json", block.spec.id),
        "id": block.spec.id,
        "title": block.spec.title,
        "connector": block.spec.connector,
        "description": block.spec.description,
        "effect": block.spec.effect,
        "secret_outputs": block.spec.secret_outputs,
        "output_mirrors_input": block.spec.output_mirrors_input,
        "input": block.input_schema,
        "output": block.output_schema,
        "example_output": block.example_output,
    })
}

/// The JSON Schema of `keyflow run --output json`.
pub fn run_report_schema() -> Value {
    let mut schema = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<RunReport>()
        .to_value();
    schema["$id"] = json!(format!("{BASE}/run-report.schema.json"));
    schema
}
