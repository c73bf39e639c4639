//! Pass: connections name known connectors with valid settings and no literal secrets, and every
//! connector block has exactly one connection to use.

use std::sync::Arc;

use indexmap::IndexMap;

use super::{Compiled, Context};
use crate::block::RegisteredConnector;
use crate::diagnostic::{Diagnostic, Kind, suggest};
use crate::expr::ValueExpr;
use crate::plan::{Call, Setting};
use crate::schema::check::{Problem, check as check_literal};
use crate::source::YamlPath;

/// Setting names that hold secrets whatever the connector says.
const SECRET_WORDS: &[&str] = &[
    "secret",
    "password",
    "api_key",
    "apikey",
    "token",
    "private_key",
];

/// Which connection each step uses, and each connection's connector.
pub(crate) struct Resolved {
    pub per_step: Vec<Option<String>>,
    pub connectors: IndexMap<String, Arc<RegisteredConnector>>,
}

pub(crate) fn check(ctx: &Context<'_>, compiled: &Compiled, out: &mut Vec<Diagnostic>) -> Resolved {
    let mut connectors = IndexMap::new();
    for (name, connection) in &ctx.flow.connections {
        let at = YamlPath::root().key("connections").key(name);
        let Some(connector) = ctx.registry.get_connector(&connection.connector) else {
            let ids: Vec<&str> = ctx.registry.connectors().map(|c| c.spec.id).collect();
            out.push(
                Diagnostic::value(
                    Kind::UnknownConnector {
                        connector: connection.connector.clone(),
                    },
                    &at.key("connector"),
                )
                .suggest(suggest(&connection.connector, ids)),
            );
            continue;
        };
        connectors.insert(name.clone(), connector.clone());
        settings(connector, compiled.settings.get(name), &at, out);
    }
    replaced(ctx, compiled, out);
    let per_step = ctx
        .flow
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let at = YamlPath::root().key("steps").index(i);
            let call = ctx.call(i)?;
            let Some(wanted) = call.spec().connector else {
                if step.connection.is_some() {
                    out.push(Diagnostic::value(
                        Kind::NeedlessConnection {
                            block: ctx.block_name(i),
                        },
                        &at.key("connection"),
                    ));
                }
                return None;
            };
            match &step.connection {
                Some(name) => match ctx.flow.connections.get(name) {
                    None => {
                        out.push(
                            Diagnostic::value(
                                Kind::UnknownConnection { name: name.clone() },
                                &at.key("connection"),
                            )
                            .suggest(ctx.suggester.suggest(name, ctx.flow.connections.keys())),
                        );
                        None
                    }
                    Some(connection) if connection.connector != wanted => {
                        out.push(Diagnostic::value(
                            Kind::WrongConnector {
                                connection: name.clone(),
                                found: connection.connector.clone(),
                                expected: wanted.to_string(),
                            },
                            &at.key("connection"),
                        ));
                        None
                    }
                    Some(_) => Some(name.clone()),
                },
                None => {
                    let candidates: Vec<String> = ctx
                        .flow
                        .connections
                        .iter()
                        .filter(|(_, c)| c.connector == wanted)
                        .map(|(n, _)| n.clone())
                        .collect();
                    match candidates.as_slice() {
                        [one] => Some(one.clone()),
                        [] => {
                            out.push(Diagnostic::value(
                                Kind::MissingConnection {
                                    block: ctx.block_name(i),
                                    connector: wanted.to_string(),
                                },
                                &at.key("block"),
                            ));
                            None
                        }
                        _ => {
                            out.push(Diagnostic::value(
                                Kind::AmbiguousConnection {
                                    connector: wanted.to_string(),
                                    candidates,
                                },
                                &at.key("block"),
                            ));
                            None
                        }
                    }
                }
            }
        })
        .collect();
    Resolved {
        per_step,
        connectors,
    }
}

