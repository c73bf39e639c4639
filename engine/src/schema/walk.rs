//! Walking a JSONPath query's segments through a JSON Schema, to check references before the run.
//!
//! Output schemas are read closed-world: an object schema that lists `properties` declares exactly the
//! fields a reference may name (unless `additionalProperties` gives a schema for other keys, as for maps).

use std::borrow::Cow;

use jsonpath_rust::parser::model::{Segment, Selector};
use serde_json::{Value, json};

use super::types::TypeSet;

/// The result of looking one level down a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    /// The schema of what is there (borrowed from the schema walked, unless several had to be merged).
    Found(Cow<'a, Value>),
    /// Nothing can be there; `known` lists the fields that can.
    Missing {
        /// Field names declared at this level.
        known: Vec<String>,
    },
    /// The schema does not say (any value is possible).
    Unknown,
}

/// The result of walking a whole query.
#[derive(Debug, Clone, PartialEq)]
pub enum Walk {
    /// The query selects values of this schema; `plural` when it selects a list of them.
    Found {
        /// The schema of each selected value.
        schema: Value,
        /// Whether the query is not singular (it yields an array).
        plural: bool,
    },
    /// Segment `segment` names something the schema does not declare.
    Missing {
        /// Index of the offending segment.
        segment: usize,
        /// The name it asked for (or `[n]` for an index into a non-array).
        name: String,
        /// Field names declared there.
        known: Vec<String>,
    },
    /// The schema does not say from some point on.
    Unknown {
        /// Whether the query is not singular.
        plural: bool,
        /// The segment that reads into a value whose schema declares nothing (a free-form object or
        /// array); `None` when a descendant segment (`..`) is what cannot be followed.
        from: Option<usize>,
    },
}

impl Walk {
    /// The JSON types the query yields.
    pub fn types(&self, root: &Value) -> TypeSet {
        match self {
            Walk::Found { plural: true, .. } | Walk::Unknown { plural: true, .. } => TypeSet::ARRAY,
            Walk::Found { schema, .. } => types(root, schema),
            Walk::Unknown { .. } => TypeSet::ANY,
            Walk::Missing { .. } => TypeSet::NONE,
        }
    }
}

/// Follows `$ref`s into `root`.
pub fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    for _ in 0..32 {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match reference
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer))
        {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

fn variants(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
}

/// The values a schema allows when it is a closed list: `enum`, `const`, or a `oneOf`/`anyOf` of those
/// (schemars writes documented enums that way).
pub fn allowed_values(root: &Value, schema: &Value) -> Option<Vec<Value>> {
    let schema = resolve(root, schema);
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(values.clone());
    }
    if let Some(value) = schema.get("const") {
        return Some(vec![value.clone()]);
    }
    let list = variants(schema)?;
    let mut values = Vec::new();
    for variant in list {
        values.extend(allowed_values(root, variant)?);
    }
    Some(values)
}

/// The JSON types a schema allows.
pub fn types(root: &Value, schema: &Value) -> TypeSet {
    let schema = resolve(root, schema);
    match schema {
        Value::Bool(true) => return TypeSet::ANY,
        Value::Bool(false) => return TypeSet::NONE,
        _ => {}
    }
    if let Some(list) = variants(schema) {
        return list
            .iter()
            .fold(TypeSet::NONE, |set, v| set.union(types(root, v)));
    }
    if let Some(value) = schema.get("const") {
        return TypeSet::of_value(value);
    }
    match schema.get("type") {
        Some(Value::String(name)) => TypeSet::of_name(name),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .fold(TypeSet::NONE, |set, name| set.union(TypeSet::of_name(name))),
        _ => match schema.get("enum").and_then(Value::as_array) {
            Some(values) => values
                .iter()
                .fold(TypeSet::NONE, |set, v| set.union(TypeSet::of_value(v))),
            None if schema.get("properties").is_some() => TypeSet::OBJECT,
            None => TypeSet::ANY,
        },
    }
}

