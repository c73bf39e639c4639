//! keyflow's engine: the flow model, YAML loading with source spans, the static checker, expressions, the
//! planner and the executor. It knows nothing about AWS or Qlik: connectors plug in through the block SDK
//! ([`block`]), and it never prints: the CLI renders what it returns.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod block;
pub mod context;
pub mod diagnostic;
pub mod exec;
pub mod expr;
pub mod library;
pub mod load;
pub mod model;
pub mod plan;
pub mod redact;
pub mod schedule;
pub mod schema;
pub mod source;
pub mod validate;
