//! Pass: compile every expression (references, templates, conditions), and, at the end, assemble the plan.

use std::sync::Arc;

use indexmap::IndexMap;

use super::Context;
use super::connections::Resolved;
use super::references::Deps;
use crate::diagnostic::{Diagnostic, Kind, suggest};
use crate::expr::{Condition, ExprError, ExprIssue, ReferenceError, Root, ValueExpr};
use crate::model::{Connection, SecretSource};
use crate::plan::digest::digest;
use crate::plan::{
    Call, DEFAULT_CONCURRENCY, ForEach, ParamSpec, Plan, PlannedConnection, PlannedStep,
    RetryPolicy, Setting, Until,
};
use crate::source::{SourceFile, YamlPath};

/// Every expression of the flow, compiled.
pub(crate) struct Compiled {
    pub steps: Vec<CompiledStep>,
    pub outputs: IndexMap<String, ValueExpr>,
    pub settings: IndexMap<String, IndexMap<String, Setting>>,
}

/// One step's expressions.
pub(crate) struct CompiledStep {
    /// `steps[i]`.
    pub at: YamlPath,
    /// The block, when the registry has it.
    pub call: Option<Call>,
    pub with: IndexMap<String, ValueExpr>,
    pub condition: Option<Condition>,
    pub for_each: Option<ValueExpr>,
    pub until: Option<Condition>,
    /// `connections:` of a `uses:` step: the template's connections it replaces.
    pub connections: IndexMap<String, IndexMap<String, Setting>>,
}

pub(crate) fn run(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) -> Compiled {
    let mut issues = Vec::new();
    let steps = ctx
        .flow
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let at = YamlPath::root().key("steps").index(i);
            CompiledStep {
                call: ctx.call(i).cloned(),
                with: step
                    .with
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            ValueExpr::compile(v, &at.key("with").key(k), &mut issues),
                        )
                    })
                    .collect(),
                condition: step
                    .condition
                    .as_ref()
                    .and_then(|c| Condition::compile(c, &at.key("if"), &mut issues)),
                for_each: step
                    .for_each
                    .as_ref()
                    .map(|v| ValueExpr::compile(v, &at.key("for_each"), &mut issues)),
                until: step.until.as_ref().and_then(|u| {
                    Condition::compile(&u.condition, &at.key("until").key("condition"), &mut issues)
                }),
                connections: step
                    .connections
                    .iter()
                    .map(|(name, connection)| {
                        let at = at.key("connections").key(name);
                        (name.clone(), settings(connection, &at, &mut issues))
                    })
                    .collect(),
                at,
            }
        })
        .collect();
    let outputs = ctx
        .flow
        .outputs
        .iter()
        .map(|(k, v)| {
            let at = ctx.output_at(k);
            (k.clone(), ValueExpr::compile(v.value(), &at, &mut issues))
        })
        .collect();
    let settings = ctx
        .flow
        .connections
        .iter()
        .map(|(name, connection)| {
            let at = YamlPath::root().key("connections").key(name);
            (name.clone(), settings(connection, &at, &mut issues))
        })
        .collect();
    out.extend(issues.into_iter().map(diagnostic));
    Compiled {
        steps,
        outputs,
        settings,
    }
}

/// A connection's settings: secret sources kept as they are, the rest compiled.
fn settings(
    connection: &Connection,
    at: &YamlPath,
    issues: &mut Vec<ExprIssue>,
) -> IndexMap<String, Setting> {
    connection
        .settings
        .iter()
        .map(|(key, value)| {
            let setting = match SecretSource::from_value(value) {
                Some(secret) => Setting::Secret(secret),
                None => Setting::Value(ValueExpr::compile(value, &at.key(key), issues)),
            };
            (key.clone(), setting)
        })
        .collect()
}

fn diagnostic(issue: ExprIssue) -> Diagnostic {
    match issue.error {
        ExprError::Reference(ReferenceError::UnknownRoot(root)) => {
            let roots = Root::ALL.map(Root::name);
            Diagnostic::value(
                Kind::InvalidReference {
                    message: format!("unknown root `{root}`"),
                },
                &issue.at,
            )
            .suggest(suggest(&root, roots).map(|r| issue.text.replacen(&root, &r, 1)))
        }
        ExprError::Reference(ReferenceError::Syntax { message, offset }) => {
            let range = offset.map(|at| caret(&issue.text, at));
            Diagnostic::part(Kind::InvalidReference { message }, &issue.at, range)
        }
        ExprError::Reference(error) => Diagnostic::value(
            Kind::InvalidReference {
                message: error.to_string(),
            },
            &issue.at,
        ),
        ExprError::Template(error) => {
            let at = error.position.map(|(line, col)| {
                let offset: usize = issue
                    .text
                    .lines()
                    .take(line.saturating_sub(1))
                    .map(|l| l.len() + 1)
                    .sum();
                offset + col.saturating_sub(1)
            });
            let message = if at.is_some_and(|at| at >= issue.text.len()) {
                "the template ends before an expression `{{…}}` or a block `{{#…}}…{{/…}}` is closed"
                    .to_string()
            } else if error.message.matches(", ").count() > 3 {
                "invalid handlebars syntax here".to_string()
            } else {
                error.message
            };
            let range = at.map(|at| caret(&issue.text, at));
            Diagnostic::part(Kind::InvalidTemplate { message }, &issue.at, range)
        }
        ExprError::Condition(message) => {
            Diagnostic::value(Kind::InvalidCondition { message }, &issue.at)
        }
        ExprError::Regex(message) => Diagnostic::value(
            Kind::InvalidRegex {
                message: super::params::first_line(&message),
            },
            &issue.at,
        ),
    }
}

