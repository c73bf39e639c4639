//! Pass: every step gives its block's required inputs, no unknown ones, and values of the right type —
//! literals checked against the input schema, references by the type of the output field they read.

use serde_json::Value;

use super::typing::Schemas;
use super::{Compiled, CompiledStep, Context};
use crate::diagnostic::{At, Diagnostic, Kind, suggest};
use crate::expr::ValueExpr;
use crate::schema::TypeSet;
use crate::schema::check::{Problem, check as check_literal};
use crate::schema::walk::{Lookup, items, property, types};
use crate::source::{PathSeg, YamlPath};

pub(crate) fn check(
    ctx: &Context<'_>,
    compiled: &Compiled,
    schemas: &Schemas<'_>,
    out: &mut Vec<Diagnostic>,
) {
    for (i, step) in compiled.steps.iter().enumerate() {
        let Some(call) = &step.call else { continue };
        if call.spec().output_mirrors_input {
            continue;
        }
        let checker = Checker {
            schemas,
            suggester: &ctx.suggester,
            step: i,
            block: call.spec().id,
            root: call.input_schema(),
        };
        checker.step(ctx, step, out);
    }
}

struct Checker<'a> {
    schemas: &'a Schemas<'a>,
    suggester: &'a super::suggestions::Suggester,
    step: usize,
    block: &'a str,
    root: &'a Value,
}