/// The `connections:` of `uses:` steps: each replaces a connection the template declares, with the same
/// connector, and valid settings.
fn replaced(ctx: &Context<'_>, compiled: &Compiled, out: &mut Vec<Diagnostic>) {
    for (i, step) in ctx.flow.steps.iter().enumerate() {
        let Some(template) = ctx.call(i).and_then(Call::template) else {
            continue;
        };
        for (name, connection) in &step.connections {
            let at = YamlPath::root()
                .key("steps")
                .index(i)
                .key("connections")
                .key(name);
            let Some(theirs) = template.plan.connections.get(name) else {
                out.push(
                    Diagnostic::key(Kind::UnknownConnection { name: name.clone() }, &at).suggest(
                        ctx.suggester
                            .suggest(name, template.plan.connections.keys()),
                    ),
                );
                continue;
            };
            if connection.connector != theirs.connector.spec.id {
                out.push(Diagnostic::value(
                    Kind::WrongConnector {
                        connection: name.clone(),
                        found: connection.connector.clone(),
                        expected: theirs.connector.spec.id.to_string(),
                    },
                    &at.key("connector"),
                ));
                continue;
            }
            settings(
                &theirs.connector,
                compiled.steps[i].connections.get(name),
                &at,
                out,
            );
        }
    }
}

fn is_secret(connector: &RegisteredConnector, name: &str) -> bool {
    let lower = name.to_lowercase();
    connector.spec.secret_settings.contains(&name) || SECRET_WORDS.iter().any(|w| lower.contains(w))
}

fn settings(
    connector: &RegisteredConnector,
    settings: Option<&IndexMap<String, Setting>>,
    at: &YamlPath,
    out: &mut Vec<Diagnostic>,
) {
    let schema = &connector.settings_schema;
    let empty = IndexMap::new();
    let settings = settings.unwrap_or(&empty);
    let properties = schema
        .get("properties")
        .and_then(serde_json::Value::as_object);
    for required in schema
        .get("required")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(required) = required.as_str() else {
            continue;
        };
        if !settings.contains_key(required) {
            out.push(Diagnostic::key(
                Kind::InvalidSetting {
                    setting: required.to_string(),
                    message: "required by the connector".into(),
                },
                at,
            ));
        }
    }
    for (name, setting) in settings {
        let here = at.key(name);
        let declared = properties.and_then(|p| p.get(name));
        if declared.is_none()
            && schema.get("additionalProperties") == Some(&serde_json::Value::Bool(false))
        {
            let known: Vec<String> = properties
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            out.push(
                Diagnostic::key(
                    Kind::InvalidSetting {
                        setting: name.clone(),
                        message: format!("connector `{}` has no such setting", connector.spec.id),
                    },
                    &here,
                )
                .suggest(suggest(name, &known)),
            );
            continue;
        }
        match setting {
            Setting::Value(ValueExpr::Literal(value))
                if is_secret(connector, name) && !value.is_null() =>
            {
                out.push(Diagnostic::value(
                    Kind::LiteralSecret {
                        setting: name.clone(),
                    },
                    &here,
                ));
            }
            Setting::Value(expr)
                if is_secret(connector, name) && !matches!(expr, ValueExpr::Literal(_)) =>
            {
                out.push(Diagnostic::value(
                    Kind::LiteralSecret {
                        setting: name.clone(),
                    },
                    &here,
                ));
            }
            Setting::Value(ValueExpr::Literal(value)) => {
                if let Some(declared) = declared {
                    let mut found = Vec::new();
                    check_literal(schema, declared, value, &here, &mut found);
                    for f in found {
                        let message = match f.problem {
                            Problem::Type { expected, found } => {
                                format!(
                                    "expects {}, found {}",
                                    expected.describe(),
                                    found.describe()
                                )
                            }
                            Problem::NotAllowed { allowed } => format!(
                                "must be one of {}",
                                allowed
                                    .iter()
                                    .map(|a| format!("`{a}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            Problem::Missing { field } => format!("missing `{field}`"),
                            Problem::Unknown { field, .. } => format!("unknown field `{field}`"),
                            Problem::Bound { message } => format!("must be {message}"),
                        };
                        out.push(Diagnostic::value(
                            Kind::InvalidSetting {
                                setting: name.clone(),
                                message,
                            },
                            &f.at,
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}
