//! Templates: a string containing `{{` is a handlebars template over the run context.
//!
//! Strict (a missing value is an error, not an empty string), without HTML escaping, with handlebars-rust's
//! built-in helpers. Templates are compiled once when the flow is read; the paths they read are extracted
//! from the compiled form so that the checker can verify them and order steps by them, as for references.

pub mod limits;
mod simple;
mod walk;

use std::sync::LazyLock;

use handlebars::template::Template;
use handlebars::{
    Context, Handlebars, JsonRender, RenderContext, RenderErrorReason, Renderable, StringOutput,
};

use serde_json::Value;
use simple::Part;
use walk::Walker;

/// The helpers keyflow offers: handlebars-rust's built-in ones but `log`, which would print values —
/// secrets included — to the log past keyflow's masking (a `core.log` step logs, masked).
pub const HELPERS: &[&str] = &[
    "if", "unless", "each", "with", "lookup", "raw", "eq", "ne", "gt", "gte", "lt", "lte", "and",
    "or", "not", "len",
];

/// Helpers whose block body is evaluated with a different current value, so that paths inside are
/// relative to it rather than to the run context.
const SCOPING_HELPERS: &[&str] = &["each", "with"];

static HANDLEBARS: LazyLock<Handlebars<'static>> = LazyLock::new(|| {
    let mut handlebars = Handlebars::new();
    handlebars.set_strict_mode(true);
    handlebars.register_escape_fn(handlebars::no_escape);
    handlebars.unregister_helper("log");
    handlebars
});

/// A compiled template.
#[derive(Debug, Clone)]
pub struct TemplateExpr {
    source: String,
    /// The context paths it reads outside `each`/`with` bodies, in the order written.
    paths: Vec<TemplatePath>,
    body: Body,
}

/// How a template renders.
#[derive(Debug, Clone)]
enum Body {
    /// Text and `{{path}}` expressions (most templates): rendered part by part, without handlebars.
    Simple(Vec<Part>),
    /// Anything else, compiled by handlebars.
    Handlebars {
        template: Template,
        /// The helpers it calls.
        helpers: Vec<String>,
        /// Whether it has `each`/`with` blocks, whose bodies read paths relative to other values.
        scoping: bool,
    },
}

/// A path the template reads from the run context: `params.tenant_id` is `["params", "tenant_id"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplatePath {
    /// The path's names.
    pub segments: Vec<String>,
    /// The path as written in the template.
    pub raw: String,
}

/// Why a template did not render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A value the template reads is not in the context (templates are strict).
    #[error("{path} is missing")]
    Missing {
        /// The path as the template writes it (`params.tenant`).
        path: String,
    },
    /// Anything else handlebars refused, in its words.
    #[error("{0}")]
    Failed(String),
}

/// A template syntax error, with its 1-based line and column inside the template when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSyntaxError {
    /// What is wrong.
    pub message: String,
    /// Line and column in the template text.
    pub position: Option<(usize, usize)>,
}

impl TemplateExpr {
    /// Whether a string is written as a template.
    pub fn looks_like(text: &str) -> bool {
        text.contains("{{")
    }

