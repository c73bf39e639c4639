//! Flow source files and positions in them.
//!
//! Every diagnostic points into a [`SourceFile`]: the text as read, a display name (the path the user typed),
//! and the YAML span tree ([`tree::YamlTree`]) that maps a path in the document (`steps[2].with.key_id`) to
//! the line and column of its key and value.

pub mod depth;
pub mod path;
pub mod read;
mod saphyr;
pub mod tree;
pub mod work;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

pub use path::{PathSeg, YamlPath};
pub use read::{MAX_FILE_SIZE, ReadError, read_capped, read_text};
pub use tree::{Node, NodeKind, YamlTree};

/// The byte order mark, U+FEFF.
const BOM: char = '\u{FEFF}';

/// A position in a source file: 1-based line and 1-based column, both counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// Character offset from the start of the file.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

/// A range in a source file, `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First character of the range.
    pub start: Pos,
    /// One past the last character of the range.
    pub end: Pos,
}

impl Span {
    /// A span of `len` characters starting at `start`, on the same line.
    pub fn on_line(start: Pos, len: usize) -> Span {
        let end = Pos {
            offset: start.offset + len,
            line: start.line,
            col: start.col + len,
        };
        Span { start, end }
    }

    /// The part of this span covering characters `range` of its first line, when it fits.
    pub fn sub(&self, range: Range<usize>) -> Span {
        let start = Pos {
            offset: self.start.offset + range.start,
            line: self.start.line,
            col: self.start.col + range.start,
        };
        Span::on_line(start, range.len().max(1))
    }
}

/// A flow file as read from disk (or from a string in tests), with its span tree.
#[derive(Debug)]
pub struct SourceFile {
    /// The name shown in diagnostics: the path as the user gave it.
    pub name: String,
    /// The full text.
    pub text: String,
    /// Where every node of the YAML document is; built on first use (only diagnostics need it).
    tree: OnceLock<YamlTree>,
    /// The byte offset at which each line starts; built on first use, so that finding the text of a
    /// line costs the same for the last diagnostic as for the first.
    line_starts: OnceLock<Vec<usize>>,
    /// [`ScalarMap`]s by where their scalar starts.
    scalars: Mutex<HashMap<usize, Option<Arc<ScalarMap>>>>,
}

/// Where the characters of a string scalar written on one line are in the source.
#[derive(Debug)]
struct ScalarMap {
    /// 1 when the scalar is quoted (its first character is after the quote), else 0.
    inner_start: usize,
    /// The byte offset of each character of the value, when some are not ASCII.
    char_starts: Option<Vec<usize>>,
}

impl SourceFile {
    /// The folder of the file, against which paths written in it are read (`.` when it has none).
    pub fn dir(&self) -> &std::path::Path {
        match std::path::Path::new(&self.name).parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => std::path::Path::new("."),
        }
    }

    /// Reads the text into a source file (its span tree is built on first use). A byte order mark that
    /// starts the text is dropped: editors on Windows write one, it is not part of the document, and
    /// columns are counted from the first character after it, as editors show them.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        let mut text = text.into();
        if text.starts_with(BOM) {
            text.drain(..BOM.len_utf8());
        }
        Arc::new(SourceFile {
            name: name.into(),
            text,
            tree: OnceLock::new(),
            line_starts: OnceLock::new(),
            scalars: Mutex::default(),
        })
    }

    /// The span tree: where every node of the document is; empty when the YAML could not be parsed.
    pub fn tree(&self) -> &YamlTree {
        self.tree.get_or_init(|| YamlTree::parse(&self.text))
    }

    /// The text of 1-based `line`, without its line break.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        let starts = self.line_starts.get_or_init(|| {
            work::count(self.text.len());
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(at, _)| at + 1))
                .collect()
        });
        let start = *starts.get(line.checked_sub(1)?)?;
        if start == self.text.len() {
            return None;
        }
        let end = starts.get(line).map_or(self.text.len(), |next| next - 1);
        let text = &self.text[start..end];
        Some(text.strip_suffix('\r').unwrap_or(text))
    }

    /// The span of the value at `path`, if the document has it.
    pub fn value_span(&self, path: &YamlPath) -> Option<Span> {
        self.tree().value(path).map(|node| node.span)
    }

    /// The span of the key that introduces the value at `path` (for a mapping entry).
    pub fn key_span(&self, path: &YamlPath) -> Option<Span> {
        self.tree().key(path).map(|node| node.span)
    }

    /// The span of characters `range` inside the string scalar at `path`, when the scalar is written on one
    /// line in a way that maps its characters one to one onto the source (plain, or quoted without escapes).
    pub fn scalar_sub_span(&self, path: &YamlPath, range: Range<usize>) -> Option<Span> {
        let node = self.tree().value(path)?;
        let NodeKind::Scalar(value) = &node.kind else {
            return None;
        };
        if !value.is_char_boundary(range.start) || !value.is_char_boundary(range.end) {
            return None;
        }
        let map = self.scalar_map(node.span, value)?;
        let chars = |byte: usize| match &map.char_starts {
            None => byte,
            Some(starts) => starts.partition_point(|start| *start < byte),
        };
        let (prefix, end) = (chars(range.start), chars(range.end));
        Some(
            node.span
                .sub(map.inner_start + prefix..map.inner_start + end),
        )
    }

    /// How the characters of the scalar `value` written at `span` sit in the source, worked out once per
    /// scalar (many diagnostics can point into one long string); `None` when not one to one.
    fn scalar_map(&self, span: Span, value: &str) -> Option<Arc<ScalarMap>> {
        let mut maps = self.scalars.lock().unwrap_or_else(|e| e.into_inner());
        maps.entry(span.start.offset)
            .or_insert_with(|| {
                if span.start.line != span.end.line {
                    return None;
                }
                let raw = self.slice(span)?;
                let inner_start = usize::from(raw.starts_with('"') || raw.starts_with('\''));
                let inner: String = raw
                    .chars()
                    .skip(inner_start)
                    .take(value.chars().count())
                    .collect();
                (inner == value).then(|| {
                    Arc::new(ScalarMap {
                        inner_start,
                        char_starts: (!value.is_ascii())
                            .then(|| value.char_indices().map(|(at, _)| at).collect()),
                    })
                })
            })
            .clone()
    }

    /// The text of a span that starts and ends on one line.
    fn slice(&self, span: Span) -> Option<String> {
        let len = span.end.offset.checked_sub(span.start.offset)?;
        let line = self.line_text(span.start.line)?;
        work::count(span.start.col + len);
        Some(
            line.chars()
                .skip(span.start.col.checked_sub(1)?)
                .take(len)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_text_reads_lines_as_str_lines_does() {
        for text in [
            "",
            "a",
            "a\n",
            "a\nb",
            "a\r\nb\r\n",
            "\n\n",
            "a\n\nb\n",
            "é\nü",
        ] {
            let source = SourceFile::new("f.yaml", text);
            let expected: Vec<&str> = text.lines().collect();
            let read: Vec<&str> = (1..).map_while(|line| source.line_text(line)).collect();
            assert_eq!(read, expected, "{text:?}");
            assert_eq!(source.line_text(0), None);
        }
    }
}
