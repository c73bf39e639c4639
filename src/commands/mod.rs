//! One module per command.

pub mod blocks;
pub mod completions;
pub mod graph;
pub mod lock;
pub mod man;
pub mod plan;
pub mod plugin;
pub mod resume;
pub mod run;
pub mod runs;
pub mod sandbox;
pub mod schedule;
pub mod schema;
pub mod template;
pub mod validate;
