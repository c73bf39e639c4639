//! AWS's own model of the KMS API, as far as request validation needs it: each operation's input shape,
//! and each shape's type, members, required members, length or value bounds, pattern and enum.
//!
//! The facts live in `model.json` beside this file, written by `scripts/kms-model` from the model botocore
//! ships (the version is in the file's `source`), so that no constraint is typed in by hand. They are read
//! once, on the first request.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

/// The model's text, as `scripts/kms-model` wrote it.
pub const TEXT: &str = include_str!("model.json");

/// The KMS API model: input shapes by operation, and shapes by name (the file's `source`, saying which
/// botocore it came from, is for readers).
#[derive(Debug, Deserialize)]
pub struct Model {
    /// The input shape of each operation (`CreateKey` → `CreateKeyRequest`).
    pub operations: HashMap<String, String>,
    /// Every shape an input uses, by name.
    pub shapes: HashMap<String, Shape>,
    /// Each pattern of the model, compiled as AWS applies it (see [`compile`]).
    #[serde(skip)]
    pub patterns: HashMap<String, Regex>,
}

/// What a shape is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An object of named members.
    Structure,
    /// An array of one shape.
    List,
    /// An object whose keys and values each have a shape.
    Map,
    /// A string.
    String,
    /// A 32-bit integer.
    Integer,
    /// A 64-bit integer.
    Long,
    /// `true` or `false`.
    Boolean,
    /// Bytes, base64 on the wire.
    Blob,
    /// A time: epoch seconds, or a string.
    Timestamp,
}

/// One shape and its constraints.
#[derive(Debug, Clone, Deserialize)]
pub struct Shape {
    /// What it is.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The least length (strings, blobs, lists, maps) or value (numbers).
    pub min: Option<i64>,
    /// The greatest length or value.
    pub max: Option<i64>,
    /// The pattern a string matches, as the model writes it.
    pub pattern: Option<String>,
    /// The values a string may take.
    #[serde(rename = "enum")]
    pub values: Option<Vec<String>>,
    /// A value AWS does not repeat in its messages (`Plaintext`).
    #[serde(default)]
    pub sensitive: bool,
    /// A structure's members in the model's order: name and shape.
    #[serde(default)]
    pub members: Vec<(String, String)>,
    /// A structure's required members.
    #[serde(default)]
    pub required: Vec<String>,
    /// A list's member shape.
    pub member: Option<String>,
    /// A map's key shape.
    pub key: Option<String>,
    /// A map's value shape.
    pub value: Option<String>,
}

/// The model, read once; an error when the committed file is not a model (a fault of the twin).
pub fn model() -> Result<&'static Model, &'static str> {
    static MODEL: LazyLock<Result<Model, String>> = LazyLock::new(|| read(TEXT));
    MODEL.as_ref().map_err(String::as_str)
}

/// Reads a model from `text` and compiles its patterns.
pub fn read(text: &str) -> Result<Model, String> {
    let mut model: Model =
        serde_json::from_str(text).map_err(|e| format!("the KMS API model does not read: {e}"))?;
    for shape in model.shapes.values() {
        if let Some(pattern) = &shape.pattern {
            let regex = compile(pattern)
                .map_err(|e| format!("pattern `{pattern}` of the KMS API model: {e}"))?;
            model.patterns.insert(pattern.clone(), regex);
        }
    }
    Ok(model)
}

/// A pattern of the model as AWS applies it: to the whole value (as Java's `String.matches` does, so
/// `[\u0020-\u00FF]*` refuses a value with any other character), and with Java's ASCII-only classes `\w`,
/// `\d` and `\s` (the Rust crate's are Unicode).
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    let ascii = pattern
        .replace(r"\w", "[[:word:]]")
        .replace(r"\d", "[[:digit:]]")
        .replace(r"\s", "[[:space:]]");
    Regex::new(&format!("^(?:{ascii})$"))
}
