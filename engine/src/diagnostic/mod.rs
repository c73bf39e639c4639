//! Diagnostics: what is wrong with a flow, and exactly where.
//!
//! A diagnostic is a [`Kind`] (a flat enum holding exactly what its message needs) plus a location into
//! the YAML document ([`At`]). Locations are YAML paths, not positions, so the passes stay independent of
//! the text; [`render`] turns them into `file:line:col`, the source line and a caret.

mod kind;
mod render;
mod suggest;

pub use kind::Kind;
pub use render::{Rendered, render, render_all, render_each};
pub use suggest::suggest;

use std::ops::Range;

use crate::source::{Pos, YamlPath};

/// Where a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// The whole file.
    File,
    /// A position found by the YAML parser.
    Pos(Pos),
    /// The value at a YAML path.
    Value(YamlPath),
    /// The key of the mapping entry at a YAML path.
    Key(YamlPath),
    /// Characters `range` of the string value at a YAML path (one segment of a reference, say).
    Part(YamlPath, Range<usize>),
}

/// One problem found in a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong.
    pub kind: Kind,
    /// Where.
    pub at: At,
    /// A replacement the user probably meant ("did you mean `create_key`?").
    pub suggestion: Option<String>,
    /// Where else to look: at a template's call site, the template's file and line.
    pub note: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at a value.
    pub fn value(kind: Kind, path: &YamlPath) -> Diagnostic {
        Diagnostic {
            kind,
            at: At::Value(path.clone()),
            suggestion: None,
            note: None,
        }
    }

    /// A diagnostic at a mapping key.
    pub fn key(kind: Kind, path: &YamlPath) -> Diagnostic {
        Diagnostic {
            kind,
            at: At::Key(path.clone()),
            suggestion: None,
            note: None,
        }
    }

    /// A diagnostic at some characters of a string value.
    pub fn part(kind: Kind, path: &YamlPath, range: Option<Range<usize>>) -> Diagnostic {
        Diagnostic {
            kind,
            at: match range {
                Some(range) => At::Part(path.clone(), range),
                None => At::Value(path.clone()),
            },
            suggestion: None,
            note: None,
        }
    }

    /// Adds a "did you mean" suggestion.
    pub fn suggest(mut self, suggestion: Option<String>) -> Diagnostic {
        self.suggestion = suggestion;
        self
    }
}
