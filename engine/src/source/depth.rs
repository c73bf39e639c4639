//! How deeply a YAML document nests, measured before a parser that would be slow on it reads it.
//!
//! libyaml (which reads the values) and saphyr (which builds the span tree) both walk every open flow
//! collection at each token, so a document of 100,000 nested `[` costs minutes before the deserializer's
//! own depth limit refuses it. saphyr's event stream is read here only up to the limit, which keeps that
//! walk short; a document saphyr cannot read is measured by its brackets instead, counted as if none were
//! quoted (an overestimate, which can only refuse, never let a deep document through).

use saphyr_parser::{Event, Parser};

use super::Pos;
use super::saphyr::{parsable, pos};
use super::work;

/// The deepest nesting of mappings and sequences a flow may have: the YAML reader's own limit.
pub const MAX_DEPTH: usize = 128;

/// A document nested deeper than [`MAX_DEPTH`], at the collection that goes one level too deep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// Where that collection starts.
    pub at: Pos,
}

/// Refuses a document nested deeper than [`MAX_DEPTH`].
pub fn check(text: &str) -> Result<(), TooDeep> {
    let (text, _) = parsable(text);
    let mut depth = 0;
    for event in Parser::new_from_str(&text) {
        work::count(depth + 1);
        match event {
            Ok((Event::SequenceStart(..) | Event::MappingStart(..), span)) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(TooDeep {
                        at: pos(span.start),
                    });
                }
            }
            Ok((Event::SequenceEnd | Event::MappingEnd, _)) => depth -= 1,
            Ok((Event::DocumentEnd, _)) => break,
            Ok(_) => {}
            Err(_) => return by_brackets(&text),
        }
    }
    Ok(())
}

/// The bracket count of [`check`]'s fallback.
fn by_brackets(text: &str) -> Result<(), TooDeep> {
    work::count(text.len());
    let mut depth: usize = 0;
    let mut at = Pos {
        offset: 0,
        line: 1,
        col: 1,
    };
    for c in text.chars() {
        match c {
            '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(TooDeep { at });
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        at.offset += 1;
        if c == '\n' {
            at.line += 1;
            at.col = 1;
        } else {
            at.col += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_documents_are_refused_where_they_go_too_deep() {
        let ok = format!(
            "a: {}{}\n",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert_eq!(check(&ok), Ok(()));
        let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let error = check(&deep).expect_err("too deep");
        assert_eq!((error.at.line, error.at.col), (1, 4 + MAX_DEPTH));
        let (_, units) = work::measure(|| check(&deep));
        assert!(units < 1_000_000, "stops at the limit: {units}");
        // What saphyr refuses (a tab before a value) is measured by its brackets.
        let broken = format!("a:\t!!x {}\n", "{".repeat(200));
        assert!(check(&broken).is_err());
        assert_eq!(check("a: '[[[[['\nb: [1, 2]\n"), Ok(()));
    }
}
