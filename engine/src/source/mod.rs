//! Flow source files and positions in them.
//!
//! Every diagnostic points into a [`SourceFile`]: the text as read, a display name (the path the user typed),
//! and the YAML span tree ([`tree::YamlTree`]) that maps a path in the document (`steps[2].with.key_id`) to
//! the line and column of its key and value.

pub mod depth;
pub mod path;
pub mod tree;
pub mod work;

use std::ops::Range;
use std::sync::{Arc, OnceLock};

pub use path::{PathSeg, YamlPath};
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
        })
    }

    /// The span tree: where every node of the document is; empty when the YAML could not be parsed.
    pub fn tree(&self) -> &YamlTree {
        self.tree.get_or_init(|| YamlTree::parse(&self.text))
    }

    /// The text of 1-based `line`, without its line break.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        self.text.lines().nth(line.checked_sub(1)?)
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
        let raw = self.slice(node.span)?;
        let inner_start = if raw.starts_with('"') || raw.starts_with('\'') {
            1
        } else {
            0
        };
        let inner: String = raw
            .chars()
            .skip(inner_start)
            .take(value.chars().count())
            .collect();
        if inner != *value || node.span.start.line != node.span.end.line {
            return None;
        }
        let prefix = value.get(..range.start)?.chars().count();
        let len = value.get(range.clone())?.chars().count();
        Some(
            node.span
                .sub(inner_start + prefix..inner_start + prefix + len),
        )
    }

    fn slice(&self, span: Span) -> Option<String> {
        let len = span.end.offset.checked_sub(span.start.offset)?;
        Some(
            self.text
                .chars()
                .skip(span.start.offset)
                .take(len)
                .collect(),
        )
    }
}
