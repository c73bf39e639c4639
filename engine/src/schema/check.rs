//! Checking a literal value against a JSON Schema, reporting each problem with where it is.
//!
//! Only what a block's input schema expresses and a reviewer would want caught before a run: types,
//! `enum`/`const`, required and unknown fields of closed objects, array items, and numeric and pattern
//! bounds. Problems carry the relative path of the offending value so that the caller can point at it.

use regex::Regex;
use serde_json::Value;

use super::types::TypeSet;
use super::walk::{allowed_values, resolve, types};
use crate::source::YamlPath;

/// One problem with a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The value's type is not allowed.
    Type {
        /// Allowed types.
        expected: TypeSet,
        /// The value's type.
        found: TypeSet,
    },
    /// The value is not one of the allowed values.
    NotAllowed {
        /// The allowed values.
        allowed: Vec<Value>,
    },
    /// A required field is missing from an object.
    Missing {
        /// The field.
        field: String,
    },
    /// A field the object does not have.
    Unknown {
        /// The field.
        field: String,
        /// The fields it has.
        known: Vec<String>,
    },
    /// A bound (`minimum`, `maximum`, `pattern`, lengths) is not met.
    Bound {
        /// What the schema requires, in words.
        message: String,
    },
}

/// A problem at a place inside the checked value.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Where, relative to the value checked (`tags.team`).
    pub at: YamlPath,
    /// What.
    pub problem: Problem,
}

/// Checks `value` against `schema`; `at` is the value's own path, extended for nested problems.
pub fn check(root: &Value, schema: &Value, value: &Value, at: &YamlPath, out: &mut Vec<Found>) {
    let schema = resolve(root, schema);
    if let Value::Bool(allowed) = schema {
        if !allowed {
            out.push(Found {
                at: at.clone(),
                problem: Problem::Type {
                    expected: TypeSet::NONE,
                    found: TypeSet::of_value(value),
                },
            });
        }
        return;
    }
    if let Some(allowed) = allowed_values(root, schema) {
        if !allowed.contains(value) {
            out.push(Found {
                at: at.clone(),
                problem: Problem::NotAllowed { allowed },
            });
        }
        return;
    }
    if let Some(list) = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
    {
        let mut best: Option<Vec<Found>> = None;
        for variant in list {
            let mut found = Vec::new();
            check(root, variant, value, at, &mut found);
            if found.is_empty() {
                return;
            }
            let variant_fits = TypeSet::of_value(value).fits(types(root, variant));
            if variant_fits && best.as_ref().is_none_or(|b| found.len() < b.len()) {
                best = Some(found);
            }
        }
        out.extend(best.unwrap_or_else(|| {
            vec![Found {
                at: at.clone(),
                problem: Problem::Type {
                    expected: types(root, schema),
                    found: TypeSet::of_value(value),
                },
            }]
        }));
        return;
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check(root, part, value, at, out);
    }
    let expected = types(root, schema);
    let found = TypeSet::of_value(value);
    if !found.fits(expected) {
        out.push(Found {
            at: at.clone(),
            problem: Problem::Type { expected, found },
        });
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        out.push(Found {
            at: at.clone(),
            problem: Problem::NotAllowed {
                allowed: allowed.clone(),
            },
        });
        return;
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        out.push(Found {
            at: at.clone(),
            problem: Problem::NotAllowed {
                allowed: vec![constant.clone()],
            },
        });
        return;
    }
    bounds(schema, value, at, out);
    match value {
        Value::Object(map) => object(root, schema, map, at, out),
        Value::Array(list) => {
            if let Some(items) = schema.get("items") {
                for (i, item) in list.iter().enumerate() {
                    check(root, items, item, &at.index(i), out);
                }
            }
        }
        _ => {}
    }
}

fn object(
    root: &Value,
    schema: &Value,
    map: &serde_json::Map<String, Value>,
    at: &YamlPath,
    out: &mut Vec<Found>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    for field in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(field) {
            out.push(Found {
                at: at.clone(),
                problem: Problem::Missing {
                    field: field.to_string(),
                },
            });
        }
    }
    for (key, value) in map {
        match properties.and_then(|p| p.get(key)) {
            Some(property) => check(root, property, value, &at.key(key), out),
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => out.push(Found {
                    at: at.key(key),
                    problem: Problem::Unknown {
                        field: key.clone(),
                        known: properties
                            .map(|p| p.keys().cloned().collect())
                            .unwrap_or_default(),
                    },
                }),
                Some(additional @ Value::Object(_)) => {
                    check(root, additional, value, &at.key(key), out)
                }
                _ => {}
            },
        }
    }
}

fn bounds(schema: &Value, value: &Value, at: &YamlPath, out: &mut Vec<Found>) {
    let mut fail = |message: String| {
        out.push(Found {
            at: at.clone(),
            problem: Problem::Bound { message },
        })
    };
    if let Some(number) = value.as_f64() {
        // The schema's own number, so an integer bound reads `90`, not `90.0`.
        if let Some(min) = schema.get("minimum")
            && min.as_f64().is_some_and(|min| number < min)
        {
            fail(format!("at least {min}"));
        }
        if let Some(max) = schema.get("maximum")
            && max.as_f64().is_some_and(|max| number > max)
        {
            fail(format!("at most {max}"));
        }
    }
    if let Some(text) = value.as_str() {
        let len = text.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            fail(format!("at least {min} characters long"));
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            fail(format!("at most {max} characters long"));
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && Regex::new(pattern).is_ok_and(|re| !re.is_match(text))
        {
            fail(format!("a string matching `{pattern}`"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(schema: Value, value: Value) -> Vec<(String, Problem)> {
        let mut out = Vec::new();
        check(&schema, &schema, &value, &YamlPath::root(), &mut out);
        out.into_iter()
            .map(|f| (f.at.to_string(), f.problem))
            .collect()
    }

    #[test]
    fn types_enums_and_bounds() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {"enum": ["SYMMETRIC_DEFAULT", "RSA_2048"]},
                "days": {"type": "integer", "minimum": 7, "maximum": 30},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}]}
            },
            "required": ["spec"],
            "additionalProperties": false
        });
        assert!(
            problems(
                schema.clone(),
                json!({"spec": "RSA_2048", "days": 7, "tags": {"a": "b"}, "maybe": null})
            )
            .is_empty()
        );
        let found = problems(
            schema,
            json!({"days": 3, "tags": {"a": 1}, "maybe": 5, "extra": 1}),
        );
        let places: Vec<&str> = found.iter().map(|(at, _)| at.as_str()).collect();
        assert_eq!(places, ["", "days", "tags.a", "maybe", "extra"]);
        assert!(matches!(found[0].1, Problem::Missing { .. }));
        assert!(matches!(found[1].1, Problem::Bound { .. }));
        assert!(matches!(found[3].1, Problem::Type { .. }));
        assert!(matches!(found[4].1, Problem::Unknown { .. }));
    }
}
