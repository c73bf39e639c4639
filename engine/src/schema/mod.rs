//! JSON Schema utilities: type sets, walking a reference through an output schema, checking literals
//! against an input schema. Schemas are the `serde_json::Value` that schemars produces.

pub mod check;
pub mod flow;
pub mod types;
pub mod walk;

pub use types::TypeSet;
