//! What an update of a plugin changes in its interface, as `keyflow plugin update` shows it: blocks added
//! and removed, and per block what a flow depends on — effect, recovery, inputs (and which are required),
//! output fields, secret outputs — and the connector's settings.

use std::collections::BTreeSet;

use keyflow_plugin::protocol::{BlockDescription, Description};
use serde_json::Value;

/// One change, as a line: `+ block vault-transit.sign`, `~ vault-transit.encrypt: input `context` added`.
pub fn changes(old: &Description, new: &Description) -> Vec<String> {
    let mut out = Vec::new();
    let (a, b) = (&old.connector, &new.connector);
    if a.id != b.id {
        out.push(format!("~ connector: `{}` → `{}`", a.id, b.id));
    }
    compare_sets(
        &mut out,
        "connector: setting",
        &properties(&a.settings),
        &properties(&b.settings),
    );
    compare_sets(
        &mut out,
        "connector: required setting",
        &required(&a.settings),
        &required(&b.settings),
    );
    compare_sets(
        &mut out,
        "connector: secret setting",
        &a.secret_settings.iter().cloned().collect(),
        &b.secret_settings.iter().cloned().collect(),
    );
    if a.twin != b.twin {
        out.push(format!(
            "~ connector: twin {} → {}",
            twin(a.twin.as_ref()),
            twin(b.twin.as_ref())
        ));
    }
    for block in &old.blocks {
        match new.blocks.iter().find(|n| n.id == block.id) {
            None => out.push(format!("- block {}", block.id)),
            Some(now) => compare_block(&mut out, block, now),
        }
    }
    for block in &new.blocks {
        if !old.blocks.iter().any(|o| o.id == block.id) {
            out.push(format!("+ block {} ({})", block.id, name(block.effect)));
        }
    }
    out
}

fn compare_block(out: &mut Vec<String>, old: &BlockDescription, new: &BlockDescription) {
    let id = &new.id;
    if old.effect != new.effect {
        out.push(format!(
            "~ {id}: effect {} → {}",
            name(old.effect),
            name(new.effect)
        ));
    }
    if old.recovery != new.recovery {
        out.push(format!(
            "~ {id}: recovery {} → {}",
            name(old.recovery),
            name(new.recovery)
        ));
    }
    compare_sets(
        out,
        &format!("{id}: input"),
        &properties(&old.input),
        &properties(&new.input),
    );
    compare_sets(
        out,
        &format!("{id}: required input"),
        &required(&old.input),
        &required(&new.input),
    );
    compare_sets(
        out,
        &format!("{id}: output field"),
        &properties(&old.output),
        &properties(&new.output),
    );
    compare_sets(
        out,
        &format!("{id}: secret output"),
        &old.secret_outputs.iter().cloned().collect(),
        &new.secret_outputs.iter().cloned().collect(),
    );
    compare_sets(
        out,
        &format!("{id}: secret input"),
        &old.secret_inputs.iter().cloned().collect(),
        &new.secret_inputs.iter().cloned().collect(),
    );
    if old.title != new.title || old.description != new.description {
        out.push(format!("~ {id}: title or description"));
    }
}

fn compare_sets(out: &mut Vec<String>, what: &str, old: &BTreeSet<String>, new: &BTreeSet<String>) {
    for gone in old.difference(new) {
        out.push(format!("- {what} `{gone}`"));
    }
    for added in new.difference(old) {
        out.push(format!("+ {what} `{added}`"));
    }
}

fn properties(schema: &Value) -> BTreeSet<String> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn required(schema: &Value) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn twin(twin: Option<&keyflow_plugin::TwinCommand>) -> String {
    twin.map_or("none".into(), |t| format!("`{}`", t.command.join(" ")))
}

fn name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn description(blocks: Value) -> Description {
        serde_json::from_value(json!({
            "connector": { "id": "kv", "title": "KV", "description": "A store." },
            "blocks": blocks,
        }))
        .expect("a description")
    }

    #[test]
    fn an_update_lists_what_a_flow_depends_on() {
        let old = description(json!([
            { "id": "kv.get", "title": "Get", "description": "Gets.", "effect": "read", "recovery": "repeat",
              "input": { "type": "object", "properties": { "key": {} }, "required": ["key"] },
              "output": { "type": "object", "properties": { "value": {} } }, "example_output": {} },
            { "id": "kv.drop", "title": "Drop", "description": "Drops.", "effect": "destructive", "recovery": "reapply",
              "input": { "type": "object" }, "output": { "type": "object" }, "example_output": {} }
        ]));
        let new = description(json!([
            { "id": "kv.get", "title": "Get", "description": "Gets.", "effect": "update", "recovery": "repeat",
              "input": { "type": "object", "properties": { "key": {}, "version": {} }, "required": ["key", "version"] },
              "output": { "type": "object", "properties": { "data": {} } }, "example_output": {} },
            { "id": "kv.put", "title": "Put", "description": "Puts.", "effect": "update", "recovery": "reapply",
              "input": { "type": "object" }, "output": { "type": "object" }, "example_output": {} }
        ]));
        assert_eq!(
            changes(&old, &new),
            vec![
                "~ kv.get: effect read → update",
                "+ kv.get: input `version`",
                "+ kv.get: required input `version`",
                "- kv.get: output field `value`",
                "+ kv.get: output field `data`",
                "- block kv.drop",
                "+ block kv.put (update)",
            ]
        );
        assert!(changes(&old, &old).is_empty());
    }
}