/// A one-character range at byte `at` of `text`, moved onto the last character when past the end.
fn caret(text: &str, at: usize) -> std::ops::Range<usize> {
    let mut at = at.min(text.len().saturating_sub(1));
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    let len = text[at..].chars().next().map_or(1, char::len_utf8);
    at..at + len
}

/// Assembles the plan of a flow that passed every check.
pub(crate) fn into_plan(
    ctx: &Context<'_>,
    compiled: Compiled,
    params: IndexMap<String, ParamSpec>,
    connections: Resolved,
    deps: Deps,
    order: Vec<usize>,
    source: Arc<SourceFile>,
) -> Plan {
    let mut levels = vec![0usize; compiled.steps.len()];
    for &i in &order {
        levels[i] = deps.deps[i]
            .iter()
            .map(|&d| levels[d] + 1)
            .max()
            .unwrap_or(0);
    }
    let mut connection_of = connections.per_step;
    let steps = compiled
        .steps
        .into_iter()
        .zip(&ctx.flow.steps)
        .enumerate()
        .filter_map(|(i, (step, model))| {
            let retry = model
                .retry
                .as_ref()
                .map_or(RetryPolicy::NONE, |r| RetryPolicy {
                    attempts: r.attempts.max(1),
                    backoff: r.backoff.map_or(RetryPolicy::NONE.backoff, |d| d.0),
                    max_delay: r.max_delay.map_or(RetryPolicy::NONE.max_delay, |d| d.0),
                });
            let until = match (step.until, &model.until) {
                (Some(condition), Some(spec)) => Some(Until {
                    condition,
                    every: spec
                        .every
                        .map_or(std::time::Duration::from_secs(5), |d| d.0),
                    timeout: spec.timeout.0,
                }),
                _ => None,
            };
            let call = step.call?;
            // Inputs that carry a secret output, and those the block takes secrets in (the plaintext
            // `aws-kms.encrypt` encrypts, even when a param gives it): recorded redacted.
            let mut secret_inputs = deps.secret_inputs[i].clone();
            secret_inputs.extend(
                call.spec()
                    .secret_inputs
                    .iter()
                    .filter(|input| step.with.contains_key(**input))
                    .map(|input| input.to_string()),
            );
            let replaced = call.template().map(|t| &t.plan.connections);
            let connections = step
                .connections
                .into_iter()
                .filter_map(|(name, settings)| {
                    let connector = replaced?.get(&name)?.connector.clone();
                    let planned = PlannedConnection {
                        name: name.clone(),
                        connector,
                        settings,
                    };
                    Some((name, planned))
                })
                .collect();
            // The step as written, and for `uses:` its template's text: what resume checks is unchanged.
            let written = serde_json::to_vec(model).unwrap_or_default();
            let template = call
                .template()
                .map(|t| t.digest.clone())
                .unwrap_or_default();
            let definition = digest([written.as_slice(), template.as_bytes()]);
            Some(PlannedStep {
                index: i,
                id: model.id.clone(),
                call,
                connections,
                connection: connection_of.get_mut(i).and_then(Option::take),
                with: step.with,
                condition: step.condition,
                for_each: step.for_each.map(|items| ForEach {
                    items,
                    concurrency: model
                        .concurrency
                        .map_or(DEFAULT_CONCURRENCY, |c| c.max(1) as usize),
                }),
                retry,
                timeout: model.timeout.map(|d| d.0),
                until,
                on_error: model.on_error,
                deps: deps.deps[i].iter().copied().collect(),
                output_deps: deps.output_deps[i].iter().copied().collect(),
                secret_inputs: secret_inputs.into_iter().collect(),
                level: levels[i],
                definition,
            })
        })
        .collect();
    let mut settings = compiled.settings;
    let connections = connections
        .connectors
        .into_iter()
        .map(|(name, connector)| {
            let planned = PlannedConnection {
                name: name.clone(),
                connector,
                settings: settings.shift_remove(&name).unwrap_or_default(),
            };
            (name, planned)
        })
        .collect();
    Plan {
        name: ctx.flow.name.clone(),
        description: ctx.flow.description.clone(),
        version: ctx.flow.version.clone(),
        source,
        params,
        connections,
        steps,
        order,
        outputs: compiled.outputs,
        output_schemas: IndexMap::new(),
        library: None,
        triggers: Vec::new(),
        secrets: Default::default(),
        warnings: Vec::new(),
    }
}
