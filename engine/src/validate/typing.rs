//! The static shape of the run context: the JSON Schema of everything a reference can read.
//!
//! Block outputs come from their output schemas; a block whose output mirrors its input (`core.set`)
//! gets the shape of its step's `with:`; a `for_each` step's output is an array of its calls' outputs.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::{Compiled, Context};
use crate::expr::{Reference, Root, TemplatePath, ValueExpr};
use crate::schema::walk::{Walk, items, walk};

/// Statuses a step result can have.
pub(crate) const STATUSES: [&str; 4] = ["succeeded", "failed", "skipped", "cancelled"];

/// Schemas of the context, computed on demand and remembered.
pub(crate) struct Schemas<'a> {
    ctx: &'a Context<'a>,
    compiled: &'a Compiled,
    params: Value,
    outputs: RefCell<HashMap<usize, Value>>,
    in_progress: RefCell<HashSet<usize>>,
}

impl<'a> Schemas<'a> {
    pub fn new(ctx: &'a Context<'a>, compiled: &'a Compiled) -> Schemas<'a> {
        let properties: Map<String, Value> = ctx
            .flow
            .params
            .iter()
            .map(|(name, p)| {
                let mut schema = json!({ "type": p.ty.name() });
                if let Some(allowed) = &p.allowed {
                    schema["enum"] = Value::Array(allowed.clone());
                }
                (name.clone(), schema)
            })
            .collect();
        Schemas {
            ctx,
            compiled,
            params: json!({ "type": "object", "properties": properties }),
            outputs: RefCell::default(),
            in_progress: RefCell::default(),
        }
    }

    /// The output of one call of step `i`'s block.
    pub fn call_output(&self, i: usize) -> Value {
        if let Some(known) = self.outputs.borrow().get(&i) {
            return known.clone();
        }
        let Some(step) = self.compiled.steps.get(i) else {
            return Value::Bool(true);
        };
        let Some(block) = &step.block else {
            return Value::Bool(true);
        };
        if !block.spec.output_mirrors_input {
            return block.output_schema.clone();
        }
        if !self.in_progress.borrow_mut().insert(i) {
            return Value::Bool(true);
        }
        let properties: Map<String, Value> = step
            .with
            .iter()
            .map(|(k, v)| (k.clone(), self.of_expr(v, Some(i))))
            .collect();
        let schema = json!({ "type": "object", "properties": properties });
        self.in_progress.borrow_mut().remove(&i);
        self.outputs.borrow_mut().insert(i, schema.clone());
        schema
    }

    /// `$.steps.<i>.output`.
    pub fn step_output(&self, i: usize) -> Value {
        let call = self.call_output(i);
        match self.ctx.flow.steps.get(i).and_then(|s| s.for_each.as_ref()) {
            Some(_) => json!({ "type": "array", "items": call }),
            None => call,
        }
    }

    /// `$.steps.<i>`.
    pub fn entry(&self, i: usize) -> Value {
        json!({
            "type": "object",
            "properties": {
                "status": { "type": "string", "enum": STATUSES },
                "output": self.step_output(i),
                "error": {
                    "type": "object",
                    "properties": {
                        "code": { "type": "string" },
                        "message": { "type": "string" },
                        "retryable": { "type": "boolean" }
                    }
                }
            }
        })
    }

    /// `$.item` inside step `i`.
    pub fn item(&self, i: usize) -> Value {
        let Some(for_each) = self.compiled.steps.get(i).and_then(|s| s.for_each.as_ref()) else {
            return Value::Bool(true);
        };
        let list = self.of_expr(for_each, None);
        match items(&list, &list) {
            crate::schema::walk::Lookup::Found(schema) => schema,
            _ => Value::Bool(true),
        }
    }

    /// The schema a root of the context has, seen from step `from`.
    fn root(&self, reference: &Reference, from: Option<usize>) -> Option<Value> {
        Some(match reference.root() {
            Root::Params => self.params.clone(),
            Root::Run => json!({
                "type": "object",
                "properties": {
                    "id": { "type": "string" }, "flow": { "type": "string" }, "started_at": { "type": "string" }
                }
            }),
            Root::Steps => self.entry(self.ctx.step_index(reference.step_id()?)?),
            Root::Item => self.item(from?),
            Root::Index => json!({ "type": "integer", "minimum": 0 }),
            Root::Output => self.call_output(from?),
        })
    }

    /// Walks a reference through the context's schemas; `None` when its step is unknown.
    pub fn walk(&self, reference: &Reference, from: Option<usize>) -> Option<(Walk, Value)> {
        let root = self.root(reference, from)?;
        let skip = reference.entry_len();
        let found = walk(&root, &root, &reference.query().segments()[skip..], skip);
        Some((found, root))
    }

    /// The schema of what an expression evaluates to.
    pub fn of_expr(&self, expr: &ValueExpr, from: Option<usize>) -> Value {
        match expr {
            ValueExpr::Literal(value) => of_value(value),
            ValueExpr::Template(_) => json!({ "type": "string" }),
            ValueExpr::Ref(reference) => match self.walk(reference, from) {
                Some((
                    Walk::Found {
                        schema,
                        plural: false,
                    },
                    _,
                )) => schema,
                Some((
                    Walk::Found {
                        schema,
                        plural: true,
                    },
                    _,
                )) => json!({ "type": "array", "items": schema }),
                Some((Walk::Unknown { plural: true }, _)) => json!({ "type": "array" }),
                _ if !reference.is_singular() => json!({ "type": "array" }),
                _ => Value::Bool(true),
            },
            ValueExpr::Object(fields) => {
                let properties: Map<String, Value> = fields
                    .iter()
                    .map(|(k, v)| (k.clone(), self.of_expr(v, from)))
                    .collect();
                json!({ "type": "object", "properties": properties })
            }
            ValueExpr::Array(list) => {
                let schemas: Vec<Value> = list.iter().map(|v| self.of_expr(v, from)).collect();
                json!({ "type": "array", "items": merge(schemas) })
            }
        }
    }
}

/// The schema of a literal value (objects closed to the keys they have).
pub(crate) fn of_value(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let properties: Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), of_value(v))).collect();
            json!({ "type": "object", "properties": properties })
        }
        Value::Array(list) => {
            json!({ "type": "array", "items": merge(list.iter().map(of_value).collect()) })
        }
        other => json!({ "type": crate::schema::types::type_name(other) }),
    }
}

