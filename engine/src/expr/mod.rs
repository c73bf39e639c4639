//! Expressions: JSONPath references, handlebars templates, structured conditions, and the values built
//! from them. Everything here is parsed once, when the flow is read, and evaluated many times.

pub mod condition;
pub mod jsonpath;
pub mod reference;
pub mod scope;
pub mod template;
pub mod value;

pub use crate::context::StepEntries;
pub use condition::{Comparison, Condition, Test, json_equal};
pub use jsonpath::{JsonPathError, JsonPathQuery, Selects};
pub use reference::{Reference, ReferenceError, Root};
pub use scope::Scope;
pub use template::{RenderError, TemplateExpr, TemplatePath, TemplateSyntaxError};
pub use value::{ExprError, ExprIssue, Leaf, ResolveError, ValueExpr, resolve_reference};
