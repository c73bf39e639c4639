//! The static checker: the only road from the raw model to a [`Plan`].
//!
//! Pure (no network, no credentials, no environment). Runs named passes, one file each, that all push
//! diagnostics into one list, so that every problem is reported at once. A pass whose premise failed
//! (an unknown block has no input schema to check against) stays quiet about it rather than piling on.

mod blocks;
mod callees;
mod compile;
mod connections;
mod controls;
mod cycles;
mod destructive;
mod flow_checks;
mod ids;
mod inputs;
mod params;
mod references;
mod secrets;
mod suggestions;
mod template_interface;
mod templates;
mod triggers;
mod typing;

use std::collections::HashMap;
use std::sync::Arc;

use crate::block::Registry;
use crate::diagnostic::Diagnostic;
use crate::library::TemplateSource;
use crate::load::load;
use crate::model::Flow;
use crate::plan::{Call, Plan};
use crate::source::{SourceFile, YamlPath};

pub(crate) use compile::{Compiled, CompiledStep};
pub(crate) use references::Deps;

/// What every pass reads.
pub(crate) struct Context<'a> {
    pub flow: &'a Flow,
    pub registry: &'a Registry,
    pub source: &'a SourceFile,
    /// The index of the first step with each id.
    ids: HashMap<&'a str, usize>,
    /// What each step calls (a block, or its template for `uses:`), when known.
    calls: Vec<Option<Call>>,
    /// "Did you mean", within this file's budget.
    pub suggester: suggestions::Suggester,
}

impl<'a> Context<'a> {
    /// Where the value of flow output `name` is written: under `value:` in the form `{ value, reveal }`.
    pub(crate) fn output_at(&self, name: &str) -> YamlPath {
        let at = YamlPath::root().key("outputs").key(name);
        match self.flow.outputs.get(name) {
            Some(output) if output.is_marked() => at.key("value"),
            _ => at,
        }
    }

    fn new(
        flow: &'a Flow,
        registry: &'a Registry,
        source: &'a SourceFile,
        calls: Vec<Option<Call>>,
    ) -> Context<'a> {
        let mut ids = HashMap::with_capacity(flow.steps.len());
        for (i, step) in flow.steps.iter().enumerate() {
            ids.entry(step.id.as_str()).or_insert(i);
        }
        Context {
            flow,
            registry,
            source,
            ids,
            calls,
            suggester: suggestions::Suggester::for_len(source.text.len()),
        }
    }

    /// What step `i` calls, when it is known.
    pub fn call(&self, i: usize) -> Option<&Call> {
        self.calls.get(i).and_then(Option::as_ref)
    }

    /// What step `i` calls, as written: its block id or its template path.
    pub fn block_name(&self, i: usize) -> String {
        let step = &self.flow.steps[i];
        step.block
            .clone()
            .or_else(|| step.uses.clone())
            .unwrap_or_default()
    }

    /// The index of the first step with this id.
    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.ids.get(id).copied()
    }

    /// Every step id, for suggestions.
    pub fn step_ids(&self) -> impl Iterator<Item = &str> {
        self.flow.steps.iter().map(|s| s.id.as_str())
    }
}

/// Reads and checks a flow file; a flow with no error becomes a plan, with its warnings in
/// [`Plan::warnings`]. The diagnostics of a flow that does not are its errors and its warnings.
pub fn check(source: Arc<SourceFile>, registry: &Registry) -> Result<Plan, Vec<Diagnostic>> {
    checked_load(source, registry, &templates::Stack::default()).map_err(Nested::into_diagnostics)
}

/// Reads and checks a flow file whose `uses: NAME:PATH@RANGE` templates come from `templates` (the
/// CLI's: the project's `keyflow.lock`); `uses: ./x.yaml` reads the file as [`check`] does.
pub fn check_using(
    source: Arc<SourceFile>,
    registry: &Registry,
    templates: Arc<dyn TemplateSource>,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut stack = templates::Stack::new(templates.clone());
    stack.library = templates.library_of(std::path::Path::new(&source.name));
    checked_load(source, registry, &stack).map_err(Nested::into_diagnostics)
}

