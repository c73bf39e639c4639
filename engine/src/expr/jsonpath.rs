//! RFC 9535 JSONPath queries, parsed once and evaluated many times.
//!
//! Parsing and the general evaluation are jsonpath-rust's. On top of it this module knows whether a query is
//! *singular* (names and indices only, RFC 9535 §2.3.5.1) and evaluates a query's leading run of name and
//! index segments by direct navigation, handing only the rest (wildcards, slices, filters, descendants) to
//! jsonpath-rust. That keeps the common reference (`$.steps.x.output.KeyMetadata.Arn`) allocation-free,
//! and lets the executor start a query from a sub-tree of the run context instead of materialising it.

use std::ops::Range;

use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use serde_json::Value;

/// A parsed JSONPath query.
#[derive(Debug, Clone)]
pub struct JsonPathQuery {
    text: String,
    query: JpQuery,
    /// Number of leading segments that are a single name or index selector.
    prefix_len: usize,
    /// The segments after the prefix, as a query of their own (empty for singular queries).
    tail: JpQuery,
    /// The tail's filters use absolute (`$`) queries, so it must run against the real root.
    tail_needs_root: bool,
}

impl JsonPathQuery {
    /// Parses `text` (which starts with `$`); an error gives the offset where parsing failed, when known.
    pub fn parse(text: &str) -> Result<JsonPathQuery, JsonPathError> {
        let query = match parse_simple(text) {
            Some(query) => query,
            None => parse_json_path(text).map_err(|e| clean_error(&e.to_string()))?,
        };
        Ok(JsonPathQuery::from_query(text.to_string(), query))
    }

    /// The query of a path of names (digits are indices), as a template path reads the context.
    pub fn from_names(names: &[String]) -> JsonPathQuery {
        let mut text = String::from("$");
        let segments = names
            .iter()
            .map(|name| match name.parse::<i64>() {
                Ok(index) if !name.starts_with('+') => {
                    text.push_str(&format!("[{index}]"));
                    Segment::Selector(Selector::Index(index))
                }
                _ => {
                    if is_shorthand(name) {
                        text.push('.');
                        text.push_str(name);
                    } else {
                        text.push_str(&format!(
                            "['{}']",
                            name.replace('\\', "\\\\").replace('\'', "\\'")
                        ));
                    }
                    Segment::Selector(Selector::Name(name.clone()))
                }
            })
            .collect();
        JsonPathQuery::from_query(text, JpQuery::new(segments))
    }

    fn from_query(text: String, query: JpQuery) -> JsonPathQuery {
        let prefix_len = query
            .segments
            .iter()
            .take_while(|segment| step_of(segment).is_some())
            .count();
        let tail = JpQuery::new(query.segments[prefix_len..].to_vec());
        let tail_text = text_ranges(&text)
            .and_then(|ranges| ranges.get(prefix_len).map(|r| r.start))
            .map_or(text.as_str(), |start| &text[start..]);
        let tail_needs_root = !tail.segments.is_empty() && tail_text.contains('$');
        JsonPathQuery {
            text,
            query,
            prefix_len,
            tail,
            tail_needs_root,
        }
    }

    /// The query as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed segments.
    pub fn segments(&self) -> &[Segment] {
        &self.query.segments
    }

    /// A singular query selects at most one node (RFC 9535 §2.3.5.1).
    pub fn is_singular(&self) -> bool {
        self.prefix_len == self.query.segments.len()
    }