fn combine(results: Vec<Lookup<'_>>) -> Lookup<'_> {
    let mut found = Vec::new();
    let mut known = Vec::new();
    for result in results {
        match result {
            Lookup::Unknown => return Lookup::Unknown,
            Lookup::Found(schema) => found.push(schema),
            Lookup::Missing { known: k } => known.extend(k),
        }
    }
    match found.len() {
        0 => {
            known.dedup();
            Lookup::Missing { known }
        }
        1 => Lookup::Found(found.remove(0)),
        _ => Lookup::Found(Cow::Owned(
            json!({ "anyOf": found.into_iter().map(Cow::into_owned).collect::<Vec<_>>() }),
        )),
    }
}

fn is_null(root: &Value, schema: &Value) -> bool {
    types(root, schema) == TypeSet::of_name("null")
}

/// The schema of field `name` of an object described by `schema`.
pub fn property<'a>(root: &'a Value, schema: &'a Value, name: &str) -> Lookup<'a> {
    let schema = resolve(root, schema);
    match schema {
        Value::Bool(true) => return Lookup::Unknown,
        Value::Bool(false) => return Lookup::Missing { known: Vec::new() },
        _ => {}
    }
    if let Some(list) = variants(schema) {
        let non_null = list.iter().filter(|v| !is_null(root, v));
        return combine(non_null.map(|v| property(root, v, name)).collect());
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return combine(all.iter().map(|v| property(root, v, name)).collect());
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(found) = properties.and_then(|p| p.get(name)) {
        return Lookup::Found(Cow::Borrowed(found));
    }
    let known = || {
        properties
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    match schema.get("additionalProperties") {
        Some(Value::Bool(false)) => Lookup::Missing { known: known() },
        Some(Value::Bool(true)) => Lookup::Unknown,
        Some(other) => Lookup::Found(Cow::Borrowed(other)),
        None if properties.is_some() => Lookup::Missing { known: known() },
        None if schema.get("patternProperties").is_some() => Lookup::Unknown,
        None if types(root, schema).fits(TypeSet::OBJECT) => Lookup::Unknown,
        None => Lookup::Missing { known: Vec::new() },
    }
}

/// The schema of the items of an array described by `schema`.
pub fn items<'a>(root: &'a Value, schema: &'a Value) -> Lookup<'a> {
    let schema = resolve(root, schema);
    match schema {
        Value::Bool(true) => return Lookup::Unknown,
        Value::Bool(false) => return Lookup::Missing { known: Vec::new() },
        _ => {}
    }
    if let Some(list) = variants(schema) {
        let non_null = list.iter().filter(|v| !is_null(root, v));
        return combine(non_null.map(|v| items(root, v)).collect());
    }
    match schema.get("items") {
        Some(Value::Bool(true)) => Lookup::Unknown,
        Some(items) => Lookup::Found(Cow::Borrowed(items)),
        None if types(root, schema).fits(TypeSet::ARRAY) => Lookup::Unknown,
        None => Lookup::Missing { known: Vec::new() },
    }
}

/// The schema of any member of an object or array (for wildcards and filters).
fn members<'a>(root: &'a Value, schema: &'a Value) -> Lookup<'a> {
    let schema = resolve(root, schema);
    let as_array = items(root, schema);
    if !matches!(as_array, Lookup::Missing { .. }) {
        return as_array;
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    let mut found: Vec<Lookup<'a>> = properties
        .map(|p| {
            p.values()
                .map(|v| Lookup::Found(Cow::Borrowed(v)))
                .collect()
        })
        .unwrap_or_default();
    match schema.get("additionalProperties") {
        Some(Value::Bool(false)) | None if properties.is_some() => {}
        Some(Value::Bool(true)) | None => return Lookup::Unknown,
        Some(other) => found.push(Lookup::Found(Cow::Borrowed(other))),
    }
    combine(found)
}

/// Walks `segments` from `schema`; `first_index` is the index of `segments[0]` in the whole query (for
/// reporting which segment is at fault). Only the schema finally found is copied.
pub fn walk(root: &Value, schema: &Value, segments: &[Segment], first_index: usize) -> Walk {
    walk_from(root, schema, segments, first_index, false)
}

fn walk_from(root: &Value, current: &Value, segments: &[Segment], at: usize, plural: bool) -> Walk {
    let Some((segment, rest)) = segments.split_first() else {
        return Walk::Found {
            schema: current.clone(),
            plural,
        };
    };
    let (lookup, many) = match segment {
        Segment::Descendant(_) => {
            return Walk::Unknown {
                plural: true,
                from: None,
            };
        }
        Segment::Selector(selector) => step(root, current, selector),
        Segment::Selectors(selectors) => {
            let mut results = Vec::with_capacity(selectors.len());
            for selector in selectors {
                match step(root, current, selector).0 {
                    Lookup::Missing { known } => {
                        return Walk::Missing {
                            segment: at,
                            name: selector_name(selector),
                            known,
                        };
                    }
                    found => results.push(found),
                }
            }
            (combine(results), true)
        }
    };
    let plural = plural || many;
    match lookup {
        Lookup::Found(next) => walk_from(root, &next, rest, at + 1, plural),
        Lookup::Missing { known } => {
            let name = match segment {
                Segment::Selector(selector) => selector_name(selector),
                _ => String::new(),
            };
            Walk::Missing {
                segment: at,
                name,
                known,
            }
        }
        Lookup::Unknown => Walk::Unknown {
            plural: plural || rest.iter().any(is_plural),
            from: Some(at),
        },
    }
}

fn is_plural(segment: &Segment) -> bool {
    !matches!(
        segment,
        Segment::Selector(Selector::Name(_) | Selector::Index(_))
    )
}

fn selector_name(selector: &Selector) -> String {
    match selector {
        Selector::Name(name) => name.clone(),
        Selector::Index(index) => format!("[{index}]"),
        Selector::Wildcard => "*".into(),
        Selector::Slice(..) => "[:]".into(),
        Selector::Filter(_) => "[?]".into(),
    }
}

fn step<'a>(root: &'a Value, schema: &'a Value, selector: &Selector) -> (Lookup<'a>, bool) {
    match selector {
        Selector::Name(name) => (property(root, schema, name), false),
        Selector::Index(_) => (items(root, schema), false),
        Selector::Wildcard | Selector::Filter(_) => (members(root, schema), true),
        Selector::Slice(..) => (items(root, schema), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::JsonPathQuery;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "KeyMetadata": {
                    "type": "object",
                    "properties": { "Arn": {"type": "string"}, "KeyId": {"type": "string"} }
                },
                "Aliases": { "type": "array", "items": { "$ref": "#/$defs/Alias" } },
                "Tags": { "type": ["object", "null"], "additionalProperties": {"type": "string"} },
                "Anything": true
            },
            "$defs": { "Alias": { "type": "object", "properties": { "AliasName": {"type": "string"} } } }
        })
    }

    fn walked(query: &str) -> Walk {
        let root = schema();
        let query = JsonPathQuery::parse(query).expect("query");
        walk(&root, &root, query.segments(), 0)
    }

    #[test]
    fn declared_fields_are_found_with_their_types() {
        let root = schema();
        assert_eq!(walked("$.KeyMetadata.Arn").types(&root), TypeSet::STRING);
        assert_eq!(
            walked("$.Aliases[0].AliasName").types(&root),
            TypeSet::STRING
        );
        assert_eq!(
            walked("$.Aliases[*].AliasName").types(&root),
            TypeSet::ARRAY
        );
        assert_eq!(walked("$.Tags.team").types(&root), TypeSet::STRING);
        assert_eq!(walked("$.KeyMetadata").types(&root), TypeSet::OBJECT);
        assert_eq!(walked("$.Anything.deep.down").types(&root), TypeSet::ANY);
        assert_eq!(
            walked("$.Anything.deep.down"),
            Walk::Unknown {
                plural: false,
                from: Some(1)
            },
            "the first segment read into what declares nothing"
        );
        assert_eq!(
            walked("$..Arn"),
            Walk::Unknown {
                plural: true,
                from: None
            }
        );
    }

    #[test]
    fn undeclared_fields_are_missing_with_the_known_ones() {
        assert_eq!(
            walked("$.KeyMetadata.Arm"),
            Walk::Missing {
                segment: 1,
                name: "Arm".into(),
                known: vec!["Arn".into(), "KeyId".into()]
            }
        );
        assert!(matches!(
            walked("$.Aliases[0].Name"),
            Walk::Missing { segment: 2, .. }
        ));
        assert!(matches!(
            walked("$.KeyMetadata.Arn.x"),
            Walk::Missing { segment: 2, .. }
        ));
        assert!(matches!(
            walked("$.KeyMetadata[0]"),
            Walk::Missing { segment: 1, .. }
        ));
    }
}
