//! Templates: a string containing `{{` is a handlebars template over the run context.
//!
//! Strict (a missing value is an error, not an empty string), without HTML escaping, with handlebars-rust's
//! built-in helpers. Templates are compiled once when the flow is read; the paths they read are extracted
//! from the compiled form so that the checker can verify them and order steps by them, as for references.

use std::sync::LazyLock;

use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use handlebars::{Context, Handlebars, Path, PathSeg, RenderContext, Renderable, StringOutput};
use serde_json::Value;

/// The helpers registered in handlebars-rust by default (the only ones keyflow offers).
pub const HELPERS: &[&str] = &[
    "if", "unless", "each", "with", "lookup", "raw", "log", "eq", "ne", "gt", "gte", "lt", "lte",
    "and", "or", "not", "len",
];

/// Helpers whose block body is evaluated with a different current value, so that paths inside are
/// relative to it rather than to the run context.
const SCOPING_HELPERS: &[&str] = &["each", "with"];

static HANDLEBARS: LazyLock<Handlebars<'static>> = LazyLock::new(|| {
    let mut handlebars = Handlebars::new();
    handlebars.set_strict_mode(true);
    handlebars.register_escape_fn(handlebars::no_escape);
    handlebars
});

/// A compiled template.
#[derive(Debug, Clone)]
pub struct TemplateExpr {
    source: String,
    template: Template,
    paths: Vec<TemplatePath>,
    helpers: Vec<String>,
}

/// A path the template reads from the run context: `params.tenant_id` is `["params", "tenant_id"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplatePath {
    /// The path's names.
    pub segments: Vec<String>,
    /// The path as written in the template.
    pub raw: String,
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
        let template = Template::compile(source).map_err(|e| TemplateSyntaxError {
            message: e.reason().to_string(),
            position: e.pos(),
        })?;
        let mut walker = Walker::default();
        walker.template(&template, true);
        Ok(TemplateExpr {
            source: source.to_string(),
            template,
            paths: walker.paths,
            helpers: walker.helpers,
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
        &self.helpers
    }

    /// Renders the template over `data`.
    pub fn render(&self, data: Value) -> Result<String, String> {
        let context = Context::from(data);
        let mut render_context = RenderContext::new(None);
        let mut out = StringOutput::new();
        self.template
            .render(&HANDLEBARS, &context, &mut render_context, &mut out)
            .map_err(|e| render_message(&e))?;
        out.into_string().map_err(|e| e.to_string())
    }
}

fn render_message(error: &handlebars::RenderError) -> String {
    let reason = error.reason().to_string();
    match reason.strip_prefix("Failed to access variable in strict mode ") {
        Some(path) => format!("{path} is missing"),
        None => reason,
    }
}

/// Collects the paths and helper names of a compiled template.
#[derive(Default)]
struct Walker {
    paths: Vec<TemplatePath>,
    helpers: Vec<String>,
}

impl Walker {
    fn template(&mut self, template: &Template, absolute: bool) {
        for element in &template.elements {
            match element {
                TemplateElement::Expression(helper) | TemplateElement::HtmlExpression(helper) => {
                    self.helper(helper, absolute);
                }
                TemplateElement::HelperBlock(helper) => {
                    self.helper(helper, absolute);
                    let scoping = matches!(&helper.name, Parameter::Name(n) if SCOPING_HELPERS.contains(&n.as_str()));
                    for body in [&helper.template, &helper.inverse].into_iter().flatten() {
                        self.template(body, absolute && !scoping);
                    }
                }
                _ => {}
            }
        }
    }

    fn helper(&mut self, helper: &HelperTemplate, absolute: bool) {
        let is_call = helper.block || !helper.params.is_empty() || !helper.hash.is_empty();
        match &helper.name {
            Parameter::Name(name) if is_call => self.helpers.push(name.clone()),
            Parameter::Path(path) if is_call => {
                if let Some(name) = plain_name(path) {
                    self.helpers.push(name);
                }
            }
            name => self.parameter(name, absolute),
        }
        for param in helper.params.iter().chain(helper.hash.values()) {
            self.parameter(param, absolute);
        }
    }

    fn parameter(&mut self, parameter: &Parameter, absolute: bool) {
        match parameter {
            Parameter::Path(Path::Relative((segs, raw))) if absolute => {
                let segments: Vec<String> = segs
                    .iter()
                    .filter_map(|seg| match seg {
                        PathSeg::Named(name) => Some(name.clone()),
                        _ => None,
                    })
                    .collect();
                if !segments.is_empty() && !segments[0].starts_with('@') && segments[0] != "this" {
                    self.paths.push(TemplatePath {
                        segments,
                        raw: raw.clone(),
                    });
                }
            }
            Parameter::Name(name) if absolute => self.paths.push(TemplatePath {
                segments: vec![name.clone()],
                raw: name.clone(),
            }),
            Parameter::Subexpression(sub) => {
                if let TemplateElement::Expression(helper) = sub.as_element() {
                    self.helper(helper, absolute);
                }
            }
            _ => {}
        }
    }
}

fn plain_name(path: &Path) -> Option<String> {
    match path {
        Path::Relative((segs, _)) if segs.len() == 1 => match &segs[0] {
            PathSeg::Named(name) => Some(name.clone()),
            _ => None,
        },
        _ => None,
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
        assert!(missing.contains("params.tag"), "{missing}");
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
    fn syntax_errors_have_a_position() {
        let error = TemplateExpr::compile("a {{#if x}} b").unwrap_err();
        assert!(error.position.is_some() || !error.message.is_empty());
    }
}