    /// The name or index selected by segment `i`, when that segment is a single name or index.
    pub fn step(&self, i: usize) -> Option<Step<'_>> {
        self.query.segments.get(i).and_then(step_of)
    }

    /// What segment `i` selects, as far as a static check of where values go needs to know.
    pub fn selects(&self, i: usize) -> Option<Selects<'_>> {
        let segment = self.query.segments.get(i)?;
        Some(match (step_of(segment), segment) {
            (Some(step), _) => Selects::One(step),
            (None, Segment::Selector(Selector::Wildcard | Selector::Slice(..))) => Selects::Each,
            _ => Selects::Other,
        })
    }

    /// Selects the nodes of `root` that the query selects, in RFC 9535 order.
    pub fn select<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        if self.tail_needs_root {
            return run(&self.query, root);
        }
        self.select_from(root, 0)
    }

    /// Evaluates the query from segment `skip` on, starting at `node` (the node that the first `skip`
    /// segments select). `skip` must not pass the leading name/index segments.
    pub fn select_from<'a>(&self, node: &'a Value, skip: usize) -> Vec<&'a Value> {
        let mut node = node;
        for segment in &self.query.segments[skip.min(self.prefix_len)..self.prefix_len] {
            let next = match step_of(segment) {
                Some(Step::Name(name)) => node.as_object().and_then(|map| map.get(name)),
                Some(Step::Index(index)) => node.as_array().and_then(|items| {
                    let at = if index < 0 {
                        usize::try_from(i64::try_from(items.len()).ok()? + index).ok()?
                    } else {
                        usize::try_from(index).ok()?
                    };
                    items.get(at)
                }),
                None => None,
            };
            match next {
                Some(next) => node = next,
                None => return Vec::new(),
            }
        }
        if self.tail.segments.is_empty() {
            vec![node]
        } else {
            run(&self.tail, node)
        }
    }

    /// Whether evaluating from a sub-tree is exact: false when filters refer back to the root (`$`).
    pub fn is_local(&self) -> bool {
        !self.tail_needs_root
    }

    /// Where each segment is written in the text, for carets under one segment of a reference.
    pub fn segment_ranges(&self) -> Option<Vec<Range<usize>>> {
        text_ranges(&self.text).filter(|ranges| ranges.len() == self.query.segments.len())
    }
}

/// A single name or index selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// `.name` or `['name']`.
    Name(&'a str),
    /// `[3]` or `[-1]`.
    Index(i64),
}

/// What one segment selects, for static checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selects<'a> {
    /// One name or index.
    One(Step<'a>),
    /// Every member or element, or a slice of them (`[*]`, `.*`, `[1:3]`).
    Each,
    /// Anything else: descendants, filters, several selectors at once.
    Other,
}

/// RFC 9535 member-name shorthand, ASCII only: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_shorthand(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Parses the shape nearly every reference has — `$`, then `.name` (ASCII shorthand) and `[index]`
/// segments — without the full grammar; anything else (or any doubt) gives `None` and goes to
/// jsonpath-rust's parser. The result is the same parse tree (checked by a test against jsonpath-rust).
fn parse_simple(text: &str) -> Option<JpQuery> {
    let rest = text.strip_prefix('$')?;
    let bytes = rest.as_bytes();
    let mut segments = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                let start = i + 1;
                let end = start
                    + rest[start..]
                        .bytes()
                        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                        .count();
                let name = &rest[start..end];
                if !is_shorthand(name) {
                    return None;
                }
                segments.push(Segment::Selector(Selector::Name(name.to_string())));
                i = end;
            }
            b'[' => {
                let close = i + rest[i..].find(']')?;
                let number = &rest[i + 1..close];
                let digits = number.strip_prefix('-').unwrap_or(number);
                let canonical = !digits.is_empty()
                    && digits.len() <= 15
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && (digits == "0" || !digits.starts_with('0'))
                    && number != "-0";
                if !canonical {
                    return None;
                }
                segments.push(Segment::Selector(Selector::Index(number.parse().ok()?)));
                i = close + 1;
            }
            _ => return None,
        }
    }
    Some(JpQuery::new(segments))
}

fn step_of(segment: &Segment) -> Option<Step<'_>> {
    match segment {
        Segment::Selector(Selector::Name(name)) => Some(Step::Name(name)),
        Segment::Selector(Selector::Index(index)) => Some(Step::Index(*index)),
        _ => None,
    }
}

fn run<'a>(query: &JpQuery, root: &'a Value) -> Vec<&'a Value> {
    js_path_process(query, root)
        .map(|found| found.into_iter().map(|r| r.val).collect())
        .unwrap_or_default()
}

/// A JSONPath query that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonPathError {
    /// What is wrong, on one line.
    pub message: String,
    /// The character offset in the query where parsing failed, when known.
    pub offset: Option<usize>,
}

/// jsonpath-rust's pest errors span several lines: keep the message line and the column of `--> 1:N`.
fn clean_error(message: &str) -> JsonPathError {
    let line = message
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with('=') || line.contains("expected"))
        .unwrap_or_else(|| message.lines().next().unwrap_or("invalid JSONPath"));
    let offset = message
        .split("--> 1:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|col| col.parse::<usize>().ok())
        .map(|col| col.saturating_sub(1));
    JsonPathError {
        message: line.trim_start_matches('=').trim().to_string(),
        offset,
    }
}

