//! Where a checked flow's secrets go, as a flow that uses it as a template (`uses:`) needs to know: which
//! params may be given a secret, and which outputs carry one. Found by the checker's secrets pass.

use std::ops::Range;

use indexmap::IndexMap;

use crate::source::{SourceFile, YamlPath};

/// One step into a value, on the way to a secret inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Seg {
    /// A field of a mapping.
    Key(String),
    /// Any item of a list (a `for_each` step's output holds one per item).
    Item,
}

/// Where a secret sits inside a value: the steps down to it; empty for the value itself.
pub(crate) type SecretPath = Vec<Seg>;

/// `.Plaintext[*].Key` as a reader writes it after `steps.<id>.output`.
pub(crate) fn written(path: &[Seg]) -> String {
    path.iter()
        .map(|seg| match seg {
            Seg::Key(key) => format!(".{key}"),
            Seg::Item => "[*]".to_string(),
        })
        .collect()
}

/// Where a flow sends its params in the clear, and where its outputs carry secrets.
#[derive(Debug, Clone, Default)]
pub(crate) struct SecretFlow {
    /// Params that may not be given a secret, each with the first place the flow would send it in the
    /// clear.
    pub clear: IndexMap<String, ClearUse>,
    /// Where the outputs (as one mapping) carry a secret the flow's own steps produce.
    pub secret_outputs: Vec<SecretPath>,
    /// For each param, where the outputs carry what it is given.
    pub carried: IndexMap<String, Vec<SecretPath>>,
}

/// Where a flow sends a param in the clear: said only when a caller gives that param a secret, so where it
/// is in the file is worked out then, not for every param of every flow checked.
#[derive(Debug, Clone)]
pub(crate) struct ClearUse {
    /// The place as messages name it: "input `message` of `core.log`".
    pub sink: String,
    /// The value that reads the param.
    pub at: YamlPath,
    /// The characters of it that do, in a string with templates.
    pub range: Option<Range<usize>>,
}

impl ClearUse {
    /// "input `message` of `core.log` at flows/t.yaml:12:16", `source` being the flow's file.
    pub fn describe(&self, source: &SourceFile) -> String {
        format!(
            "{} at {}",
            self.sink,
            place(source, &self.at, self.range.clone())
        )
    }
}

/// `file:line:column` of the value at `at` in `source` (or of characters `range` of it).
fn place(source: &SourceFile, at: &YamlPath, range: Option<Range<usize>>) -> String {
    let span = range
        .and_then(|range| source.scalar_sub_span(at, range))
        .or_else(|| source.value_span(at));
    match span {
        Some(span) => format!("{}:{}:{}", source.name, span.start.line, span.start.col),
        None => source.name.clone(),
    }
}

impl SecretFlow {
    /// The outputs' secret fields as a block declares them: dotted paths, each cut before its first list
    /// (the whole list is then secret).
    pub fn secret_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        for path in &self.secret_outputs {
            let keys: Vec<&str> = path
                .iter()
                .map_while(|seg| match seg {
                    Seg::Key(key) => Some(key.as_str()),
                    Seg::Item => None,
                })
                .collect();
            let field = keys.join(".");
            if !field.is_empty() && !fields.contains(&field) {
                fields.push(field);
            }
        }
        fields
    }
}
