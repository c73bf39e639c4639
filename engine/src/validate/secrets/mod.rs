//! Pass: a secret goes only where it is meant to. A value that carries a secret (an output field a block
//! declares secret, followed through references, templates, `core.set`, `for_each` items and templates)
//! may go into an input that takes secrets (`plaintext` of `aws-kms.encrypt`), into `core.set`, or into
//! any input of a step that says `reveal: true`; into a flow output only written
//! `{ value: …, reveal: true }`. Anything else — a log message, a key description, a tag, a template param
//! the template would send on in the clear — is refused where the secret is read.
//!
//! The same walk finds, for a flow used as a template, which params it sends on in the clear and which
//! outputs carry a secret, so that the flows using it are checked across the `uses:` boundary.
//!
//! Runtime masking (`crate::redact`) stays as it is: a revealed secret is still `<redacted>` in reports,
//! records and logs. What this pass stops is a secret leaving keyflow in the clear — to a service, as a
//! value shown outside keyflow's masking — without the flow saying so.

mod taint;
#[cfg(test)]
mod tests;

use std::ops::Range;

use crate::diagnostic::{Diagnostic, Kind};
use crate::expr::ValueExpr;
use crate::plan::secrets::{ClearUse, Seg};
use crate::plan::{Call, SecretFlow, Setting};
use crate::source::YamlPath;

use super::{Compiled, Context};
use taint::{Origin, Taint};