/// Splits a query's text into its segments' ranges: `.name`, `..name`, `[...]`, `..[...]`.
fn text_ranges(text: &str) -> Option<Vec<Range<usize>>> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'$') {
        return None;
    }
    let mut ranges = Vec::new();
    let mut i = 1;
    while i < bytes.len() {
        let start = i;
        if bytes[i] == b'.' {
            i += 1;
            if bytes.get(i) == Some(&b'.') {
                i += 1;
            }
        }
        if bytes.get(i) == Some(&b'[') {
            i = bracket_end(bytes, i)?;
        } else {
            while i < bytes.len() && !matches!(bytes[i], b'.' | b'[') {
                i += 1;
            }
        }
        if i == start {
            return None;
        }
        ranges.push(start..i);
    }
    Some(ranges)
}

/// The index just past the `]` that closes the `[` at `open`, skipping quoted strings and nesting.
fn bracket_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = open;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(_) if c == b'\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\'' | b'"' => quote = Some(c),
                b'[' | b'(' => depth += 1,
                b']' | b')' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 && c == b']' {
                        return Some(i + 1);
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(text: &str) -> JsonPathQuery {
        JsonPathQuery::parse(text).expect(text)
    }

    #[test]
    fn the_direct_parse_is_the_grammar_parse() {
        for text in [
            "$",
            "$.a",
            "$.steps.create_key.output.KeyMetadata.Arn",
            "$.a[0]",
            "$.a[-1].b",
            "$._x9[12][3]",
            "$.a[007]",
            "$.a[-0]",
            "$.a[ 1]",
            "$.a.",
            "$..a",
            "$.a[*]",
            "$['a']",
            "$.9a",
            "$.a-b",
            "$.é",
            "$.a[1234567890123456]",
            "$[0]",
            "$.a[0]x",
        ] {
            let direct = parse_simple(text);
            let grammar = parse_json_path(text).ok();
            // When the direct parse declines, the grammar decides.
            if let Some(direct) = direct {
                assert_eq!(Some(direct), grammar, "{text}");
            }
        }
        assert!(parse_simple("$.a.b[3]").is_some());
        assert!(parse_simple("$.a[?@.b]").is_none());
    }

    #[test]
    fn names_build_the_same_query_as_text() {
        let names: Vec<String> = ["steps", "x", "output", "0", "odd key"]
            .map(String::from)
            .to_vec();
        let built = JsonPathQuery::from_names(&names);
        assert_eq!(built.text(), "$.steps.x.output[0]['odd key']");
        let parsed = JsonPathQuery::parse(built.text()).expect("parse");
        assert_eq!(built.segments(), parsed.segments());
    }

    #[test]
    fn singular_queries_are_recognised() {
        assert!(q("$.a.b[0]").is_singular());
        assert!(q("$['a'][-1]").is_singular());
        assert!(!q("$.a[*]").is_singular());
        assert!(!q("$..a").is_singular());
        assert!(!q("$.a[0,1]").is_singular());
        assert!(!q("$.a[?@.x == 1]").is_singular());
    }

    #[test]
    fn prefix_navigation_agrees_with_the_full_evaluation() {
        let doc = json!({"a": {"b": [10, 20, {"c": true}]}, "list": [{"x": 1}, {"x": 2}]});
        for text in [
            "$.a.b[1]",
            "$.a.b[-1].c",
            "$.a.b[5]",
            "$.list[*].x",
            "$.list[?@.x > 1]",
            "$.list[?@.x == $.a.b[0]]",
            "$..x",
        ] {
            let query = q(text);
            assert_eq!(query.select(&doc), run(&query.query, &doc), "{text}");
        }
    }

    #[test]
    fn evaluation_can_start_below_the_root() {
        let doc = json!({"steps": {"s": {"output": {"Id": "k"}}}});
        let query = q("$.steps.s.output.Id");
        let entry = &doc["steps"]["s"];
        assert_eq!(query.select_from(entry, 2), vec![&json!("k")]);
    }

    #[test]
    fn segments_map_to_text() {
        let query = q("$.steps['my step'].output[0].a");
        let ranges = query.segment_ranges().expect("ranges");
        let parts: Vec<_> = ranges.iter().map(|r| &query.text()[r.clone()]).collect();
        assert_eq!(parts, [".steps", "['my step']", ".output", "[0]", ".a"]);
    }

    #[test]
    fn syntax_errors_are_one_line_with_their_column() {
        let error = JsonPathQuery::parse("$.steps.a.output[alias").unwrap_err();
        assert!(!error.message.contains('\n'), "{error}");
        assert_eq!(error.offset, Some(17));
    }
}
