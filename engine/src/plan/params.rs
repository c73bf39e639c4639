//! Flow parameters: their checked declarations, and binding the values a run is given.

use indexmap::IndexMap;
use regex::Regex;
use serde_json::Value;

use super::Plan;
use crate::diagnostic::suggest;
use crate::expr::json_equal;
use crate::model::ParamType;

/// A declared parameter.
#[derive(Debug, Clone)]
pub struct ParamSpec {
    /// The name.
    pub name: String,
    /// The type.
    pub ty: ParamType,
    /// The default; `None` makes the parameter required.
    pub default: Option<Value>,
    /// What it is for.
    pub description: Option<String>,
    /// The allowed values.
    pub allowed: Option<Vec<Value>>,
    /// The pattern a string must match.
    pub pattern: Option<Regex>,
}

/// A value given for a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// Text from `--param name=text`, read according to the parameter's type.
    Text(String),
    /// A typed value from `--params-file`.
    Json(Value),
}

/// A parameter value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter `{name}`: {message}")]
pub struct ParamError {
    /// The parameter.
    pub name: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl ParamSpec {
    /// Checks a value against the declaration.
    pub fn accept(&self, value: &Value) -> Result<(), String> {
        if !self.ty.accepts(value) {
            return Err(format!(
                "expected {} {}, got `{value}`",
                article(self.ty.name()),
                self.ty.name()
            ));
        }
        if let Some(allowed) = &self.allowed
            && !allowed.iter().any(|a| json_equal(a, value))
        {
            let list: Vec<String> = allowed.iter().map(|a| format!("`{}`", plain(a))).collect();
            return Err(format!(
                "`{}` is not one of {}",
                plain(value),
                list.join(", ")
            ));
        }
        if let (Some(pattern), Some(text)) = (&self.pattern, value.as_str())
            && !pattern.is_match(text)
        {
            return Err(format!("`{text}` does not match `{}`", pattern.as_str()));
        }
        Ok(())
    }

    /// Reads command-line text as a value of the parameter's type.
    pub fn parse(&self, text: &str) -> Result<Value, String> {
        let bad = || {
            format!(
                "`{text}` is not {} {}",
                article(self.ty.name()),
                self.ty.name()
            )
        };
        match self.ty {
            ParamType::String => Ok(Value::String(text.to_string())),
            ParamType::Integer => text
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| bad()),
            ParamType::Number => text
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(bad),
            ParamType::Boolean => match text.trim() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(format!(
                    "`{text}` is not a boolean: write `true` or `false`"
                )),
            },
            ParamType::Object | ParamType::Array => serde_yaml::from_str::<Value>(text)
                .ok()
                .filter(|v| self.ty.accepts(v))
                .ok_or_else(|| {
                    format!(
                        "{}; write it as JSON or flow YAML, e.g. `{}`",
                        bad(),
                        match self.ty {
                            ParamType::Object => "{\"a\": 1}",
                            _ => "[\"a\", \"b\"]",
                        }
                    )
                }),
        }
    }
}

impl Plan {
    /// Binds the values a run is given to the declared parameters, applying defaults; reports every
    /// unknown, missing or invalid parameter.
    pub fn bind_params(
        &self,
        given: &IndexMap<String, ParamValue>,
    ) -> Result<Value, Vec<ParamError>> {
        let mut errors = Vec::new();
        for name in given.keys().filter(|name| !self.params.contains_key(*name)) {
            let message = match suggest(name, self.params.keys()) {
                Some(close) => format!("the flow has no such parameter; did you mean `{close}`?"),
                None if self.params.is_empty() => "the flow declares no parameters".to_string(),
                None => format!(
                    "the flow has no such parameter; it declares {}",
                    self.params
                        .keys()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            errors.push(ParamError {
                name: name.clone(),
                message,
            });
        }
        let mut bound = serde_json::Map::new();
        for (name, spec) in &self.params {
            let value = match given.get(name) {
                Some(ParamValue::Text(text)) => spec.parse(text),
                Some(ParamValue::Json(value)) => Ok(value.clone()),
                None => match &spec.default {
                    Some(default) => Ok(default.clone()),
                    None => Err(format!(
                        "required; give it with `--param {name}=…`{}",
                        spec.description
                            .as_ref()
                            .map(|d| format!(" ({d})"))
                            .unwrap_or_default()
                    )),
                },
            };
            match value.and_then(|v| spec.accept(&v).map(|()| v)) {
                Ok(value) => {
                    bound.insert(name.clone(), value);
                }
                Err(message) => errors.push(ParamError {
                    name: name.clone(),
                    message,
                }),
            }
        }
        if errors.is_empty() {
            Ok(Value::Object(bound))
        } else {
            Err(errors)
        }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
