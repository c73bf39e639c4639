//! The one parser of simple templates: text and `{{path}}` expressions whose path starts at a context root
//! (`cmk-{{params.tenant_id}}`), which is most templates. They are read in one pass and rendered without
//! handlebars; anything else, or any doubt, is left to handlebars' full grammar by returning `None`.

use super::TemplatePath;
use crate::expr::reference::Root;

/// A part of a simple template.
#[derive(Debug, Clone)]
pub(super) enum Part {
    /// Text, as written.
    Text(String),
    /// A path, by its index in the template's paths.
    Path(usize),
}

/// A simple template: its parts and the paths they read, in the order written.
pub(super) struct Simple {
    pub parts: Vec<Part>,
    pub paths: Vec<TemplatePath>,
}

/// Parses `source` as a simple template, or `None` for anything handlebars must read: helpers, blocks,
/// whitespace control (`~`), escapes, `this`, `../`, `@root`, braces in the text, and comments that stand
/// alone on their line (handlebars removes that line's whitespace, which this parser does not reproduce).
pub(super) fn parse(source: &str) -> Option<Simple> {
    let mut parts = Vec::new();
    let mut paths = Vec::new();
    let mut at = 0;
    while at < source.len() {
        let rest = &source[at..];
        let open = rest.find("{{").unwrap_or(rest.len());
        let text = &rest[..open];
        if text.contains(['{', '}', '\\']) {
            return None;
        }
        if !text.is_empty() {
            parts.push(Part::Text(text.to_string()));
        }
        if open == rest.len() {
            break;
        }
        let tag = at + open;
        let inner = &source[tag + 2..];
        let end = if let Some(comment) = inner.strip_prefix("!--") {
            tag + 5 + comment.find("--}}")? + 4
        } else if let Some(comment) = inner.strip_prefix('!') {
            tag + 3 + comment.find("}}")? + 2
        } else {
            // `{{{path}}}` renders as `{{path}}` does: keyflow's templates never escape HTML.
            let (open, body, close) = match inner.strip_prefix('{') {
                Some(triple) => (3, &triple[..triple.find("}}}")?], 3),
                None => (2, &inner[..inner.find("}}")?], 2),
            };
            let raw = body.trim();
            let segments = path_segments(raw)?;
            paths.push(TemplatePath {
                segments,
                raw: raw.to_string(),
            });
            parts.push(Part::Path(paths.len() - 1));
            tag + open + body.len() + close
        };
        if source[tag..end].starts_with("{{!") && standalone(source, tag, end) {
            return None;
        }
        at = end;
    }
    Some(Simple { parts, paths })
}

/// The names of a path that starts at a context root, written with `.` between names and `[…]` around a
/// name with other characters (`steps.s.output.list.[1]`); `None` for anything else.
fn path_segments(raw: &str) -> Option<Vec<String>> {
    let mut segments = Vec::new();
    let mut rest = raw;
    loop {
        let (segment, after) = match rest.strip_prefix('[') {
            Some(bracketed) => {
                let close = bracketed.find(']')?;
                (&bracketed[..close], &bracketed[close + 1..])
            }
            None => {
                let end = rest.find('.').unwrap_or(rest.len());
                let name = &rest[..end];
                if name.is_empty() || !name.chars().all(symbol_char) {
                    return None;
                }
                (name, &rest[end..])
            }
        };
        if segment.is_empty() || segment.contains(['[', ']', '{', '}']) {
            return None;
        }
        segments.push(segment.to_string());
        match after.strip_prefix('.') {
            Some(next) => rest = next,
            None if after.is_empty() => break,
            None => return None,
        }
    }
    let first = segments.first()?;
    Root::ALL
        .iter()
        .any(|root| root.name() == first)
        .then_some(segments)
}

/// A character handlebars accepts in a name (its grammar's `symbol_char`).
fn symbol_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$' | ':') || !c.is_ascii()
}

/// Whether the comment written at `start..end` stands alone on its line, as handlebars decides it.
fn standalone(source: &str, start: usize, end: usize) -> bool {
    let blank = |c: char| c == ' ' || c == '\t';
    let before = source[..start].trim_end_matches(blank);
    let after = &source[end..];
    let trailing = after.is_empty() || after.trim_start_matches(blank).starts_with(['\n', '\r']);
    let leading = before.is_empty() || before.ends_with(['\n', '\r']);
    trailing && leading
}
