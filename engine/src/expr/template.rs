//! Templates: a string containing `{{` is a handlebars template over the run context.
//!
//! Strict (a missing value is an error, not an empty string), without HTML escaping, with handlebars-rust's
//! built-in helpers. Templates are compiled once when the flow is read; the paths they read are extracted
//! from the compiled form so that the checker can verify them and order steps by them, as for references.

pub mod limits;

use std::sync::LazyLock;

use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use handlebars::{
    Context, Handlebars, JsonRender, Path, PathSeg, RenderContext, RenderErrorReason, Renderable,
    StringOutput,
};

use super::reference::Root;
use super::scope::Scope;
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
    /// The compiled handlebars template; `None` for a simple template, which never needs it.
    template: Option<Template>,
    paths: Vec<TemplatePath>,
    helpers: Vec<String>,
    /// For a template that is only text and `{{path}}` expressions (most of them): its parts, rendered
    /// without building a handlebars context.
    simple: Option<Vec<Part>>,
    /// Whether it has `each`/`with` blocks, whose bodies read paths relative to other values.
    scoping: bool,
}

/// A part of a simple template.
#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Path(TemplatePath),
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
        if let Some(parts) = parse_simple(source) {
            let paths = parts
                .iter()
                .filter_map(|part| match part {
                    Part::Path(path) => Some(path.clone()),
                    Part::Text(_) => None,
                })
                .collect();
            return Ok(TemplateExpr {
                source: source.to_string(),
                template: None,
                paths,
                helpers: Vec::new(),
                simple: Some(parts),
                scoping: false,
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
        let simple = (!source.contains('~'))
            .then(|| simple_parts(&template))
            .flatten();
        let scoping = walker
            .helpers
            .iter()
            .any(|h| SCOPING_HELPERS.contains(&h.as_str()));
        Ok(TemplateExpr {
            source: source.to_string(),
            template: Some(template),
            paths: walker.paths,
            helpers: walker.helpers,
            simple,
            scoping,
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
    pub fn render(&self, data: Value) -> Result<String, RenderError> {
        self.render_handlebars(data)
    }

    /// Renders the template in `scope`: simple templates directly, the others through handlebars over
    /// the part of the context they read.
    pub fn render_in(&self, scope: &Scope<'_>) -> Result<String, RenderError> {
        let Some(parts) = &self.simple else {
            return self.render_handlebars(scope.template_data(self));
        };
        let mut out = String::new();
        for part in parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Path(path) => match scope.lookup(&path.segments) {
                    Some(value) => out.push_str(&JsonRender::render(value)),
                    None => {
                        return Err(RenderError::Missing {
                            path: path.raw.clone(),
                        });
                    }
                },
            }
        }
        Ok(out)
    }

    /// Whether the template's block bodies read paths relative to other values (`each`, `with`), so that
    /// it needs whole context roots rather than the entries its paths name.
    pub fn is_scoping(&self) -> bool {
        self.scoping
    }

    fn render_handlebars(&self, data: Value) -> Result<String, RenderError> {
        let compiled;
        let template = match &self.template {
            Some(template) => template,
            None => {
                compiled = Template::compile(&self.source)
                    .map_err(|e| RenderError::Failed(e.reason().to_string()))?;
                &compiled
            }
        };
        let context = Context::from(data);
        let mut render_context = RenderContext::new(None);
        let mut out = StringOutput::new();
        template
            .render(&HANDLEBARS, &context, &mut render_context, &mut out)
            .map_err(|e| render_error(&e))?;
        out.into_string()
            .map_err(|e| RenderError::Failed(e.to_string()))
    }
}

fn render_error(error: &handlebars::RenderError) -> RenderError {
    match error.reason() {
        RenderErrorReason::MissingVariable(path) => RenderError::Missing {
            path: path.clone().unwrap_or_default(),
        },
        other => RenderError::Failed(other.to_string()),
    }
}

/// Parses the commonest templates — text and `{{root.name.name}}` expressions — without handlebars:
/// `None` for anything else (or any doubt: backslashes, braces in the text, `{{{`, helpers, spaces inside
/// names), which then goes to handlebars' full grammar.
fn parse_simple(source: &str) -> Option<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = source;
    while !rest.is_empty() {
        let Some(open) = rest.find("{{") else {
            if rest.contains(['{', '}', '\\']) {
                return None;
            }
            parts.push(Part::Text(rest.to_string()));
            break;
        };
        let text = &rest[..open];
        if text.contains(['{', '}', '\\']) {
            return None;
        }
        if !text.is_empty() {
            parts.push(Part::Text(text.to_string()));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}")?;
        let raw = after[..close].trim();
        let segments: Vec<String> = raw.split('.').map(str::to_string).collect();
        let plain = |s: &String| {
            let mut chars = s.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                || (!s.is_empty()
                    && s.chars().all(|c| c.is_ascii_digit())
                    && segments.first() != Some(s))
        };
        let root = segments
            .first()
            .is_some_and(|first| Root::ALL.iter().any(|r| r.name() == first));
        if !root
            || !segments.iter().all(plain)
            || HELPERS.contains(&raw)
            || after[..close].contains(['{', '}'])
        {
            return None;
        }
        parts.push(Part::Path(TemplatePath {
            segments,
            raw: raw.to_string(),
        }));
        rest = &after[close + 2..];
    }
    Some(parts)
}

/// The parts of a template made only of text and plain `{{path}}` expressions, where every path starts at
/// a context root; `None` for anything else (helpers, blocks, `this`, `../`, `@root`).
fn simple_parts(template: &Template) -> Option<Vec<Part>> {
    template
        .elements
        .iter()
        .map(|element| match element {
            TemplateElement::RawString(text) => Some(Part::Text(text.clone())),
            TemplateElement::Expression(helper) | TemplateElement::HtmlExpression(helper)
                if !helper.block && helper.params.is_empty() && helper.hash.is_empty() =>
            {
                let (segments, raw) = match &helper.name {
                    Parameter::Name(name) if !HELPERS.contains(&name.as_str()) => {
                        (vec![name.clone()], name.clone())
                    }
                    Parameter::Path(Path::Relative((segs, raw))) => {
                        let names: Option<Vec<String>> = segs
                            .iter()
                            .map(|seg| match seg {
                                PathSeg::Named(name) => Some(name.clone()),
                                _ => None,
                            })
                            .collect();
                        (names?, raw.clone())
                    }
                    _ => return None,
                };
                let root_ok = segments
                    .first()
                    .is_some_and(|first| Root::ALL.iter().any(|r| r.name() == first));
                (root_ok && !raw.contains("..") && !raw.contains('@'))
                    .then_some(Part::Path(TemplatePath { segments, raw }))
            }
            TemplateElement::Comment(_) => Some(Part::Text(String::new())),
            _ => None,
        })
        .collect()
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
        use crate::expr::scope::{StepEntries, step_entry};
        use std::sync::Arc;
        let mut steps = StepEntries::new();
        let output = json!({"name": "k", "n": 3, "f": 1.5, "ok": true, "none": null, "list": [1, "a"], "obj": {"a": 1}});
        steps.insert(
            "s".into(),
            Arc::new(step_entry("succeeded", Some(output), None)),
        );
        let params = json!({"tenant": "t<1>&", "count": 2});
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
        ] {
            let template = TemplateExpr::compile(source).expect(source);
            assert!(
                template.simple.is_some(),
                "{source} should take the simple path"
            );
            let direct = template.render_in(&scope);
            let through = template.render(scope.to_value(None));
            assert_eq!(direct, through, "{source}");
        }
        for source in [
            "{{#if params.count}}x{{/if}}",
            "{{lookup params \"tenant\"}}",
            "{{~params.tenant~}}",
            "{{this}}",
        ] {
            assert!(
                TemplateExpr::compile(source)
                    .expect(source)
                    .simple
                    .is_none(),
                "{source}"
            );
        }
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let error = TemplateExpr::compile("a {{#if x}} b").unwrap_err();
        assert!(error.position.is_some() || !error.message.is_empty());
    }
}
