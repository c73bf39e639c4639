//! Which values carry a secret, and where inside them: followed from the blocks' secret output fields
//! through references, templates, `core.set`, `for_each` items and templates' outputs.
//!
//! Precise where a reference names what it reads (`$.steps.dk.output.KeyId` of a data key is not
//! secret, `$.steps.dk.output` holds one), cautious elsewhere: a template string that reads a secret is
//! secret whole; a query with descendants or filters that may reach one selects secrets only; a template
//! param given a secret is secret whole inside the template.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::expr::jsonpath::Step as PathStep;
use crate::expr::{Leaf, Reference, Root, Selects, TemplateExpr, ValueExpr};
use crate::plan::secrets::{Seg, written};
use crate::plan::{Call, SecretPath};

use super::super::typing::template_reference;
use super::super::{Compiled, Context};

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Origin {
    /// A secret a step produces, as a reader names it: `steps.dk.output.Plaintext`.
    Secret(String),
    /// Whatever param `name` is given: while finding where a flow used as a template sends its params.
    Param(String),
}

/// A secret inside a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Secret {
    /// Where it sits in the value.
    pub path: SecretPath,
    /// What it is.
    pub origin: Origin,
}

impl Secret {
    fn under(mut self, seg: Seg) -> Secret {
        self.path.insert(0, seg);
        self
    }

    fn whole(origin: Origin) -> Secret {
        Secret {
            path: Vec::new(),
            origin,
        }
    }
}

/// Follows secrets through one flow's expressions.
pub(super) struct Taint<'a> {
    ctx: &'a Context<'a>,
    compiled: &'a Compiled,
    /// Each step's output, once worked out.
    outputs: RefCell<HashMap<usize, Vec<Secret>>>,
    /// Steps whose output is being worked out (a cycle, reported elsewhere, ends there).
    busy: RefCell<HashSet<usize>>,
    /// Every step's output secrets together, once [`Taint::prime`] has worked them out.
    every: OnceCell<Vec<Secret>>,
}