/// One schema for the items of a list: objects merge their properties; other shapes form an `anyOf`.
fn merge(schemas: Vec<Value>) -> Value {
    if schemas.is_empty() {
        return Value::Bool(true);
    }
    if schemas
        .iter()
        .all(|s| s.get("type") == Some(&json!("object")) && s.get("properties").is_some())
    {
        let mut properties = Map::new();
        for schema in &schemas {
            for (k, v) in schema["properties"].as_object().into_iter().flatten() {
                properties.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        return json!({ "type": "object", "properties": properties });
    }
    let mut distinct: Vec<Value> = Vec::new();
    for schema in schemas {
        if !distinct.contains(&schema) {
            distinct.push(schema);
        }
    }
    if distinct.len() == 1 {
        distinct.remove(0)
    } else {
        json!({ "anyOf": distinct })
    }
}

/// A template path as the reference it reads (`steps.x.output.0` is `$.steps.x.output[0]`).
pub(crate) fn template_reference(path: &TemplatePath) -> Option<Reference> {
    let mut text = String::from("$");
    for segment in &path.segments {
        if segment.chars().all(|c| c.is_ascii_digit()) {
            text.push_str(&format!("[{segment}]"));
        } else {
            text.push_str(&format!(
                "['{}']",
                segment.replace('\\', "\\\\").replace('\'', "\\'")
            ));
        }
    }
    Reference::parse(&text).ok()
}
