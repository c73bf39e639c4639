//! Pass: parameter declarations are consistent (pattern compiles, default and enum fit the type).

use indexmap::IndexMap;
use regex::Regex;

use super::Context;
use crate::diagnostic::{Diagnostic, Kind};
use crate::plan::ParamSpec;
use crate::source::YamlPath;

pub(crate) fn check(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) -> IndexMap<String, ParamSpec> {
    let mut specs = IndexMap::new();
    for (name, param) in &ctx.flow.params {
        let at = YamlPath::root().key("params").key(name);
        let pattern = match &param.pattern {
            Some(pattern) => match Regex::new(pattern) {
                Ok(regex) => Some(regex),
                Err(error) => {
                    out.push(Diagnostic::value(
                        Kind::InvalidRegex {
                            message: first_line(&error.to_string()),
                        },
                        &at.key("pattern"),
                    ));
                    None
                }
            },
            None => None,
        };
        if param.pattern.is_some() && param.ty != crate::model::ParamType::String {
            out.push(Diagnostic::key(
                Kind::InvalidParam {
                    name: name.clone(),
                    message: "`pattern` applies to strings only".into(),
                },
                &at.key("pattern"),
            ));
        }
        for (i, value) in param.allowed.iter().flatten().enumerate() {
            if !param.ty.accepts(value) {
                out.push(Diagnostic::value(
                    Kind::InvalidParam {
                        name: name.clone(),
                        message: format!("`enum` value `{value}` is not {}", param.ty.name()),
                    },
                    &at.key("enum").index(i),
                ));
            }
        }
        let spec = ParamSpec {
            name: name.clone(),
            ty: param.ty,
            default: param.default.clone(),
            description: param.description.clone(),
            allowed: param.allowed.clone(),
            pattern,
        };
        if let Some(default) = &param.default
            && let Err(message) = spec.accept(default)
        {
            out.push(Diagnostic::value(
                Kind::InvalidParam {
                    name: name.clone(),
                    message: format!("default: {message}"),
                },
                &at.key("default"),
            ));
        }
        specs.insert(name.clone(), spec);
    }
    specs
}

/// regex errors span several lines; the last one says what is wrong.
pub(crate) fn first_line(message: &str) -> String {
    message
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(message)
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}
