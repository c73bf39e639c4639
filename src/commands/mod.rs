//! One module per command.

pub mod blocks;
pub mod completions;
pub mod graph;
pub mod man;
pub mod plan;
pub mod resume;
pub mod run;
pub mod runs;
pub mod sandbox;
pub mod schedule;
pub mod schema;
pub mod validate;
