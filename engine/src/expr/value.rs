//! Value expressions: a block input (or flow output) as a tree of literals, references and templates.

use indexmap::IndexMap;
use serde_json::Value;

use super::reference::{Reference, ReferenceError};
use super::scope::Scope;
use super::template::{TemplateExpr, TemplateSyntaxError};
use crate::source::YamlPath;

/// A value as written in `with:`, compiled.
#[derive(Debug, Clone)]
pub enum ValueExpr {
    /// A value with no reference or template anywhere inside.
    Literal(Value),
    /// `$.steps.x.output.y`: replaced by what it selects, keeping its JSON type.
    Ref(Box<Reference>),
    /// `"cmk-{{params.tenant}}"`: rendered to a string.
    Template(Box<TemplateExpr>),
    /// A mapping with expressions inside.
    Object(IndexMap<String, ValueExpr>),
    /// A list with expressions inside.
    Array(Vec<ValueExpr>),
}

/// A malformed expression found while compiling, with where it is.
#[derive(Debug, Clone)]
pub struct ExprIssue {
    /// The value that holds it.
    pub at: YamlPath,
    /// The text of the expression.
    pub text: String,
    /// What is wrong.
    pub error: ExprError,
}

/// What is wrong with an expression.
#[derive(Debug, Clone)]
pub enum ExprError {
    /// A malformed reference.
    Reference(ReferenceError),
    /// A template that does not compile.
    Template(TemplateSyntaxError),
    /// A condition that is not exactly one form.
    Condition(String),
    /// A regular expression that does not compile.
    Regex(String),
}

/// A leaf expression met by [`ValueExpr::visit`].
#[derive(Debug, Clone, Copy)]
pub enum Leaf<'a> {
    /// A reference.
    Ref(&'a Reference),
    /// A template.
    Template(&'a TemplateExpr),
}

/// Why an expression could not be evaluated at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// A singular reference selected nothing.
    NoMatch {
        /// The reference.
        reference: String,
    },
    /// A template failed to render.
    Render {
        /// The template.
        template: String,
        /// Why.
        message: String,
    },
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::NoMatch { reference } => write!(f, "`{reference}` selected nothing"),
            ResolveError::Render { template, message } => {
                write!(f, "template `{template}` failed: {message}")
            }
        }
    }
}

impl ValueExpr {
    /// Compiles a raw value, collecting malformed expressions into `issues` (each becomes a literal).
    pub fn compile(value: &Value, at: &YamlPath, issues: &mut Vec<ExprIssue>) -> ValueExpr {
        crate::source::work::count(1 + value.as_str().map_or(0, str::len));
        match value {
            Value::String(text) => compile_string(text, at, issues),
            Value::Array(items) => {
                let items: Vec<ValueExpr> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| ValueExpr::compile(item, &at.index(i), issues))
                    .collect();
                if items
                    .iter()
                    .all(|item| matches!(item, ValueExpr::Literal(_)))
                {
                    ValueExpr::Literal(Value::Array(
                        items.into_iter().map(ValueExpr::into_literal).collect(),
                    ))
                } else {
                    ValueExpr::Array(items)
                }
            }
            Value::Object(map) => {
                let fields: IndexMap<String, ValueExpr> = map
                    .iter()
                    .map(|(key, value)| {
                        (key.clone(), ValueExpr::compile(value, &at.key(key), issues))
                    })
                    .collect();
                if fields
                    .values()
                    .all(|field| matches!(field, ValueExpr::Literal(_)))
                {
                    ValueExpr::Literal(Value::Object(
                        fields
                            .into_iter()
                            .map(|(k, v)| (k, v.into_literal()))
                            .collect(),
                    ))
                } else {
                    ValueExpr::Object(fields)
                }
            }
            other => ValueExpr::Literal(other.clone()),
        }
    }

    fn into_literal(self) -> Value {
        match self {
            ValueExpr::Literal(value) => value,
            _ => Value::Null,
        }
    }

    /// Calls `f` with every reference and template inside, and where it is.
    pub fn visit<'a>(&'a self, at: &YamlPath, f: &mut impl FnMut(&YamlPath, Leaf<'a>)) {
        match self {
            ValueExpr::Literal(_) => {}
            ValueExpr::Ref(reference) => f(at, Leaf::Ref(reference)),
            ValueExpr::Template(template) => f(at, Leaf::Template(template)),
            ValueExpr::Object(fields) => {
                for (key, field) in fields {
                    field.visit(&at.key(key), f);
                }
            }
            ValueExpr::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    item.visit(&at.index(i), f);
                }
            }
        }
    }

    /// Evaluates the expression in `scope`.
    pub fn resolve(&self, scope: &Scope<'_>) -> Result<Value, ResolveError> {
        match self {
            ValueExpr::Literal(value) => Ok(value.clone()),
            ValueExpr::Ref(reference) => resolve_reference(reference, scope),
            ValueExpr::Template(template) => template
                .render_with(
                    |names| scope.lookup(names),
                    || scope.template_data(template),
                )
                .map(Value::String)
                .map_err(|error| ResolveError::Render {
                    template: template.source().to_string(),
                    message: error.to_string(),
                }),
            ValueExpr::Object(fields) => fields
                .iter()
                .map(|(key, field)| Ok((key.clone(), field.resolve(scope)?)))
                .collect::<Result<serde_json::Map<_, _>, _>>()
                .map(Value::Object),
            ValueExpr::Array(items) => items
                .iter()
                .map(|item| item.resolve(scope))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
        }
    }
}

