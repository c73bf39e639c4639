//! Pass (last): a problem at a template's call site — a param it does not have or lacks, a value of the
//! wrong type, an output it does not give, a destructive template without `confirm: true` — is about an
//! interface declared in another file. Each such diagnostic gets a note naming the template's file and
//! the line of what it is about (the param, else `params:`, `outputs:`), so the reader can open it.

use crate::diagnostic::{At, Diagnostic, Kind};
use crate::plan::{Call, Template};
use crate::source::{PathSeg, YamlPath};

use super::Context;

/// Adds the template's place to every diagnostic at one of its call sites.
pub(crate) fn check(ctx: &Context, out: &mut [Diagnostic]) {
    for diagnostic in out.iter_mut().filter(|d| d.note.is_none() && d.is_error()) {
        let Some((template, about)) = callee(ctx, diagnostic) else {
            continue;
        };
        diagnostic.note = Some(note(template, &about));
    }
}

/// What a diagnostic's template is asked about: one of its params, or its outputs.
enum About {
    Param(String),
    Params,
    Outputs,
    /// Its steps: what makes it destructive.
    Steps,
}

/// The template a diagnostic is about, when it is at (or reads) a step that calls one.
fn callee<'a>(ctx: &'a Context, diagnostic: &Diagnostic) -> Option<(&'a Template, About)> {
    let template = |i: usize| match ctx.call(i) {
        Some(Call::Template(template)) => Some(template.as_ref()),
        _ => None,
    };
    if let Kind::UnknownOutputField { step, .. } = &diagnostic.kind {
        return Some((template(ctx.step_index(step)?)?, About::Outputs));
    }
    if matches!(&diagnostic.kind, Kind::Check { code, .. } if *code == "invalid-uses") {
        return None; // about the template itself, which says where
    }
    let path = match &diagnostic.at {
        At::Value(path) | At::Key(path) | At::Part(path, _) => path,
        At::File | At::Pos(_) => return None,
    };
    let i = step_of(path)?;
    let template = template(i)?;
    let about = match (&diagnostic.kind, path.0.get(2), path.0.get(3)) {
        (Kind::MissingInput { input, .. }, _, _) => About::Param(input.clone()),
        (Kind::MissingConfirm { .. }, _, _) => About::Steps,
        (_, Some(PathSeg::Key(with)), Some(PathSeg::Key(param)))
            if with == "with" && template.plan.params.contains_key(param) =>
        {
            About::Param(param.clone())
        }
        _ => About::Params,
    };
    Some((template, about))
}

/// `steps[i]…` → `i`.
fn step_of(path: &YamlPath) -> Option<usize> {
    match (path.0.first(), path.0.get(1)) {
        (Some(PathSeg::Key(steps)), Some(PathSeg::Index(i))) if steps == "steps" => Some(*i),
        _ => None,
    }
}

/// "the template `lib:greet@^1` declares its param `who` at ../lib/greet.yaml:4".
fn note(template: &Template, about: &About) -> String {
    let source = &template.plan.source;
    let line = |path: &YamlPath| source.key_span(path).map(|span| span.start.line);
    let root = YamlPath::root();
    let (what, at, none) = match about {
        About::Param(name) => (
            format!("its param `{name}`"),
            line(&root.key("params").key(name.as_str())).or_else(|| line(&root.key("params"))),
            "params",
        ),
        About::Params => (
            "its params".to_string(),
            line(&root.key("params")),
            "params",
        ),
        About::Outputs => (
            "its outputs".to_string(),
            line(&root.key("outputs")),
            "outputs",
        ),
        About::Steps => ("its steps".to_string(), line(&root.key("steps")), "steps"),
    };
    let id = template.spec.id;
    match at {
        Some(at) => format!(
            "the template `{id}` declares {what} at {}:{at}",
            source.name
        ),
        None => format!(
            "the template `{id}` is {}, which declares no {none}",
            source.name
        ),
    }
}