    /// Compiles a template.
    pub fn compile(source: &str) -> Result<TemplateExpr, TemplateSyntaxError> {
        crate::source::work::count(source.len());
        if let Some(simple) = simple::parse(source) {
            return Ok(TemplateExpr {
                source: source.to_string(),
                paths: simple.paths,
                body: Body::Simple(simple.parts),
            });
        }
        limits::check(source)?;
        // handlebars' compiler scans from the template's start for each element's line and column.
        crate::source::work::count(source.len().saturating_mul(source.matches("{{").count()));
        let template = Template::compile(source).map_err(|e| TemplateSyntaxError {
            message: e.reason().to_string(),
            position: e.pos(),
        })?;
        let mut walker = Walker::default();
        walker.template(&template, true);
        let scoping = walker
            .helpers
            .iter()
            .any(|h| SCOPING_HELPERS.contains(&h.as_str()));
        Ok(TemplateExpr {
            source: source.to_string(),
            paths: walker.paths,
            body: Body::Handlebars {
                template,
                helpers: walker.helpers,
                scoping,
            },
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The context paths the template reads outside `each`/`with` bodies.
    pub fn paths(&self) -> &[TemplatePath] {
        &self.paths
    }

    /// The helpers the template calls.
    pub fn helpers(&self) -> &[String] {
        match &self.body {
            Body::Simple(_) => &[],
            Body::Handlebars { helpers, .. } => helpers,
        }
    }

    /// Renders the template over `data`, a context document.
    pub fn render(&self, data: Value) -> Result<String, RenderError> {
        match &self.body {
            Body::Simple(parts) => self.render_parts(parts, |names| lookup(&data, names)),
            Body::Handlebars { template, .. } => render_handlebars(template, data),
        }
    }

    /// Renders the template in a run context: a simple template reads each path through `lookup`, the
    /// others render through handlebars over the document `data` builds (the part of the context they
    /// read). The context is the caller's (`Scope`), so that templates do not depend on it.
    pub fn render_with<'v>(
        &self,
        lookup: impl Fn(&[String]) -> Option<&'v Value>,
        data: impl FnOnce() -> Value,
    ) -> Result<String, RenderError> {
        match &self.body {
            Body::Simple(parts) => self.render_parts(parts, lookup),
            Body::Handlebars { template, .. } => render_handlebars(template, data()),
        }
    }

    /// Whether the template's block bodies read paths relative to other values (`each`, `with`), so that
    /// it needs whole context roots rather than the entries its paths name.
    pub fn is_scoping(&self) -> bool {
        matches!(self.body, Body::Handlebars { scoping: true, .. })
    }

    fn render_parts<'v>(
        &self,
        parts: &[Part],
        lookup: impl Fn(&[String]) -> Option<&'v Value>,
    ) -> Result<String, RenderError> {
        let mut out = String::new();
        for part in parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Path(i) => {
                    let path = &self.paths[*i];
                    match lookup(&path.segments) {
                        Some(value) => out.push_str(&JsonRender::render(value)),
                        None => {
                            return Err(RenderError::Missing {
                                path: path.raw.clone(),
                            });
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The value at `names` in a context document, as handlebars reads a path: by name in objects, by index
/// in arrays.
fn lookup<'v>(data: &'v Value, names: &[String]) -> Option<&'v Value> {
    names.iter().try_fold(data, |node, name| match node {
        Value::Object(map) => map.get(name),
        Value::Array(items) => items.get(name.parse::<usize>().ok()?),
        _ => None,
    })
}

fn render_handlebars(template: &Template, data: Value) -> Result<String, RenderError> {
    let context = Context::from(data);
    let mut render_context = RenderContext::new(None);
    let mut out = StringOutput::new();
    template
        .render(&HANDLEBARS, &context, &mut render_context, &mut out)
        .map_err(|e| render_error(&e))?;
    out.into_string()
        .map_err(|e| RenderError::Failed(e.to_string()))
}

fn render_error(error: &handlebars::RenderError) -> RenderError {
    match error.reason() {
        RenderErrorReason::MissingVariable(path) => RenderError::Missing {
            path: path.clone().unwrap_or_default(),
        },
        other => RenderError::Failed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_strictly_without_escaping() {
        let t = TemplateExpr::compile("cmk-{{params.tenant}} <{{params.tag}}>").expect("compile");
        let data = json!({"params": {"tenant": "t1", "tag": "a&b"}});
        assert_eq!(t.render(data).as_deref(), Ok("cmk-t1 <a&b>"));
        let missing = t.render(json!({"params": {"tenant": "t1"}})).unwrap_err();
        assert_eq!(
            missing,
            RenderError::Missing {
                path: "params.tag".into()
            }
        );
        assert_eq!(missing.to_string(), "params.tag is missing");
        let through_handlebars = TemplateExpr::compile("{{#if params.a}}{{params.b}}{{/if}}")
            .expect("compile")
            .render(json!({"params": {"a": true}}));
        assert_eq!(
            through_handlebars,
            Err(RenderError::Missing {
                path: "params.b".into()
            })
        );
    }

    #[test]
    fn extracts_paths_outside_scoping_blocks() {
        let t = TemplateExpr::compile(
            "{{params.a}} {{#if steps.s.output.ok}}{{steps.t.output.id}}{{/if}} \
             {{#each steps.u.output}}{{this.name}}{{name}}{{/each}} {{lookup params \"b\"}} {{len (lookup steps.v.output \"x\")}}",
        )
        .expect("compile");
        let paths: Vec<String> = t.paths().iter().map(|p| p.segments.join(".")).collect();
        assert_eq!(
            paths,
            [
                "params.a",
                "steps.s.output.ok",
                "steps.t.output.id",
                "steps.u.output",
                "params",
                "steps.v.output"
            ]
        );
        assert_eq!(t.helpers(), ["if", "each", "lookup", "len", "lookup"]);
    }

    #[test]
    fn simple_templates_render_as_handlebars_does() {
        use crate::context::{StepEntries, StepEntry};
        use crate::expr::scope::Scope;
        use std::sync::Arc;
        let mut steps = StepEntries::new();
        let output = json!({"name": "k", "n": 3, "f": 1.5, "ok": true, "none": null, "list": [1, "a"], "obj": {"a": 1}});
        steps.insert(
            "s".into(),
            Arc::new(StepEntry::succeeded(&output).to_value()),
        );
        let params =
            json!({"tenant": "t<1>&", "count": 2, "my-param": "dash", "a:b": "colon", "né": "e"});
        let run = json!({"id": "r-1"});
        let item = json!({"id": "i"});
        let index = json!(4);
        let scope = Scope {
            params: &params,
            run: &run,
            steps: &steps,
            item: None,
            output: None,
        }
        .with_item(&item, &index);
        for source in [
            "cmk-{{params.tenant}}",
            "{{steps.s.output.name}}/{{steps.s.output.n}}/{{steps.s.output.f}}/{{steps.s.output.ok}}",
            "[{{steps.s.output.none}}] {{steps.s.output.list}} {{steps.s.output.obj}}",
            "{{{params.tenant}}} {{item.id}}#{{index}} {{run.id}}",
            "{{steps.s.output.list.[1]}} {{steps.s.output.list.0}}",
            "a {{! a comment }} b",
            "{{params.missing}}",
            "{{steps.s.output.name.deeper}}",
            "{{ params.tenant }}/{{params.my-param}}/{{params.a:b}}/{{params.né}}",
            "{{steps.s.output.[list].[0]}} {{steps.s.output.obj.a}}",
            "a {{!-- a {{comment}} --}} b\n  {{params.tenant}} {{! inline }}\nc",
            "x{{! not alone }}\n",
            "",
            "no braces at all",
        ] {
            let template = TemplateExpr::compile(source).expect(source);
            assert!(
                matches!(template.body, Body::Simple(_)),
                "{source} should take the simple path"
            );
            let handlebars = Template::compile(source).expect(source);
            let data = scope.to_value(None);
            let expected = render_handlebars(&handlebars, data.clone());
            let in_scope = template.render_with(
                |names| scope.lookup(names),
                || scope.template_data(&template),
            );
            assert_eq!(in_scope, expected, "{source}");
            assert_eq!(template.render(data), expected, "{source}");
        }
        for source in [
            "{{#if params.count}}x{{/if}}",
            "{{lookup params \"tenant\"}}",
            "{{~params.tenant~}}",
            "{{this}}",
            "a\n  {{! alone on its line }}\nb",
            "{{! alone }}",
            "\\{{params.tenant}}",
            "{{&params.tenant}}",
            "{{tenant}}",
        ] {
            let template = TemplateExpr::compile(source).expect(source);
            assert!(matches!(template.body, Body::Handlebars { .. }), "{source}");
            if !source.contains("this") {
                let data = scope.to_value(None);
                assert_eq!(
                    template.render(data.clone()),
                    render_handlebars(&Template::compile(source).expect(source), data),
                    "{source}"
                );
            }
        }
    }

    #[test]
    fn what_the_simple_parser_refuses_handlebars_judges() {
        assert!(TemplateExpr::compile("{{params.[a}}").is_err());
        assert!(TemplateExpr::compile("{{params.a}").is_err());
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let error = TemplateExpr::compile("a {{#if x}} b").unwrap_err();
        assert!(error.position.is_some() || !error.message.is_empty());
    }
}