/// A singular reference yields its one value (none is an error); any other yields the array of its nodes.
pub fn resolve_reference(reference: &Reference, scope: &Scope<'_>) -> Result<Value, ResolveError> {
    let mut nodes = scope.select(reference);
    if reference.is_singular() {
        match nodes.pop() {
            Some(value) => Ok(value.into_owned()),
            None => Err(ResolveError::NoMatch {
                reference: reference.text().to_string(),
            }),
        }
    } else {
        Ok(Value::Array(
            nodes.into_iter().map(|v| v.into_owned()).collect(),
        ))
    }
}

fn compile_string(text: &str, at: &YamlPath, issues: &mut Vec<ExprIssue>) -> ValueExpr {
    if let Some(escaped) = text.strip_prefix("$$") {
        return ValueExpr::Literal(Value::String(format!("${escaped}")));
    }
    let issue = |error| ExprIssue {
        at: at.clone(),
        text: text.to_string(),
        error,
    };
    if Reference::looks_like(text) {
        return match Reference::parse(text) {
            Ok(reference) => ValueExpr::Ref(Box::new(reference)),
            Err(error) => {
                issues.push(issue(ExprError::Reference(error)));
                ValueExpr::Literal(Value::String(text.to_string()))
            }
        };
    }
    if TemplateExpr::looks_like(text) {
        return match TemplateExpr::compile(text) {
            Ok(template) => ValueExpr::Template(Box::new(template)),
            Err(error) => {
                issues.push(issue(ExprError::Template(error)));
                ValueExpr::Literal(Value::String(text.to_string()))
            }
        };
    }
    ValueExpr::Literal(Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{StepEntries, StepEntry};
    use serde_json::json;
    use std::sync::Arc;

    fn compile(value: Value) -> ValueExpr {
        let mut issues = Vec::new();
        let expr = ValueExpr::compile(&value, &YamlPath::root(), &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        expr
    }

    #[test]
    fn references_keep_their_type_and_templates_render() {
        let mut steps = StepEntries::new();
        steps.insert(
            "k".into(),
            Arc::new(
                StepEntry::succeeded(&json!({"Meta": {"Id": "abc", "Tags": [1, 2]}})).to_value(),
            ),
        );
        let params = json!({"tenant": "t1"});
        let run = json!({"id": "r"});
        let scope = Scope {
            params: &params,
            run: &run,
            steps: &steps,
            item: None,
            output: None,
        };
        let expr = compile(json!({
            "id": "$.steps.k.output.Meta.Id",
            "tags": "$.steps.k.output.Meta.Tags",
            "all": "$.steps.k.output.Meta.Tags[*]",
            "name": "cmk-{{params.tenant}}-{{steps.k.output.Meta.Id}}",
            "literal": "$$.not.a.ref",
            "n": 3
        }));
        assert_eq!(
            expr.resolve(&scope),
            Ok(
                json!({"id": "abc", "tags": [1, 2], "all": [1, 2], "name": "cmk-t1-abc", "literal": "$.not.a.ref", "n": 3})
            )
        );
        let missing = compile(json!("$.steps.k.output.Nope"));
        assert_eq!(
            missing.resolve(&scope),
            Err(ResolveError::NoMatch {
                reference: "$.steps.k.output.Nope".into()
            })
        );
    }

    #[test]
    fn malformed_expressions_are_collected_with_their_place() {
        let mut issues = Vec::new();
        ValueExpr::compile(
            &json!({"a": "$.steps[", "b": ["{{#if x}}"]}),
            &YamlPath::root().key("with"),
            &mut issues,
        );
        let places: Vec<String> = issues.iter().map(|i| i.at.to_string()).collect();
        assert_eq!(places, ["with.a", "with.b[0]"]);
    }
}
