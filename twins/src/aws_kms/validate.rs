//! Requests checked against the KMS API model before anything is looked up, as AWS checks them: a body
//! that does not deserialize into the operation's input shape is a `SerializationException`; then every
//! member, in the model's order and down through structures, lists and maps, is checked for what the model
//! declares (required, length, value range, pattern, enum), and every violation is reported at once in
//! one `ValidationException`, in AWS's words:
//!
//! `2 validation errors detected: Value 'x' at 'aliasName' failed to satisfy constraint: Member must
//! satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$; Value null at 'targetKeyId' failed to satisfy
//! constraint: Member must not be null`
//!
//! Members are named as AWS names them: the first letter lowercased, a list's items as
//! `tags.1.member.tagKey` (counted from 1). The operations' own rules (key states, policies, the 7 to 30
//! day deletion window) come after this, in the handlers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::model::{Kind, Model, Shape, model};
use super::wire::KmsError;

/// Checks the body of a request for `operation` against its input shape.
pub fn request(operation: &str, body: &Value) -> Result<(), KmsError> {
    let model = model().map_err(KmsError::internal)?;
    let Some(input) = model.operations.get(operation) else {
        return Ok(());
    };
    let mut check = Check {
        model,
        violations: Vec::new(),
    };
    check.value(input, body, "")?;
    match check.violations.len() {
        0 => Ok(()),
        1 => Err(KmsError::validation(format!(
            "1 validation error detected: {}",
            check.violations[0]
        ))),
        n => Err(KmsError::validation(format!(
            "{n} validation errors detected: {}",
            check.violations.join("; ")
        ))),
    }
}

/// One request being checked: the violations found so far.
struct Check<'m> {
    model: &'m Model,
    violations: Vec<String>,
}

impl<'m> Check<'m> {
    fn shape(&self, name: &str) -> Result<&'m Shape, KmsError> {
        let model: &'m Model = self.model;
        model
            .shapes
            .get(name)
            .ok_or_else(|| KmsError::internal(format!("the KMS API model has no shape `{name}`")))
    }

    /// Checks `value` (not null) against shape `name`, found at `path`.
    fn value(&mut self, name: &str, value: &Value, path: &str) -> Result<(), KmsError> {
        let shape = self.shape(name)?;
        match (shape.kind, value) {
            (Kind::Structure, Value::Object(object)) => {
                for (member, member_shape) in &shape.members {
                    let at = member_path(path, member);
                    match object.get(member).filter(|v| !v.is_null()) {
                        Some(inner) => self.value(member_shape, inner, &at)?,
                        None if shape.required.contains(member) => self.violations.push(violation(
                            "Value null",
                            &at,
                            "Member must not be null",
                        )),
                        None => {}
                    }
                }
            }
            (Kind::List, Value::Array(items)) => {
                let member = shape.member.as_deref().unwrap_or_default();
                self.length(shape, items.len(), value, path);
                for (i, item) in items.iter().enumerate() {
                    if !item.is_null() {
                        self.value(member, item, &format!("{path}.{}.member", i + 1))?;
                    }
                }
            }
            (Kind::Map, Value::Object(entries)) => {
                let (key, inner) = (
                    shape.key.as_deref().unwrap_or_default(),
                    shape.value.as_deref().unwrap_or_default(),
                );
                self.length(shape, entries.len(), value, path);
                for (name, entry) in entries {
                    self.value(key, &Value::String(name.clone()), &format!("{path}.key"))?;
                    if !entry.is_null() {
                        self.value(inner, entry, &format!("{path}.{name}"))?;
                    }
                }
            }
            (Kind::String, Value::String(text)) => {
                self.length(shape, text.encode_utf16().count(), value, path);
                if let Some(pattern) = &shape.pattern {
                    let matches = self.model.patterns.get(pattern).map(|r| r.is_match(text));
                    if matches == Some(false) {
                        let constraint =
                            format!("Member must satisfy regular expression pattern: {pattern}");
                        self.violations
                            .push(violation(&shown(shape, value), path, &constraint));
                    }
                }
                if let Some(values) = &shape.values
                    && !values.contains(text)
                {
                    let constraint = format!(
                        "Member must satisfy enum value set: [{}]",
                        values.join(", ")
                    );
                    self.violations
                        .push(violation(&shown(shape, value), path, &constraint));
                }
            }
            (Kind::Integer | Kind::Long, Value::Number(number)) => {
                let n = number
                    .as_i64()
                    .filter(|n| shape.kind == Kind::Long || i32::try_from(*n).is_ok())
                    .ok_or_else(|| not_of_shape(path, shape.kind, value))?;
                let held =
                    |bound: Option<i64>, ok: fn(i64, i64) -> bool| bound.is_none_or(|b| ok(n, b));
                if !held(shape.min, |n, min| n >= min) {
                    let constraint = format!(
                        "Member must have value greater than or equal to {}",
                        shape.min.unwrap_or_default()
                    );
                    self.violations
                        .push(violation(&shown(shape, value), path, &constraint));
                }
                if !held(shape.max, |n, max| n <= max) {
                    let constraint = format!(
                        "Member must have value less than or equal to {}",
                        shape.max.unwrap_or_default()
                    );
                    self.violations
                        .push(violation(&shown(shape, value), path, &constraint));
                }
            }
            (Kind::Blob, Value::String(text)) => {
                let bytes = STANDARD.decode(text).map_err(|_| {
                    KmsError::new(
                        "SerializationException",
                        format!(
                            "Value at '{path}' is not base64: send binary members base64-encoded"
                        ),
                    )
                })?;
                self.length(shape, bytes.len(), value, path);
            }
            (Kind::Boolean, Value::Bool(_))
            | (Kind::Timestamp, Value::Number(_) | Value::String(_)) => {}
            _ => return Err(not_of_shape(path, shape.kind, value)),
        }
        Ok(())
    }

    /// Checks a length (characters, bytes, items or entries) against the shape's bounds.
    fn length(&mut self, shape: &Shape, length: usize, value: &Value, path: &str) {
        let length = i64::try_from(length).unwrap_or(i64::MAX);
        if let Some(min) = shape.min.filter(|min| length < *min) {
            let constraint = format!("Member must have length greater than or equal to {min}");
            self.violations
                .push(violation(&shown(shape, value), path, &constraint));
        }
        if let Some(max) = shape.max.filter(|max| length > *max) {
            let constraint = format!("Member must have length less than or equal to {max}");
            self.violations
                .push(violation(&shown(shape, value), path, &constraint));
        }
    }
}

