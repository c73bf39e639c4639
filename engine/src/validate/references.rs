//! Pass: every reference and template path reads something that exists where it is used — a declared
//! parameter, a known step (which becomes a dependency), an output field the upstream block declares —
//! and this pass records the dependencies that order the steps. A reference into an output whose schema
//! declares nothing there (a raw request's response) cannot be checked: it gets a warning, not silence.

use std::collections::BTreeSet;
use std::ops::Range;

use super::typing::{Schemas, template_reference};
use super::{Compiled, Context};
use crate::diagnostic::{Diagnostic, Kind, suggest};
use crate::expr::template::HELPERS;
use crate::expr::{Leaf, Reference, Root, TemplateExpr};
use crate::plan::Setting;
use crate::schema::walk::Walk;
use crate::source::{PathSeg, YamlPath};

/// What orders the steps, and what the executor needs to know about each step's inputs.
pub(crate) struct Deps {
    /// Steps each step waits for.
    pub deps: Vec<BTreeSet<usize>>,
    /// Dependencies whose `output` each step's inputs read.
    pub output_deps: Vec<BTreeSet<usize>>,
    /// Inputs of each step that carry a secret output.
    pub secret_inputs: Vec<BTreeSet<String>>,
}

/// Where an expression is, which decides what it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    With,
    If,
    ForEach,
    Until,
    FlowOutput,
    Connection,
    /// A setting of a `uses:` step's `connections:`.
    StepConnection,
}

struct Checker<'a> {
    ctx: &'a Context<'a>,
    schemas: &'a Schemas<'a>,
    deps: Deps,
    out: &'a mut Vec<Diagnostic>,
}

pub(crate) fn check(
    ctx: &Context<'_>,
    compiled: &Compiled,
    schemas: &Schemas<'_>,
    out: &mut Vec<Diagnostic>,
) -> Deps {
    let n = ctx.flow.steps.len();
    let mut checker = Checker {
        ctx,
        schemas,
        deps: Deps {
            deps: vec![BTreeSet::new(); n],
            output_deps: vec![BTreeSet::new(); n],
            secret_inputs: vec![BTreeSet::new(); n],
        },
        out,
    };
    for (i, step) in compiled.steps.iter().enumerate() {
        let with_at = step.at.key("with");
        for (key, expr) in &step.with {
            expr.visit(&with_at.key(key), &mut |at, leaf| {
                checker.leaf(leaf, at, Some(i), Place::With)
            });
        }
        if let Some(condition) = &step.condition {
            condition.visit(&step.at.key("if"), &mut |at, leaf| {
                checker.leaf(leaf, at, Some(i), Place::If)
            });
        }
        if let Some(items) = &step.for_each {
            items.visit(&step.at.key("for_each"), &mut |at, leaf| {
                checker.leaf(leaf, at, Some(i), Place::ForEach)
            });
        }
        if let Some(until) = &step.until {
            let at = step.at.key("until").key("condition");
            until.visit(&at, &mut |at, leaf| {
                checker.leaf(leaf, at, Some(i), Place::Until)
            });
        }
        for (name, settings) in &step.connections {
            for (key, setting) in settings {
                if let Setting::Value(expr) = setting {
                    let at = step.at.key("connections").key(name).key(key);
                    expr.visit(&at, &mut |at, leaf| {
                        checker.leaf(leaf, at, Some(i), Place::StepConnection)
                    });
                }
            }
        }
        checker.after(i);
    }
    for (name, expr) in &compiled.outputs {
        let at = ctx.output_at(name);
        expr.visit(&at, &mut |at, leaf| {
            checker.leaf(leaf, at, None, Place::FlowOutput)
        });
    }
    for (name, settings) in &compiled.settings {
        for (key, setting) in settings {
            if let Setting::Value(expr) = setting {
                let at = YamlPath::root().key("connections").key(name).key(key);
                expr.visit(&at, &mut |at, leaf| {
                    checker.leaf(leaf, at, None, Place::Connection)
                });
            }
        }
    }
    checker.deps
}

