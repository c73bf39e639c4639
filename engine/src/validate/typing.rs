//! The static shape of the run context: the JSON Schema of everything a reference can read.
//!
//! Block outputs come from their output schemas; a block whose output mirrors its input (`core.set`)
//! gets the shape of its step's `with:`; a `for_each` step's output is an array of its calls' outputs.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::{Compiled, Context};
use crate::block::erased::schema_of;
use crate::context::{RunFacts, StepEntry};
use crate::expr::{Reference, Root, TemplatePath, ValueExpr};
use crate::schema::walk::{Lookup, Walk, items, walk};

/// Schemas of the context, computed on demand and remembered (shared, never copied, per step).
pub(crate) struct Schemas<'a> {
    ctx: &'a Context<'a>,
    compiled: &'a Compiled,
    params: Rc<Value>,
    run: Rc<Value>,
    index: Rc<Value>,
    status: Rc<Value>,
    error: Rc<Value>,
    /// Stands for `$.steps.<id>` when its part is not one of the three: walking it reports the part.
    parts: Rc<Value>,
    outputs: RefCell<HashMap<usize, Rc<Value>>>,
    calls: RefCell<HashMap<usize, Rc<Value>>>,
    items: RefCell<HashMap<usize, Rc<Value>>>,
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
        // `$.run` and a step's entry are Rust types; their schemas are derived, not written here.
        let entry = schema_of::<StepEntry<'static>>(SchemaSettings::draft2020_12().for_serialize());
        let part = |name: &str| Rc::new(entry["properties"][name].clone());
        let parts: Map<String, Value> = entry["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, _)| (name.clone(), Value::Bool(true)))
            .collect();
        Schemas {
            ctx,
            compiled,
            params: Rc::new(json!({ "type": "object", "properties": properties })),
            run: Rc::new(schema_of::<RunFacts>(
                SchemaSettings::draft2020_12().for_serialize(),
            )),
            index: Rc::new(json!({ "type": "integer", "minimum": 0 })),
            status: part("status"),
            error: part("error"),
            parts: Rc::new(json!({ "type": "object", "properties": parts })),
            outputs: RefCell::default(),
            calls: RefCell::default(),
            items: RefCell::default(),
            in_progress: RefCell::default(),
        }
    }

    /// The output of one call of step `i`'s block.
    pub fn call_output(&self, i: usize) -> Rc<Value> {
        if let Some(known) = self.calls.borrow().get(&i) {
            return known.clone();
        }
        let Some(call) = self.compiled.steps.get(i).and_then(|s| s.call.as_ref()) else {
            return Rc::new(Value::Bool(true));
        };
        let schema = if call.spec().output_mirrors_input {
            if !self.in_progress.borrow_mut().insert(i) {
                return Rc::new(Value::Bool(true));
            }
            let properties: Map<String, Value> = self.compiled.steps[i]
                .with
                .iter()
                .map(|(k, v)| (k.clone(), self.of_expr(v, Some(i))))
                .collect();
            self.in_progress.borrow_mut().remove(&i);
            json!({ "type": "object", "properties": properties })
        } else {
            call.output_schema().clone()
        };
        let schema = Rc::new(schema);
        self.calls.borrow_mut().insert(i, schema.clone());
        schema
    }

    /// `$.steps.<i>.output`: the call's output, or an array of them for `for_each`.
    pub fn step_output(&self, i: usize) -> Rc<Value> {
        if let Some(known) = self.outputs.borrow().get(&i) {
            return known.clone();
        }
        let call = self.call_output(i);
        let output = match self.ctx.flow.steps.get(i).and_then(|s| s.for_each.as_ref()) {
            Some(_) => Rc::new(json!({ "type": "array", "items": *call })),
            None => call,
        };
        self.outputs.borrow_mut().insert(i, output.clone());
        output
    }

    /// `$.item` inside step `i`.
    pub fn item(&self, i: usize) -> Rc<Value> {
        if let Some(known) = self.items.borrow().get(&i) {
            return known.clone();
        }
        let Some(for_each) = self.compiled.steps.get(i).and_then(|s| s.for_each.as_ref()) else {
            return Rc::new(Value::Bool(true));
        };
        let list = self.of_expr(for_each, None);
        let item = Rc::new(match items(&list, &list) {
            Lookup::Found(schema) => schema.into_owned(),
            _ => Value::Bool(true),
        });
        self.items.borrow_mut().insert(i, item.clone());
        item
    }

    /// The schema a root of the context has, seen from step `from`.
    fn root(&self, reference: &Reference, from: Option<usize>) -> Option<Rc<Value>> {
        Some(match reference.root() {
            Root::Params => self.params.clone(),
            Root::Run => self.run.clone(),
            Root::Steps => return self.step_part(reference),
            Root::Item => self.item(from?),
            Root::Index => self.index.clone(),
            Root::Output => self.call_output(from?),
        })
    }

    /// Walks a reference through the context's schemas; `None` when its step is unknown.
    pub fn walk(&self, reference: &Reference, from: Option<usize>) -> Option<(Walk, Rc<Value>)> {
        let segments = reference.query().segments();
        if reference.root() == Root::Steps && segments.len() == 2 {
            // `$.steps.<id>` itself: the whole result object.
            return Some((
                Walk::Found {
                    schema: json!({ "type": "object" }),
                    plural: false,
                },
                self.index.clone(),
            ));
        }
        let root = self.root(reference, from)?;
        let skip = match reference.root() {
            Root::Steps if matches!(reference.name_at(2), Some("output" | "status" | "error")) => 3,
            Root::Steps => 2,
            _ => reference.entry_len(),
        };
        let found = walk(&root, &root, &segments[skip..], skip);
        Some((found, root))
    }

    /// For `$.steps.<id>.<part>…`: the schema of `<part>` (`output`, `status` or `error`); a part that does
    /// not exist gives an empty schema whose walk reports it.
    fn step_part(&self, reference: &Reference) -> Option<Rc<Value>> {
        let i = self.ctx.step_index(reference.step_id()?)?;
        Some(match reference.name_at(2) {
            Some("output") => self.step_output(i),
            Some("status") => self.status.clone(),
            Some("error") => self.error.clone(),
            _ => self.parts.clone(),
        })
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
                Some((Walk::Unknown { plural: true, .. }, _)) => json!({ "type": "array" }),
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
    Reference::from_names(&path.segments).ok()
}
