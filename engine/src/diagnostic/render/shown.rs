//! The source lines diagnostics show, prepared once per line however many diagnostics point into it:
//! literal secrets masked, and a long line cut to a window around the carets (`…` where it was cut), so
//! that what a diagnostic prints, and costs, does not grow with the length of its line.

use std::collections::HashMap;
use std::ops::Range;

use crate::source::{SourceFile, Span, work};

/// A line of at most this many characters is shown whole; a longer one is cut to a window around the
/// carets, so that what a diagnostic prints (and costs) does not grow with the line.
const WHOLE_LINE: usize = 200;
/// Characters of a cut line shown on each side of the carets.
const CONTEXT: usize = 60;
/// The most carets under a cut line (the window ends after them).
const MAX_CARETS: usize = 80;
/// What stands for the characters cut from either end of a line.
const CUT: &str = "…";

/// The source lines diagnostics show, each prepared once however many diagnostics point into it (many
/// can point into one long line).
pub struct Lines<'a> {
    source: &'a SourceFile,
    /// Where literal secrets are written, by line: column ranges (`start..end`, 1-based) shown as `*`.
    masks: HashMap<usize, Vec<Range<usize>>>,
    shown: HashMap<usize, Shown>,
}

/// A source line as shown: secrets masked, with where each character starts.
pub struct Shown {
    text: String,
    /// The byte offset of each character, `None` when the line is ASCII (a character is a byte).
    starts: Option<Vec<usize>>,
    /// How many characters it has.
    pub chars: usize,
}

impl<'a> Lines<'a> {
    /// The lines of `source`, with the characters `secrets` cover shown as `*` wherever shown.
    pub fn new(source: &'a SourceFile, secrets: impl Iterator<Item = Span>) -> Lines<'a> {
        let mut masks: HashMap<usize, Vec<Range<usize>>> = HashMap::new();
        for span in secrets {
            for line in span.start.line..=span.end.line {
                let start = if line == span.start.line {
                    span.start.col
                } else {
                    1
                };
                let end = if line == span.end.line {
                    span.end.col
                } else {
                    usize::MAX
                };
                masks.entry(line).or_default().push(start..end);
            }
        }
        Lines {
            source,
            masks,
            shown: HashMap::new(),
        }
    }

    /// Line `line` as shown.
    pub fn get(&mut self, line: usize) -> &Shown {
        let (source, masks) = (self.source, &self.masks);
        self.shown.entry(line).or_insert_with(|| {
            let text = source.line_text(line).unwrap_or_default();
            work::count(text.len());
            let mut hidden = vec![false; text.chars().count()];
            for range in masks.get(&line).into_iter().flatten() {
                let end = range.end.min(hidden.len() + 1);
                for at in range.start.max(1)..end {
                    hidden[at - 1] = true;
                }
            }
            let text: String = text
                .chars()
                .zip(&hidden)
                .map(|(c, hidden)| {
                    if *hidden && !c.is_whitespace() {
                        '*'
                    } else {
                        c
                    }
                })
                .collect();
            Shown {
                starts: (!text.is_ascii()).then(|| text.char_indices().map(|(at, _)| at).collect()),
                chars: hidden.len(),
                text,
            }
        })
    }
}

impl Shown {
    /// The byte offset of character `at` (the text's length past its end).
    fn byte(&self, at: usize) -> usize {
        match &self.starts {
            None => at.min(self.text.len()),
            Some(starts) => starts.get(at).copied().unwrap_or(self.text.len()),
        }
    }

    /// What to show of the line for carets under `width` characters from character `first` (0-based):
    /// the text, the carets' byte range in it, and the column the carets start at in it (1-based).
    pub fn window(&self, first: usize, width: usize) -> (String, Range<usize>, usize) {
        if self.chars <= WHOLE_LINE {
            let range = self.byte(first)..self.byte(first + width);
            return (self.text.clone(), range, first + 1);
        }
        let first = first.min(self.chars);
        let width = width.min(MAX_CARETS);
        let from = first.saturating_sub(CONTEXT);
        let to = (first + width + CONTEXT).min(self.chars);
        let before = if from > 0 { CUT } else { "" };
        let after = if to < self.chars { CUT } else { "" };
        let (from_byte, to_byte) = (self.byte(from), self.byte(to));
        let text = format!("{before}{}{after}", &self.text[from_byte..to_byte]);
        let start = before.len() + self.byte(first) - from_byte;
        let end = before.len() + self.byte((first + width).min(to)) - from_byte;
        let column = before.chars().count() + first - from + 1;
        (text, start..end, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Pos;

    #[test]
    fn a_secret_stays_masked_in_the_window_of_a_cut_line() {
        let text = format!("k: {}hunter2{}\n", "x".repeat(500), "y".repeat(500));
        let source = SourceFile::new("f.yaml", text);
        let at = |col: usize| Pos {
            offset: col - 1,
            line: 1,
            col,
        };
        let secret = Span {
            start: at(504),
            end: at(511),
        };
        let mut lines = Lines::new(&source, std::iter::once(secret));
        let shown = lines.get(1);
        let (text, carets, column) = shown.window(503, 7);
        assert_eq!(&text[carets.clone()], "*******", "{text}");
        assert!(text.starts_with('…') && text.ends_with('…'), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(column, 62);
    }
}
