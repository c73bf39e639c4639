//! References: a string starting with `$.` or `$[` is a JSONPath query over the run context.
//!
//! The run context has a fixed set of roots (`params`, `steps`, `item`, `index`, `output`, `run`), and a
//! reference into `steps` must name its step, so that the step it depends on is known before the run.

use std::fmt;
use std::ops::Range;

use super::jsonpath::{JsonPathQuery, Step};

/// The top-level names of the run context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    /// `$.params.<name>`: the flow's parameters.
    Params,
    /// `$.steps.<id>.output|status|error`: results of earlier steps.
    Steps,
    /// `$.item`: the current item inside `for_each`.
    Item,
    /// `$.index`: the current item's position inside `for_each`.
    Index,
    /// `$.output`: the step's own output inside `until`.
    Output,
    /// `$.run.id|flow|started_at`: the run itself.
    Run,
}

impl Root {
    /// Every root, in the order help texts list them.
    pub const ALL: [Root; 6] = [
        Root::Params,
        Root::Steps,
        Root::Item,
        Root::Index,
        Root::Output,
        Root::Run,
    ];

    /// The name as written after `$.`.
    pub fn name(self) -> &'static str {
        match self {
            Root::Params => "params",
            Root::Steps => "steps",
            Root::Item => "item",
            Root::Index => "index",
            Root::Output => "output",
            Root::Run => "run",
        }
    }

    fn from_name(name: &str) -> Option<Root> {
        Root::ALL.into_iter().find(|root| root.name() == name)
    }
}

/// Why a reference is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceError {
    /// Not valid RFC 9535 JSONPath; `offset` is where in the text parsing failed.
    Syntax {
        /// What the parser expected.
        message: String,
        /// Character offset in the reference, when known.
        offset: Option<usize>,
    },
    /// The first segment is not a name.
    NoRoot,
    /// The first name is not one of the context's roots.
    UnknownRoot(String),
    /// `$.steps` not followed by a step id.
    NoStep,
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReferenceError::Syntax { message, .. } => write!(f, "{message}"),
            ReferenceError::NoRoot => {
                write!(
                    f,
                    "a reference starts with a name such as `$.params` or `$.steps`"
                )
            }
            ReferenceError::UnknownRoot(name) => write!(f, "unknown root `{name}`"),
            ReferenceError::NoStep => write!(f, "`$.steps` must be followed by a step id"),
        }
    }
}

/// A parsed reference into the run context.
#[derive(Debug, Clone)]
pub struct Reference {
    query: JsonPathQuery,
    root: Root,
    /// For `$.steps.<id>…`: the step id.
    step: Option<String>,
}

impl Reference {
    /// Parses and checks the shape of a reference.
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        let query = JsonPathQuery::parse(text).map_err(|e| ReferenceError::Syntax {
            message: e.message,
            offset: e.offset,
        })?;
        Reference::from_query(query)
    }

    /// The reference a template path reads (`steps.x.output.0` reads `$.steps.x.output[0]`).
    pub fn from_names(names: &[String]) -> Result<Reference, ReferenceError> {
        Reference::from_query(JsonPathQuery::from_names(names))
    }

    fn from_query(query: JsonPathQuery) -> Result<Reference, ReferenceError> {
        let Some(Step::Name(root)) = query.step(0) else {
            return Err(ReferenceError::NoRoot);
        };
        let root = Root::from_name(root).ok_or_else(|| ReferenceError::UnknownRoot(root.into()))?;
        let step = match root {
            Root::Steps => match query.step(1) {
                Some(Step::Name(id)) => Some(id.to_string()),
                _ => return Err(ReferenceError::NoStep),
            },
            _ => None,
        };
        Ok(Reference { query, root, step })
    }

    /// Whether a string is written as a reference.
    pub fn looks_like(text: &str) -> bool {
        text.starts_with("$.") || text.starts_with("$[")
    }

    /// The reference as written.
    pub fn text(&self) -> &str {
        self.query.text()
    }

    /// The query.
    pub fn query(&self) -> &JsonPathQuery {
        &self.query
    }

    /// The context root it reads.
    pub fn root(&self) -> Root {
        self.root
    }

    /// The step it reads, for `$.steps.<id>…`.
    pub fn step_id(&self) -> Option<&str> {
        self.step.as_deref()
    }

    /// The second name, for `$.params.<name>` and `$.steps.<id>.<part>`-style checks.
    pub fn name_at(&self, i: usize) -> Option<&str> {
        match self.query.step(i) {
            Some(Step::Name(name)) => Some(name),
            _ => None,
        }
    }

    /// Whether the reference selects at most one value.
    pub fn is_singular(&self) -> bool {
        self.query.is_singular()
    }

    /// How many leading segments name the context entry (`$.params`: 1; `$.steps.<id>`: 2); the
    /// executor starts the query's evaluation below them.
    pub fn entry_len(&self) -> usize {
        if self.root == Root::Steps { 2 } else { 1 }
    }

    /// The text range of segment `i`, to put a caret under it.
    pub fn segment_range(&self, i: usize) -> Option<Range<usize>> {
        self.query.segment_ranges()?.get(i).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_steps_are_read() {
        let r = Reference::parse("$.steps.create_key.output.KeyMetadata.Arn").expect("parse");
        assert_eq!(r.root(), Root::Steps);
        assert_eq!(r.step_id(), Some("create_key"));
        assert_eq!(r.name_at(2), Some("output"));
        assert_eq!(r.entry_len(), 2);
        let r = Reference::parse("$['params']['tenant']").expect("parse");
        assert_eq!(r.root(), Root::Params);
        assert_eq!(r.name_at(1), Some("tenant"));
    }

    #[test]
    fn malformed_references_are_rejected() {
        assert_eq!(
            Reference::parse("$.stpes.a").unwrap_err(),
            ReferenceError::UnknownRoot("stpes".into())
        );
        assert_eq!(
            Reference::parse("$.steps[*].output").unwrap_err(),
            ReferenceError::NoStep
        );
        assert_eq!(
            Reference::parse("$[0]").unwrap_err(),
            ReferenceError::NoRoot
        );
        assert!(matches!(
            Reference::parse("$.a[").unwrap_err(),
            ReferenceError::Syntax { .. }
        ));
    }
}
