//! What a compiled handlebars template reads: the context paths outside `each`/`with` bodies (whose
//! paths are relative to other values) and the helpers it calls, for the checker.

use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use handlebars::{Path, PathSeg};

use super::{SCOPING_HELPERS, TemplatePath};

/// Collects the paths and helper names of a compiled template.
#[derive(Default)]
pub(super) struct Walker {
    pub paths: Vec<TemplatePath>,
    pub helpers: Vec<String>,
}

impl Walker {
    pub fn template(&mut self, template: &Template, absolute: bool) {
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
