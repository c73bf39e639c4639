//! The run context that references and templates read, as seen by one step.
//!
//! The context is never built as one JSON document: the executor hands each step the parameters, the run
//! facts and the results of the steps it depends on, each shared, and a reference starts its query at the
//! entry its first segments name (`$.steps.<id>` is one map lookup). Only a query whose filters refer back
//! to the root (`$`), and template rendering, see a materialised document, built from the entries they need.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::reference::{Reference, Root};
use super::template::TemplateExpr;
use crate::context::StepEntries;

/// What a step's expressions can read.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// `$.params`.
    pub params: &'a Value,
    /// `$.run`: a [`crate::context::RunFacts`], as the context shows it.
    pub run: &'a Value,
    /// `$.steps`: at least the steps the evaluating step depends on, each a
    /// [`crate::context::StepEntry`] as the context shows it.
    pub steps: &'a StepEntries,
    /// `$.item` and `$.index` inside `for_each`.
    pub item: Option<(&'a Value, &'a Value)>,
    /// `$.output` inside `until`.
    pub output: Option<&'a Value>,
}

impl<'a> Scope<'a> {
    /// The same scope with `$.item` and `$.index` set.
    pub fn with_item(self, item: &'a Value, index: &'a Value) -> Scope<'a> {
        Scope {
            item: Some((item, index)),
            ..self
        }
    }

    /// The same scope with `$.output` set.
    pub fn with_output(self, output: &'a Value) -> Scope<'a> {
        Scope {
            output: Some(output),
            ..self
        }
    }

    /// The context entry a reference starts from: `params`, `steps.<id>`, `item`...
    fn entry(&self, reference: &Reference) -> Option<&'a Value> {
        match reference.root() {
            Root::Params => Some(self.params),
            Root::Run => Some(self.run),
            Root::Steps => self.steps.get(reference.step_id()?).map(|entry| &**entry),
            Root::Item => self.item.map(|(item, _)| item),
            Root::Index => self.item.map(|(_, index)| index),
            Root::Output => self.output,
        }
    }

    /// The nodes a reference selects, in order.
    pub fn select(&self, reference: &Reference) -> Vec<Cow<'a, Value>> {
        let query = reference.query();
        if !query.is_local() {
            let document = self.to_value(None);
            return query
                .select(&document)
                .into_iter()
                .map(|value| Cow::Owned(value.clone()))
                .collect();
        }
        match self.entry(reference) {
            Some(entry) => query
                .select_from(entry, reference.entry_len())
                .into_iter()
                .map(Cow::Borrowed)
                .collect(),
            None => Vec::new(),
        }
    }

    /// The value at a template path's names (`["steps", "x", "output", "0"]`), like a singular reference.
    pub fn lookup(&self, names: &[String]) -> Option<&'a Value> {
        let (first, rest) = names.split_first()?;
        let (mut node, rest) = match first.as_str() {
            "params" => (self.params, rest),
            "run" => (self.run, rest),
            "item" => (self.item?.0, rest),
            "index" => (self.item?.1, rest),
            "output" => (self.output?, rest),
            "steps" => {
                let (id, rest) = rest.split_first()?;
                (&**self.steps.get(id)?, rest)
            }
            _ => return None,
        };
        for name in rest {
            node = match node {
                Value::Object(map) => map.get(name)?,
                Value::Array(items) => items.get(name.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The part of the context a template reads, as one JSON document for handlebars: the parameters and
    /// step entries its paths name (whole roots when its blocks read relative paths).
    pub fn template_data(&self, template: &TemplateExpr) -> Value {
        if template.is_scoping() {
            return self.to_value(Some(template));
        }
        let mut params = Map::new();
        let mut steps = Map::new();
        let mut root = Map::new();
        for path in template.paths() {
            let (Some(first), second) = (path.segments.first(), path.segments.get(1)) else {
                continue;
            };
            match (first.as_str(), second) {
                ("params", Some(name)) => {
                    if let Some(value) = self.params.get(name) {
                        params.insert(name.clone(), value.clone());
                    }
                }
                ("params", None) => {
                    root.insert("params".into(), self.params.clone());
                }
                ("steps", Some(id)) => {
                    if let Some(entry) = self.steps.get(id) {
                        steps.insert(id.clone(), (**entry).clone());
                    }
                }
                ("run", _) => {
                    root.insert("run".into(), self.run.clone());
                }
                ("item", _) | ("index", _) => {
                    if let Some((item, index)) = self.item {
                        root.insert("item".into(), item.clone());
                        root.insert("index".into(), index.clone());
                    }
                }
                ("output", _) => {
                    if let Some(output) = self.output {
                        root.insert("output".into(), output.clone());
                    }
                }
                _ => {}
            }
        }
        root.entry("params").or_insert(Value::Object(params));
        root.insert("steps".into(), Value::Object(steps));
        Value::Object(root)
    }

    /// The context as one JSON document; with `template`, only the step entries that template reads.
    pub fn to_value(&self, template: Option<&TemplateExpr>) -> Value {
        let mut steps = Map::new();
        let wanted = |id: &str| {
            template.is_none_or(|t| {
                t.paths().iter().any(|p| {
                    p.segments.first().is_some_and(|s| s == "steps")
                        && p.segments.get(1).is_some_and(|s| s == id)
                })
            })
        };
        for (id, entry) in self.steps {
            if wanted(id) {
                steps.insert(id.clone(), (**entry).clone());
            }
        }
        let mut root = Map::new();
        root.insert("params".into(), self.params.clone());
        root.insert("run".into(), self.run.clone());
        root.insert("steps".into(), Value::Object(steps));
        if let Some((item, index)) = self.item {
            root.insert("item".into(), item.clone());
            root.insert("index".into(), index.clone());
        }
        if let Some(output) = self.output {
            root.insert("output".into(), output.clone());
        }
        Value::Object(root)
    }
}
