//! Diagnostics: what is wrong with a flow, and exactly where.
//!
//! A diagnostic is a [`Kind`] (a flat enum holding exactly what its message needs) plus a location into
//! the YAML document ([`At`]). Locations are YAML paths, not positions, so the passes stay independent of
//! the text; [`render`] turns them into `file:line:col`, the source line and a caret.
//!
//! Most diagnostics are errors: the flow does not become a plan. A few are warnings ([`Severity`]): the
//! flow runs, but something in it is not checked as the rest is (a reference into a free-form output).

mod kind;
mod render;
mod suggest;

pub use kind::Kind;
pub use render::{Rendered, render, render_all, render_each};
pub use suggest::suggest;

use std::ops::Range;

use crate::source::{Pos, YamlPath};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The flow cannot run.
    Error,
    /// The flow runs, but part of it could not be checked before the run.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as the rendered text and the JSON outputs name it.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

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

    /// How bad it is: its kind's severity.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }

    /// Whether it keeps the flow from running.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }

    /// Adds a "did you mean" suggestion.
    pub fn suggest(mut self, suggestion: Option<String>) -> Diagnostic {
        self.suggestion = suggestion;
        self
    }
}