impl Checker<'_> {
    fn step(&self, ctx: &Context<'_>, step: &CompiledStep, out: &mut Vec<Diagnostic>) {
        let schema = self.root;
        let properties = schema.get("properties").and_then(Value::as_object);
        let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
        let with_at = step.at.key("with");
        let missing_at = if ctx.flow.steps[self.step].with.is_empty() {
            At::Value(step.at.key("block"))
        } else {
            At::Key(with_at.clone())
        };
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let misspelled = step.with.keys().any(|key| {
                !properties.is_some_and(|p| p.contains_key(key))
                    && suggest(key, [required]).is_some()
            });
            if !step.with.contains_key(required) && !misspelled {
                out.push(Diagnostic {
                    kind: Kind::MissingInput {
                        input: required.into(),
                        block: self.block.into(),
                    },
                    at: missing_at.clone(),
                    suggestion: None,
                    note: None,
                });
            }
        }
        for (key, expr) in &step.with {
            let at = with_at.key(key);
            match properties.and_then(|p| p.get(key)) {
                Some(input) => self.expr(expr, input, &at, out),
                None if closed => {
                    let allowed: Vec<String> = properties
                        .map(|p| p.keys().cloned().collect())
                        .unwrap_or_default();
                    out.push(
                        Diagnostic::key(
                            Kind::UnknownInput {
                                input: key.clone(),
                                block: self.block.into(),
                                allowed: allowed.clone(),
                            },
                            &at,
                        )
                        .suggest(self.suggester.suggest(key, &allowed)),
                    );
                }
                None => {}
            }
        }
    }

    fn expr(&self, expr: &ValueExpr, schema: &Value, at: &YamlPath, out: &mut Vec<Diagnostic>) {
        let expected = types(self.root, schema);
        let hint = description(schema);
        let mismatch = |found: String| Kind::TypeMismatch {
            what: what(at),
            expected: expected.describe(),
            found,
            hint: hint.clone(),
        };
        match expr {
            ValueExpr::Literal(value) => {
                let mut found = Vec::new();
                check_literal(self.root, schema, value, at, &mut found);
                out.extend(
                    found
                        .into_iter()
                        .map(|f| self.problem(f.problem, &f.at, value, hint.clone())),
                );
            }
            ValueExpr::Template(_) => {
                if !TypeSet::STRING.fits(expected) {
                    out.push(Diagnostic::value(mismatch("a string (a template always renders text; use a reference such as `$.params.x` to pass a value with its type)".into()), at));
                }
            }
            ValueExpr::Ref(reference) => {
                let Some((walked, root)) = self.schemas.walk(reference, Some(self.step)) else {
                    return;
                };
                let found = walked.types(&root);
                if !found.is_empty() && !found.may_fit(expected) {
                    out.push(Diagnostic::value(
                        mismatch(format!("{} from `{}`", found.describe(), reference.text())),
                        at,
                    ));
                }
            }
            ValueExpr::Object(fields) => {
                if !TypeSet::OBJECT.fits(expected) {
                    out.push(Diagnostic::value(mismatch("an object".into()), at));
                    return;
                }
                for required in schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !fields.contains_key(required) {
                        out.push(Diagnostic::value(
                            Kind::Structure {
                                message: format!("{} is missing field `{required}`", what(at)),
                            },
                            at,
                        ));
                    }
                }
                for (key, field) in fields {
                    match property(self.root, schema, key) {
                        Lookup::Found(child) => self.expr(field, &child, &at.key(key), out),
                        Lookup::Missing { known } if !known.is_empty() => out.push(
                            Diagnostic::key(
                                Kind::UnknownField {
                                    field: key.clone(),
                                    allowed: known.clone(),
                                },
                                &at.key(key),
                            )
                            .suggest(self.suggester.suggest(key, &known)),
                        ),
                        _ => {}
                    }
                }
            }
            ValueExpr::Array(list) => {
                if !TypeSet::ARRAY.fits(expected) {
                    out.push(Diagnostic::value(mismatch("a list".into()), at));
                    return;
                }
                if let Lookup::Found(item) = items(self.root, schema) {
                    for (k, value) in list.iter().enumerate() {
                        self.expr(value, &item, &at.index(k), out);
                    }
                }
            }
        }
    }

    fn problem(
        &self,
        problem: Problem,
        at: &YamlPath,
        value: &Value,
        hint: Option<String>,
    ) -> Diagnostic {
        match problem {
            Problem::Type { expected, found } => Diagnostic::value(
                Kind::TypeMismatch {
                    what: what(at),
                    expected: expected.describe(),
                    found: found.describe(),
                    hint,
                },
                at,
            ),
            Problem::NotAllowed { allowed } => {
                let names: Vec<String> = allowed
                    .iter()
                    .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string))
                    .collect();
                let text = lookup(value, at)
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let suggestion = text.and_then(|t| self.suggester.suggest(&t, &names));
                Diagnostic::value(
                    Kind::NotAllowed {
                        what: what(at),
                        allowed: names,
                    },
                    at,
                )
                .suggest(suggestion)
            }
            Problem::Missing { field } => Diagnostic::value(
                Kind::Structure {
                    message: format!("{} is missing field `{field}`", what(at)),
                },
                at,
            ),
            Problem::Unknown { field, known } => {
                let suggestion = self.suggester.suggest(&field, &known);
                Diagnostic::key(
                    Kind::UnknownField {
                        field,
                        allowed: known,
                    },
                    at,
                )
                .suggest(suggestion)
            }
            Problem::Bound { message } => Diagnostic::value(
                Kind::TypeMismatch {
                    what: what(at),
                    expected: message,
                    found: lookup(value, at).map_or_else(String::new, |v| format!("`{v}`")),
                    hint,
                },
                at,
            ),
        }
    }
}

/// An input's description, as help for a value that does not fit it.
fn description(schema: &Value) -> Option<String> {
    let text = schema.get("description")?.as_str()?;
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// "input `tags.team`": the part of the path below `steps[i].with`.
fn what(at: &YamlPath) -> String {
    let below = YamlPath(at.0.iter().skip(3).cloned().collect());
    format!("input `{below}`")
}

/// The part of a checked literal at `at` (a path below `steps[i].with.<input>`).
fn lookup<'a>(value: &'a Value, at: &YamlPath) -> Option<&'a Value> {
    let mut current = value;
    for seg in at.0.iter().skip(4) {
        current = match seg {
            PathSeg::Key(key) => current.get(key)?,
            PathSeg::Index(i) => current.get(i)?,
        };
    }
    Some(current)
}