/// Where a value goes.
enum Sink<'a> {
    /// An input of the block step `step` calls.
    Input { step: usize, input: &'a str },
    /// A param of the template step `step` uses.
    Param { step: usize, param: &'a str },
    /// A setting of a connection (of the flow, or one a `uses:` step replaces).
    Setting {
        step: Option<usize>,
        connection: &'a str,
        setting: &'a str,
    },
    /// A flow output.
    Output { name: &'a str },
}

struct Pass<'a> {
    ctx: &'a Context<'a>,
    taint: Taint<'a>,
    found: SecretFlow,
    out: &'a mut Vec<Diagnostic>,
}

/// Refuses secrets wired where they would travel in the clear; returns where the flow's params and
/// secrets go, for the flows that use it as a template.
pub(crate) fn check(
    ctx: &Context<'_>,
    compiled: &Compiled,
    out: &mut Vec<Diagnostic>,
) -> SecretFlow {
    let mut pass = Pass {
        ctx,
        taint: Taint::new(ctx, compiled),
        found: SecretFlow::default(),
        out,
    };
    pass.taint.prime();
    for (i, step) in compiled.steps.iter().enumerate() {
        let at = &step.at;
        let Some(call) = ctx.call(i) else {
            continue;
        };
        for (input, expr) in &step.with {
            let sink = match call {
                Call::Template(_) => Sink::Param {
                    step: i,
                    param: input,
                },
                Call::Block(_) => Sink::Input { step: i, input },
            };
            pass.sink(expr, &at.key("with").key(input), Some(i), &sink);
        }
        for (connection, settings) in &step.connections {
            for (setting, value) in settings {
                if let Setting::Value(expr) = value {
                    let sink = Sink::Setting {
                        step: Some(i),
                        connection,
                        setting,
                    };
                    let at = at.key("connections").key(connection).key(setting);
                    pass.sink(expr, &at, Some(i), &sink);
                }
            }
        }
    }
    for (connection, settings) in &compiled.settings {
        for (setting, value) in settings {
            if let Setting::Value(expr) = value {
                let sink = Sink::Setting {
                    step: None,
                    connection,
                    setting,
                };
                let at = YamlPath::root()
                    .key("connections")
                    .key(connection)
                    .key(setting);
                pass.sink(expr, &at, None, &sink);
            }
        }
    }
    for (name, expr) in &compiled.outputs {
        for secret in pass.taint.expr(expr, None) {
            let path = std::iter::once(Seg::Key(name.clone()))
                .chain(secret.path)
                .collect();
            match secret.origin {
                Origin::Secret(_) => pass.found.secret_outputs.push(path),
                Origin::Param(param) => pass.found.carried.entry(param).or_default().push(path),
            }
        }
        pass.sink(expr, &ctx.output_at(name), None, &Sink::Output { name });
    }
    pass.found
}

impl Pass<'_> {
    /// Checks what `expr` (at `at`, in step `step`) carries into `sink`.
    fn sink(&mut self, expr: &ValueExpr, at: &YamlPath, step: Option<usize>, sink: &Sink<'_>) {
        if self.allows(sink) {
            return;
        }
        let mut found = Vec::new();
        expr.visit(at, &mut |at, leaf| {
            let mut secrets = self.taint.leaf(leaf, step);
            secrets.retain(|(secret, _)| match (&secret.origin, sink) {
                // What a template's outputs carry of its params is the caller's to check.
                (Origin::Param(_), Sink::Output { .. }) => false,
                _ => true,
            });
            found.extend(secrets.into_iter().map(|(s, range)| (at.clone(), s, range)));
        });
        let mut reported: Vec<YamlPath> = Vec::new();
        for (at, secret, range) in found {
            match secret.origin {
                // The first place it goes in the clear, kept for the callers' messages.
                Origin::Param(param) if self.found.clear.contains_key(&param) => {}
                Origin::Param(param) => {
                    let sink = self.name(sink);
                    self.found.clear.insert(param, ClearUse { sink, at, range });
                }
                // One error per value: the first secret it carries says enough.
                Origin::Secret(_) if reported.contains(&at) => {}
                Origin::Secret(origin) => {
                    reported.push(at.clone());
                    self.out.push(self.refusal(origin, sink, &at, range));
                }
            }
        }
    }

    /// Whether `sink` takes secrets: an input the block declares so, any input of `core.set` (its output
    /// carries them on), a template's param it sends on only to such places, and anything in a step that
    /// says `reveal: true`, or an output written `{ value, reveal: true }`.
    fn allows(&self, sink: &Sink<'_>) -> bool {
        let revealed = |i: usize| self.ctx.flow.steps[i].reveal;
        match *sink {
            Sink::Input { step, .. } | Sink::Param { step, .. } if revealed(step) => true,
            Sink::Input { step, input } => self.ctx.call(step).is_some_and(|call| {
                let spec = call.spec();
                spec.output_mirrors_input || spec.secret_inputs.contains(&input)
            }),
            Sink::Param { step, param } => match self.ctx.call(step) {
                Some(Call::Template(template)) => !template.plan.secrets.clear.contains_key(param),
                _ => true,
            },
            Sink::Setting { step, .. } => step.is_some_and(revealed),
            Sink::Output { name } => self.ctx.flow.outputs.get(name).is_some_and(|o| o.reveal()),
        }
    }

    /// The sink as the messages name it.
    fn name(&self, sink: &Sink<'_>) -> String {
        match *sink {
            Sink::Input { step, input } => {
                format!("input `{input}` of `{}`", self.ctx.block_name(step))
            }
            Sink::Param { step, param } => {
                format!(
                    "param `{param}` of template `{}`",
                    self.ctx.block_name(step)
                )
            }
            Sink::Setting {
                connection,
                setting,
                ..
            } => format!("setting `{setting}` of connection `{connection}`"),
            Sink::Output { name } => format!("flow output `{name}`"),
        }
    }

    fn refusal(
        &self,
        secret: String,
        sink: &Sink<'_>,
        at: &YamlPath,
        range: Option<Range<usize>>,
    ) -> Diagnostic {
        let name = self.name(sink);
        let reveal = |i: usize| {
            format!(
                "add `reveal: true` to step `{}` to send it there in the clear on purpose (keyflow still shows it as `<redacted>`)",
                self.ctx.flow.steps[i].id
            )
        };
        let (sink_text, help, note) = match *sink {
            Sink::Input { step, .. } => (
                format!("{name} does not take secrets"),
                format!(
                    "pass it only to inputs that take secrets (`keyflow blocks describe {}` lists them), or {}",
                    self.ctx.block_name(step),
                    reveal(step)
                ),
                None,
            ),
            Sink::Param { step, param } => {
                let within = match self.ctx.call(step) {
                    Some(Call::Template(template)) => template
                        .plan
                        .secrets
                        .clear
                        .get(param)
                        .map(|clear| clear.describe(&template.plan.source)),
                    _ => None,
                };
                (
                    format!("{name} does not take secrets"),
                    format!(
                        "a template's param takes a secret when the template passes it on only to inputs that take secrets; or {}",
                        reveal(step)
                    ),
                    within.map(|place| {
                        format!(
                            "the template `{}` sends its param `{param}` to {place}",
                            self.ctx.block_name(step)
                        )
                    }),
                )
            }
            Sink::Setting { step, .. } => (
                format!("{name} does not take secrets"),
                match step {
                    Some(i) => format!(
                        "a connection reads its secret settings with `{{ env: NAME }}` or `{{ file: PATH }}`; or {}",
                        reveal(i)
                    ),
                    None => "a connection reads its secret settings with `{ env: NAME }` or `{ file: PATH }`".into(),
                },
                None,
            ),
            Sink::Output { name: output } => (
                format!("{name} would report it"),
                format!(
                    "write the output `{output}: {{ value: {}, reveal: true }}` to report it on purpose (the run report still shows it as `<redacted>`; a template's caller receives it as a secret)",
                    self.written(&self.ctx.output_at(output))
                ),
                None,
            ),
        };
        let mut diagnostic = Diagnostic::part(
            Kind::MissingReveal {
                secret,
                sink: sink_text,
                help,
            },
            at,
            range,
        );
        diagnostic.note = note;
        diagnostic
    }

    /// The value at `at` as written, for a fix to quote (`…` when it is not one line).
    fn written(&self, at: &YamlPath) -> String {
        let source = self.ctx.source;
        source
            .value_span(at)
            .and_then(|span| source.text.get(span.start.offset..span.end.offset))
            .filter(|text| !text.contains('\n'))
            .map_or_else(|| "…".to_string(), str::to_string)
    }
}