impl Checker<'_> {
    fn after(&mut self, i: usize) {
        let step = &self.ctx.flow.steps[i];
        let at = YamlPath::root().key("steps").index(i).key("after");
        for (k, name) in step.after.names().into_iter().enumerate() {
            let here = if step.after.is_list() {
                at.index(k)
            } else {
                at.clone()
            };
            match self.ctx.step_index(name) {
                Some(j) if j == i => {
                    self.out.push(Diagnostic::value(
                        Kind::SelfReference {
                            id: name.to_string(),
                        },
                        &here,
                    ));
                }
                Some(j) => {
                    self.deps.deps[i].insert(j);
                }
                None => self.out.push(
                    Diagnostic::value(
                        Kind::UnknownStep {
                            id: name.to_string(),
                        },
                        &here,
                    )
                    .suggest(self.ctx.suggester.suggest(name, self.ctx.step_ids())),
                ),
            }
        }
    }

    fn leaf(&mut self, leaf: Leaf<'_>, at: &YamlPath, step: Option<usize>, place: Place) {
        match leaf {
            Leaf::Ref(reference) => {
                let ranges = |i: usize| {
                    reference
                        .segment_range(i)
                        .map(|r| trim_dots(reference.text(), r))
                };
                self.reference(reference, at, step, place, &ranges);
            }
            Leaf::Template(template) => self.template(template, at, step, place),
        }
    }

    fn template(
        &mut self,
        template: &TemplateExpr,
        at: &YamlPath,
        step: Option<usize>,
        place: Place,
    ) {
        let source = template.source();
        for helper in template.helpers() {
            if !HELPERS.contains(&helper.as_str()) {
                let range = find(source, helper);
                self.out.push(
                    Diagnostic::part(
                        Kind::UnknownHelper {
                            helper: helper.clone(),
                        },
                        at,
                        range,
                    )
                    // `log` is left out on purpose: the help says why, not what it looks like.
                    .suggest(if helper == "log" {
                        None
                    } else {
                        suggest(helper, HELPERS.iter().copied())
                    }),
                );
            }
        }
        // Paths come in the order they are written: each is looked for after the one before, so that a
        // string of many paths is searched once, not once per path.
        let mut from = 0;
        for path in template.paths() {
            let range = find_after(source, &path.raw, from).or_else(|| find(source, &path.raw));
            if let Some(range) = &range {
                from = range.end;
            }
            let first = path.segments[0].as_str();
            let is_root = Root::ALL.iter().any(|r| r.name() == first);
            if !is_root {
                let suggestion = if self.ctx.flow.params.contains_key(first) {
                    Some(format!("params.{}", path.raw))
                } else {
                    suggest(first, Root::ALL.map(Root::name))
                        .map(|r| path.raw.replacen(first, &r, 1))
                };
                self.out.push(
                    Diagnostic::part(
                        Kind::InvalidTemplate {
                            message: format!(
                                "`{}` is not in the context: template paths start with `params.`, `steps.`, `item`, `index`, `output` or `run.`",
                                path.raw
                            ),
                        },
                        at,
                        range.clone(),
                    )
                    .suggest(suggestion),
                );
                continue;
            }
            if let Some(reference) = template_reference(path) {
                self.reference(&reference, at, step, place, &|_| range.clone());
            }
        }
    }

    fn reference(
        &mut self,
        reference: &Reference,
        at: &YamlPath,
        step: Option<usize>,
        place: Place,
        range: &dyn Fn(usize) -> Option<Range<usize>>,
    ) {
        let root = reference.root();
        let has_for_each = step.is_some_and(|i| self.ctx.flow.steps[i].for_each.is_some());
        let out_of_scope = match (root, place) {
            (Root::Params, _) => None,
            (_, Place::Connection) => {
                Some("in steps and flow outputs; a connection reads only `$.params`")
            }
            (Root::Item | Root::Index, Place::With | Place::Until | Place::StepConnection)
                if has_for_each =>
            {
                None
            }
            (_, Place::StepConnection) => Some(
                "in steps and flow outputs; a step's `connections:` read only `$.params`, and `$.item` with `for_each`",
            ),
            (Root::Item | Root::Index, _) => {
                Some("in the `with:` and `until:` of a step with `for_each:`")
            }
            (Root::Output, Place::Until) => None,
            (Root::Output, _) => Some("in a step's `until:` condition"),
            _ => None,
        };
        if let Some(where_) = out_of_scope {
            let kind = Kind::OutOfScope {
                root: root.name().into(),
                place: where_,
            };
            self.out.push(Diagnostic::part(kind, at, range(0)));
            return;
        }
        if root == Root::Steps {
            let Some(id) = reference.step_id() else {
                return;
            };
            let Some(j) = self.ctx.step_index(id) else {
                self.out.push(
                    Diagnostic::part(Kind::UnknownStep { id: id.into() }, at, range(1))
                        .suggest(self.ctx.suggester.suggest(id, self.ctx.step_ids())),
                );
                return;
            };
            if let Some(i) = step {
                if i == j {
                    self.out.push(Diagnostic::part(
                        Kind::SelfReference { id: id.into() },
                        at,
                        range(1),
                    ));
                    return;
                }
                self.deps.deps[i].insert(j);
                let reads_output = reference.name_at(2) == Some("output");
                if reads_output && matches!(place, Place::With | Place::ForEach) {
                    self.deps.output_deps[i].insert(j);
                }
                if reads_output
                    && place == Place::With
                    && self.reads_secret(reference, j)
                    && let Some(PathSeg::Key(input)) = at.0.get(3)
                {
                    self.deps.secret_inputs[i].insert(input.clone());
                }
            }
        }
        let Some((walked, _)) = self.schemas.walk(reference, step) else {
            return;
        };
        match walked {
            Walk::Missing {
                segment,
                name,
                known,
            } => {
                let suggestion = self.ctx.suggester.suggest(&name, &known);
                let kind = self.missing(reference, step, segment, name, known);
                self.out
                    .push(Diagnostic::part(kind, at, range(segment)).suggest(suggestion));
            }
            Walk::Unknown {
                from: Some(segment),
                ..
            } => {
                if let Some(kind) = self.free_form(reference, step, segment) {
                    self.out.push(Diagnostic::part(kind, at, range(segment)));
                }
            }
            _ => {}
        }
    }

    /// The warning for a reference whose segment `segment` reads into a step output's free-form part
    /// (`$.steps.raw.output.KeyMetadata` after a raw request): only the run can tell whether it is there.
    /// Other roots (`$.params`, `$.item`) are the flow's own values, not a block's answer.
    fn free_form(
        &self,
        reference: &Reference,
        step: Option<usize>,
        segment: usize,
    ) -> Option<Kind> {
        let i = match reference.root() {
            Root::Steps if reference.name_at(2) == Some("output") => {
                self.ctx.step_index(reference.step_id()?)?
            }
            Root::Output => step?,
            _ => return None,
        };
        let field = match reference.name_at(segment) {
            Some(name) => name.to_string(),
            None => reference
                .segment_range(segment)
                .map(|r| reference.text()[r].trim_start_matches('.').to_string())
                .unwrap_or_default(),
        };
        Some(Kind::FreeFormOutput {
            step: self.ctx.flow.steps[i].id.clone(),
            block: self.ctx.block_name(i),
            field,
        })
    }

    /// Whether a reference into step `j`'s output may read one of its secret fields.
    fn reads_secret(&self, reference: &Reference, j: usize) -> bool {
        let Some(call) = self.ctx.call(j) else {
            return false;
        };
        let skip = usize::from(self.ctx.flow.steps[j].for_each.is_some());
        let read: Vec<&str> = (3 + skip..).map_while(|k| reference.name_at(k)).collect();
        let is_whole = reference.query().segments().len() <= 3 + skip || !reference.is_singular();
        call.spec().secret_outputs.iter().any(|secret| {
            let secret: Vec<&str> = secret.split('.').collect();
            is_whole || secret.starts_with(&read) || read.starts_with(&secret)
        })
    }

    fn missing(
        &self,
        reference: &Reference,
        step: Option<usize>,
        segment: usize,
        name: String,
        known: Vec<String>,
    ) -> Kind {
        match (reference.root(), segment) {
            (Root::Params, 1) => Kind::UndeclaredParam { name: name.clone() },
            (Root::Steps, 2) => Kind::UnknownStepField {
                field: name.clone(),
            },
            (Root::Run, 1) => Kind::UnknownRunField {
                field: name.clone(),
            },
            (Root::Steps, _) if reference.name_at(2) == Some("output") => {
                let id = reference.step_id().unwrap_or_default().to_string();
                let block = self
                    .ctx
                    .step_index(&id)
                    .map(|j| self.ctx.block_name(j))
                    .unwrap_or_default();
                Kind::UnknownOutputField {
                    step: id,
                    block,
                    field: name.clone(),
                    available: known,
                }
            }
            (Root::Output, _) => {
                let i = step.unwrap_or_default();
                Kind::UnknownOutputField {
                    step: self.ctx.flow.steps[i].id.clone(),
                    block: self.ctx.block_name(i),
                    field: name.clone(),
                    available: known,
                }
            }
            _ => {
                let prefix: String = reference
                    .segment_range(segment)
                    .map(|r| reference.text()[..r.start].to_string())
                    .unwrap_or_else(|| reference.text().to_string());
                Kind::InvalidReference {
                    message: format!("`{prefix}` has no field `{name}`"),
                }
            }
        }
    }
}

/// A segment's range without its leading `.` or `..`, so the caret sits under the name.
fn trim_dots(text: &str, range: Range<usize>) -> Range<usize> {
    let dots = text[range.clone()]
        .chars()
        .take_while(|c| *c == '.')
        .count();
    range.start + dots..range.end
}

fn find(haystack: &str, needle: &str) -> Option<Range<usize>> {
    find_after(haystack, needle, 0)
}

/// Where `needle` is first written in `haystack` at or after byte `from`.
fn find_after(haystack: &str, needle: &str, from: usize) -> Option<Range<usize>> {
    let start = from + haystack.get(from..)?.find(needle)?;
    crate::source::work::count(start + needle.len() - from);
    Some(start..start + needle.len())
}
