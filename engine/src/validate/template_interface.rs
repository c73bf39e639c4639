//! A checked template as a `uses:` step sees it: a block whose inputs are the template's params, whose
//! output is its outputs, and whose effect is its steps' strongest.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::{Map, Value, json};

use crate::block::{BlockSpec, Effect, Recovery};
use crate::library::interface::strength;
use crate::plan::digest::digest;
use crate::plan::{Plan, Template};

/// The template with the interface of a block, as a `uses:` step calls it.
pub(crate) fn interface_of(uses: &str, plan: Arc<Plan>) -> Template {
    let effect = plan
        .steps
        .iter()
        .map(|s| s.effect())
        .max_by_key(|e| strength(*e))
        .unwrap_or(Effect::Read);
    // Each of its steps settles a lost call its own way; the template as a whole is only as safe to
    // repeat as its weakest step.
    let recovery = if plan.steps.iter().any(|s| s.recovery().at_least_once()) {
        Recovery::AtLeastOnce
    } else {
        Recovery::Repeat
    };
    let spec = BlockSpec {
        id: intern(uses),
        title: intern(&plan.name),
        connector: None,
        description: intern(plan.description.as_deref().unwrap_or("")),
        effect,
        // Its outputs that carry a secret of its steps' own; which params take a secret is
        // `plan.secrets.clear`'s to say (the secrets pass reads it at each call site).
        secret_outputs: intern_all(&plan.secrets.secret_fields()),
        secret_inputs: &[],
        output_mirrors_input: false,
        destructive_when: None,
        recovery,
    };
    let inputs: Map<String, Value> = plan
        .params
        .values()
        .map(|p| {
            let mut schema = json!({ "type": p.ty.name() });
            if let Some(allowed) = &p.allowed {
                schema["enum"] = Value::Array(allowed.clone());
            }
            if let Some(pattern) = &p.pattern {
                schema["pattern"] = Value::String(pattern.as_str().to_string());
            }
            if let Some(description) = &p.description {
                schema["description"] = Value::String(description.clone());
            }
            if let Some(default) = &p.default {
                schema["default"] = default.clone();
            }
            (p.name.clone(), schema)
        })
        .collect();
    let required: Vec<&str> = plan
        .params
        .values()
        .filter(|p| p.default.is_none())
        .map(|p| p.name.as_str())
        .collect();
    let input_schema = json!({
        "type": "object", "properties": inputs, "required": required, "additionalProperties": false
    });
    let outputs: Map<String, Value> = plan
        .output_schemas
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let output_schema = json!({
        "type": "object",
        "properties": outputs,
        "required": plan.outputs.keys().collect::<Vec<_>>(),
        "additionalProperties": false
    });
    let example: Map<String, Value> = plan
        .outputs
        .iter()
        .map(|(name, expr)| {
            let value = match expr {
                crate::expr::ValueExpr::Literal(value) => value.clone(),
                _ => Value::String(format!("<{name}>")),
            };
            (name.clone(), value)
        })
        .collect();
    // What `keyflow resume` compares: the template's text and its steps (its own templates included).
    let definitions = plan.steps.iter().map(|s| s.definition.as_bytes());
    let digest = digest(std::iter::once(plan.source.text.as_bytes()).chain(definitions));
    Template {
        digest,
        spec,
        input_schema,
        output_schema,
        example_output: Value::Object(example),
        plan,
    }
}

/// A list of strings that lives as long as the process, as a block's static facts hold it; each distinct
/// list is kept once, as [`intern`] keeps strings.
fn intern_all(texts: &[String]) -> &'static [&'static str] {
    type Lists = HashMap<Vec<String>, &'static [&'static str]>;
    static LISTS: LazyLock<Mutex<Lists>> = LazyLock::new(Mutex::default);
    if texts.is_empty() {
        return &[];
    }
    let mut lists = LISTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = lists.get(texts) {
        return known;
    }
    let all: Vec<&'static str> = texts.iter().map(|t| intern(t)).collect();
    let leaked: &'static [&'static str] = Box::leak(all.into_boxed_slice());
    lists.insert(texts.to_vec(), leaked);
    leaked
}

/// A string that lives as long as the process, for the static facts of a template's block. Each distinct
/// string is kept once, so checking the same templates again (a scheduler re-reading flows) adds nothing.
fn intern(text: &str) -> &'static str {
    static STRINGS: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Mutex::default);
    let mut strings = STRINGS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = strings.get(text) {
        return known;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    strings.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_strings_are_kept_once() {
        let a = intern("./templates/t.yaml");
        let b = intern(&String::from("./templates/t.yaml"));
        assert!(std::ptr::eq(a, b));
    }
}