/// The template `uses` names (a library's, through `templates`, or a file's path relative to `base`),
/// checked as a flow of its own, with the interface a step using it sees. `library` makes `base` the root
/// of that library, whose templates read relative paths against it: what `keyflow template show` and
/// `keyflow template check` inspect.
pub fn check_template(
    uses: &str,
    base: &std::path::Path,
    library: Option<Arc<crate::library::LibraryScope>>,
    registry: &Registry,
    templates: Arc<dyn TemplateSource>,
) -> Result<crate::plan::Template, crate::library::SourceError> {
    templates::one(uses, base, library, registry, templates)
}

/// Why a file read as a flow did not become a plan.
pub(crate) enum Nested {
    /// It does not read as a flow at all (not YAML, not a mapping with `name` and `steps`): these
    /// diagnostics may quote a file that was never meant to be a flow.
    NotAFlow(Vec<Diagnostic>),
    /// It is a flow, with these problems.
    Invalid(Vec<Diagnostic>),
}

impl Nested {
    fn into_diagnostics(self) -> Vec<Diagnostic> {
        match self {
            Nested::NotAFlow(found) | Nested::Invalid(found) => found,
        }
    }
}

/// Reads and checks; a flow with unknown fields is still checked, read as [`load`] corrects it, and what
/// that finds is reported with them.
fn checked_load(
    source: Arc<SourceFile>,
    registry: &Registry,
    stack: &templates::Stack,
) -> Result<Plan, Nested> {
    let loaded = load(&source);
    let Some(flow) = loaded.flow else {
        return Err(Nested::NotAFlow(loaded.diagnostics));
    };
    let checked = check_with(&flow, source, registry, stack);
    if loaded.diagnostics.is_empty() {
        return checked.map_err(Nested::Invalid);
    }
    let mut found = loaded.diagnostics;
    match checked {
        Ok(plan) => found.extend(plan.warnings),
        Err(more) => found.extend(more),
    }
    Err(Nested::Invalid(found))
}

/// Checks a flow read from `source`.
pub fn check_flow(
    flow: &Flow,
    source: Arc<SourceFile>,
    registry: &Registry,
) -> Result<Plan, Vec<Diagnostic>> {
    check_with(flow, source, registry, &templates::Stack::default())
}

fn check_with(
    flow: &Flow,
    source: Arc<SourceFile>,
    registry: &Registry,
    stack: &templates::Stack,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let calls = templates::resolve(&flow.steps, &source, registry, stack, &mut out);
    let ctx = Context::new(flow, registry, &source, calls);
    ids::check(&ctx, &mut out);
    let params = params::check(&ctx, &mut out);
    let triggers = triggers::check(&ctx, &params, &mut out);
    let compiled = compile::run(&ctx, &mut out);
    blocks::check(&ctx, &mut out);
    let connections = connections::check(&ctx, &compiled, &mut out);
    let schemas = typing::Schemas::new(&ctx, &compiled);
    let deps = references::check(&ctx, &compiled, &schemas, &mut out);
    inputs::check(&ctx, &compiled, &schemas, &mut out);
    controls::check(&ctx, &compiled, &schemas, &mut out);
    let order = cycles::check(&ctx, &deps, &mut out);
    destructive::check(&ctx, &compiled, &mut out);
    let secrets = secrets::check(&ctx, &compiled, &mut out);
    if out.iter().any(Diagnostic::is_error) {
        callees::check(&ctx, &mut out);
        out.dedup();
        return Err(out);
    }
    out.dedup();
    let warnings = out;
    let output_schemas = compiled
        .outputs
        .iter()
        .map(|(name, expr)| (name.clone(), schemas.of_expr(expr, None)))
        .collect();
    let mut plan = compile::into_plan(
        &ctx,
        compiled,
        params,
        connections,
        deps,
        order,
        source.clone(),
    );
    plan.output_schemas = output_schemas;
    plan.library = stack.library.clone();
    plan.triggers = triggers;
    plan.secrets = secrets;
    plan.warnings = warnings;
    let mut found = flow_checks::check(&plan, registry);
    if found.is_empty() {
        Ok(plan)
    } else {
        found.extend(plan.warnings);
        Err(found)
    }
}
