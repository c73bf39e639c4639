//! Pass: step ids and parameter names are identifiers, and step ids are unique.

use std::collections::HashMap;

use super::Context;
use crate::diagnostic::{Diagnostic, Kind};
use crate::source::YamlPath;

/// Whether `name` can follow `$.steps.` or `$.params.` in a reference: letters, digits and `_`, not
/// starting with a digit (RFC 9535 member-name shorthand, ASCII only).
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn identifier_suggestion(name: &str) -> Option<String> {
    let fixed: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let fixed = if fixed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{fixed}")
    } else {
        fixed
    };
    (is_identifier(&fixed) && fixed != name).then_some(fixed)
}

pub(crate) fn check(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let name = &ctx.flow.name;
    let mut chars = name.chars();
    let valid_name = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid_name {
        out.push(Diagnostic::value(
            Kind::InvalidId {
                what: "flow name",
                id: name.clone(),
            },
            &YamlPath::root().key("name"),
        ));
    }
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, step) in ctx.flow.steps.iter().enumerate() {
        let at = YamlPath::root().key("steps").index(i).key("id");
        if !is_identifier(&step.id) {
            out.push(
                Diagnostic::value(
                    Kind::InvalidId {
                        what: "step id",
                        id: step.id.clone(),
                    },
                    &at,
                )
                .suggest(identifier_suggestion(&step.id)),
            );
        }
        match first.get(step.id.as_str()) {
            Some(&earlier) => {
                let earlier_at = YamlPath::root().key("steps").index(earlier).key("id");
                let first_line = ctx
                    .source
                    .value_span(&earlier_at)
                    .map_or(0, |s| s.start.line);
                out.push(Diagnostic::value(
                    Kind::DuplicateId {
                        id: step.id.clone(),
                        first_line,
                    },
                    &at,
                ));
            }
            None => {
                first.insert(&step.id, i);
            }
        }
    }
    for name in ctx.flow.params.keys() {
        if !is_identifier(name) {
            let at = YamlPath::root().key("params").key(name);
            out.push(
                Diagnostic::key(
                    Kind::InvalidId {
                        what: "parameter name",
                        id: name.clone(),
                    },
                    &at,
                )
                .suggest(identifier_suggestion(name)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_identifier("create_key"));
        assert!(is_identifier("_x1"));
        assert!(!is_identifier("create-key"));
        assert!(!is_identifier("1st"));
        assert!(!is_identifier(""));
        assert_eq!(
            identifier_suggestion("create-key").as_deref(),
            Some("create_key")
        );
        assert_eq!(identifier_suggestion("1st").as_deref(), Some("_1st"));
    }
}