/// The path of `member` inside `path`, as AWS writes it (`tags.1.member.tagKey`).
fn member_path(path: &str, member: &str) -> String {
    let mut chars = member.chars();
    let first: String = chars
        .next()
        .into_iter()
        .flat_map(char::to_lowercase)
        .collect();
    let member = format!("{first}{}", chars.as_str());
    if path.is_empty() {
        member
    } else {
        format!("{path}.{member}")
    }
}

/// How a violation names the value: `Value 'x'`, or only `Value` for a sensitive member, bytes, a list or
/// a map, which AWS does not repeat.
fn shown(shape: &Shape, value: &Value) -> String {
    match value {
        _ if shape.sensitive => "Value".into(),
        Value::String(text) if shape.kind == Kind::String => format!("Value '{text}'"),
        Value::Number(n) => format!("Value '{n}'"),
        _ => "Value".into(),
    }
}

fn violation(value: &str, path: &str, constraint: &str) -> String {
    format!("{value} at '{path}' failed to satisfy constraint: {constraint}")
}

/// The `SerializationException` of a value of the wrong JSON type.
fn not_of_shape(path: &str, kind: Kind, value: &Value) -> KmsError {
    let found = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let expected = match kind {
        Kind::Structure => "an object",
        Kind::List => "an array",
        Kind::Map => "an object of strings",
        Kind::String => "a string",
        Kind::Integer => "a 32-bit integer",
        Kind::Long => "a 64-bit integer",
        Kind::Boolean => "a boolean",
        Kind::Blob => "a base64 string",
        Kind::Timestamp => "a number of epoch seconds",
    };
    let message = if path.is_empty() {
        format!("The request body is {found}; the KMS API takes {expected}")
    } else {
        format!("Value at '{path}' is {found}; the KMS API takes {expected} there")
    };
    KmsError::new("SerializationException", message)
}