impl<'a> Taint<'a> {
    pub fn new(ctx: &'a Context<'a>, compiled: &'a Compiled) -> Taint<'a> {
        Taint {
            ctx,
            compiled,
            outputs: RefCell::default(),
            busy: RefCell::default(),
            every: OnceCell::new(),
        }
    }

    /// The secrets in the value of `expr`, evaluated in step `step` (`None`: a flow output).
    pub fn expr(&self, expr: &ValueExpr, step: Option<usize>) -> Vec<Secret> {
        match expr {
            ValueExpr::Literal(_) => Vec::new(),
            ValueExpr::Ref(reference) => self.reference(reference, step),
            ValueExpr::Template(template) => self
                .template(template, step)
                .into_iter()
                .map(|(secret, _)| secret)
                .collect(),
            ValueExpr::Object(fields) => bounded(
                fields
                    .iter()
                    .flat_map(|(key, field)| {
                        self.expr(field, step)
                            .into_iter()
                            .map(|s| s.under(Seg::Key(key.clone())))
                    })
                    .collect(),
            ),
            ValueExpr::Array(items) => bounded(
                items
                    .iter()
                    .flat_map(|item| {
                        self.expr(item, step)
                            .into_iter()
                            .map(|s| s.under(Seg::Item))
                    })
                    .collect(),
            ),
        }
    }

    /// The secrets one leaf of an expression carries, each with the characters that read it (a template's
    /// path), or `None` for the whole value.
    pub fn leaf(&self, leaf: Leaf<'_>, step: Option<usize>) -> Vec<(Secret, Option<Range<usize>>)> {
        match leaf {
            Leaf::Ref(reference) => self
                .reference(reference, step)
                .into_iter()
                .map(|s| (s, None))
                .collect(),
            Leaf::Template(template) => self.template(template, step),
        }
    }

    /// A template's string is secret whole when one of its paths reads a secret.
    fn template(
        &self,
        template: &TemplateExpr,
        step: Option<usize>,
    ) -> Vec<(Secret, Option<Range<usize>>)> {
        let source = template.source();
        let mut found: Vec<(Secret, Option<Range<usize>>)> = Vec::new();
        let mut origins: HashSet<Origin> = HashSet::new();
        // Paths come in the order they are written: each is looked for after the one before.
        let mut from = 0;
        for path in template.paths() {
            let range =
                find_after(source, &path.raw, from).or_else(|| find_after(source, &path.raw, 0));
            if let Some(range) = &range {
                from = range.end;
            }
            let read = match template_reference(path) {
                Some(reference) => self.reference(&reference, step),
                // `{{#each steps}}`: any step's output.
                None => self.every_output(),
            };
            for secret in read {
                if origins.insert(secret.origin.clone()) {
                    found.push((Secret::whole(secret.origin), range.clone()));
                }
            }
        }
        found
    }

    /// The secrets of every step's output, worked out once all are known (see [`Taint::prime`]).
    fn every_output(&self) -> Vec<Secret> {
        if let Some(all) = self.every.get() {
            return all.clone();
        }
        (0..self.ctx.flow.steps.len())
            .flat_map(|j| self.output(j))
            .collect()
    }

    /// Works out every step's output, so that a template reading all of them (`{{#each steps}}`) costs
    /// one pass, not one per use.
    pub fn prime(&self) {
        let all: Vec<Secret> = (0..self.ctx.flow.steps.len())
            .flat_map(|j| self.output(j))
            .collect();
        let _ = self.every.set(all);
    }

    /// The secrets in what `reference` selects.
    pub fn reference(&self, reference: &Reference, step: Option<usize>) -> Vec<Secret> {
        let (entry, from) = match reference.root() {
            Root::Params => (self.params(), 1),
            Root::Steps => {
                let Some(j) = reference.step_id().and_then(|id| self.ctx.step_index(id)) else {
                    return Vec::new();
                };
                let output = self.output(j);
                let entry = output
                    .into_iter()
                    .map(|s| s.under(Seg::Key("output".into())))
                    .collect();
                (entry, 2)
            }
            Root::Item => match step {
                Some(i) => (self.item(i), 1),
                None => return Vec::new(),
            },
            Root::Index | Root::Output | Root::Run => return Vec::new(),
        };
        crate::source::work::count(1 + entry.len());
        select(entry, reference, from)
    }

    /// `$.params`: in a flow of its own, nothing is secret; what each param is given is followed to find
    /// where a template sends its params.
    fn params(&self) -> Vec<Secret> {
        self.ctx
            .flow
            .params
            .keys()
            .map(|name| Secret {
                path: vec![Seg::Key(name.clone())],
                origin: Origin::Param(name.clone()),
            })
            .collect()
    }

    /// `$.item` of step `i`: an item of what its `for_each` selects.
    fn item(&self, i: usize) -> Vec<Secret> {
        let Some(items) = &self.compiled.steps[i].for_each else {
            return Vec::new();
        };
        self.expr(items, Some(i))
            .into_iter()
            .filter_map(|mut secret| match secret.path.first() {
                None => Some(secret),
                Some(Seg::Item) => {
                    secret.path.remove(0);
                    Some(secret)
                }
                Some(Seg::Key(_)) => None,
            })
            .collect()
    }

    /// The secrets in step `j`'s output: its block's secret fields, what `core.set` is given, a template's
    /// secret outputs and what it passes on of its params; in each item, with `for_each`.
    pub fn output(&self, j: usize) -> Vec<Secret> {
        if let Some(known) = self.outputs.borrow().get(&j) {
            return known.clone();
        }
        if !self.busy.borrow_mut().insert(j) {
            return Vec::new();
        }
        let found = bounded(self.work_out(j));
        self.busy.borrow_mut().remove(&j);
        self.outputs.borrow_mut().insert(j, found.clone());
        found
    }

    fn work_out(&self, j: usize) -> Vec<Secret> {
        let Some(call) = self.ctx.call(j) else {
            return Vec::new();
        };
        let step = &self.compiled.steps[j];
        let each = step.for_each.is_some();
        let id = &self.ctx.flow.steps[j].id;
        // A secret field of the block's (or the template's) own, named as a reader would write it.
        let own = |path: SecretPath| {
            let path = if each {
                std::iter::once(Seg::Item).chain(path).collect()
            } else {
                path
            };
            let origin = Origin::Secret(format!("steps.{id}.output{}", written(&path)));
            Secret { path, origin }
        };
        let given = |input: &str| {
            step.with
                .get(input)
                .map(|expr| self.expr(expr, Some(j)))
                .unwrap_or_default()
        };
        let item = |s: Secret| if each { s.under(Seg::Item) } else { s };
        match call {
            Call::Block(block) if block.spec.output_mirrors_input => step
                .with
                .keys()
                .flat_map(|key| {
                    given(key)
                        .into_iter()
                        .map(|s| s.under(Seg::Key(key.clone())))
                })
                .map(item)
                .collect(),
            Call::Block(block) => block
                .spec
                .secret_outputs
                .iter()
                .map(|field| own(field.split('.').map(|k| Seg::Key(k.into())).collect()))
                .collect(),
            Call::Template(template) => {
                let flow = &template.plan.secrets;
                let mut found: Vec<Secret> = flow.secret_outputs.iter().cloned().map(own).collect();
                for (param, paths) in &flow.carried {
                    let mut origins: Vec<Origin> = Vec::new();
                    for secret in given(param) {
                        if !origins.contains(&secret.origin) {
                            origins.push(secret.origin);
                        }
                    }
                    for origin in origins {
                        found.extend(paths.iter().map(|path| {
                            item(Secret {
                                path: path.clone(),
                                origin: origin.clone(),
                            })
                        }));
                    }
                }
                found
            }
        }
    }
}

/// How deep a secret is followed inside a value, and how many places of one secret a value keeps apart:
/// beyond them the value holds the secret as a whole (more is refused, never less), so that a flow built
/// to nest values deeper and deeper costs no more than in proportion to its size.
const MAX_DEPTH: usize = 16;
const MAX_PLACES: usize = 16;

/// `secrets` without repeats, each cut at [`MAX_DEPTH`], and those of an origin found in more than
/// [`MAX_PLACES`] places as one secret of the whole value.
fn bounded(secrets: Vec<Secret>) -> Vec<Secret> {
    let mut places: HashMap<Origin, usize> = HashMap::new();
    for secret in &secrets {
        *places.entry(secret.origin.clone()).or_default() += 1;
    }
    let mut seen: HashSet<Secret> = HashSet::new();
    let mut kept = Vec::new();
    for mut secret in secrets {
        if places[&secret.origin] > MAX_PLACES {
            secret.path.clear();
        }
        secret.path.truncate(MAX_DEPTH);
        if seen.insert(secret.clone()) {
            kept.push(secret);
        }
    }
    kept
}

/// The secrets in what `reference` selects from segment `from` on, given those of the value there.
fn select(entry: Vec<Secret>, reference: &Reference, from: usize) -> Vec<Secret> {
    let query = reference.query();
    let plural = !reference.is_singular();
    let mut found = Vec::new();
    'secrets: for secret in entry {
        let mut at = 0;
        let mut whole = false;
        for i in from..query.segments().len() {
            let Some(seg) = secret.path.get(at) else {
                break;
            };
            match query.selects(i) {
                Some(Selects::One(PathStep::Name(name))) if *seg == Seg::Key(name.into()) => {}
                Some(Selects::One(PathStep::Index(_))) if *seg == Seg::Item => {}
                Some(Selects::Each) => {}
                Some(Selects::One(_)) => continue 'secrets,
                Some(Selects::Other) | None => {
                    whole = true;
                    break;
                }
            }
            at += 1;
        }
        let path = match secret.path.get(at..) {
            _ if whole => Vec::new(),
            Some([]) | None => Vec::new(),
            Some(rest) if plural => std::iter::once(Seg::Item).chain(rest.to_vec()).collect(),
            Some(rest) => rest.to_vec(),
        };
        found.push(Secret {
            path,
            origin: secret.origin,
        });
    }
    found
}

/// Where `needle` is first written in `haystack` at or after byte `from`.
fn find_after(haystack: &str, needle: &str, from: usize) -> Option<Range<usize>> {
    let start = from + haystack.get(from..)?.find(needle)?;
    crate::source::work::count(start + needle.len() - from);
    Some(start..start + needle.len())
}
