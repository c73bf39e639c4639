//! What keyflow prints for programs: every JSON document and JSON line, as Rust types that serde writes
//! and schemars describes, so `schemas/` is generated from the same types the commands print.
//!
//! Each document carries `format_version` ([`FORMAT_VERSION`]): an addition keeps it, a change that breaks
//! a reader raises it.

pub mod diagnostic;
pub mod documents;
pub mod events;
pub mod github;
pub mod sarif;

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

/// The version of every machine output's format.
pub const FORMAT_VERSION: u32 = 1;

/// `format_version`: always [`FORMAT_VERSION`], and the schema says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FormatVersion;

impl Serialize for FormatVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(FORMAT_VERSION)
    }
}

impl JsonSchema for FormatVersion {
    fn schema_name() -> Cow<'static, str> {
        "FormatVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The version of this output's format: an addition keeps it, a change that breaks a reader raises it.",
            "type": "integer",
            "const": FORMAT_VERSION,
        })
    }
}

/// Prints a document on stdout as pretty JSON.
pub fn print_json(document: &impl Serialize) -> Result<(), crate::exit::Failure> {
    let text = serde_json::to_string_pretty(document)?;
    outln!("{text}")?;
    Ok(())
}
