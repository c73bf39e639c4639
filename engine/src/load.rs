//! Reading a flow file into the raw model.
//!
//! Two passes over the same text: the span tree is walked against the flow format's JSON Schema so that
//! every unknown field is reported at once, each with a suggestion; then serde reads the values, and its
//! first error (a wrong type, a missing field) is reported at the path it names.

use std::sync::LazyLock;

use regex::Regex;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::diagnostic::{At, Diagnostic, Kind, suggest};
use crate::model::Flow;
use crate::schema::walk::{Lookup, items, property};
use crate::source::{Node, NodeKind, PathSeg, Pos, SourceFile, YamlPath, depth, work};

/// The flow format's schema, as the unknown-field pass reads it.
static FLOW_SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<Flow>()
        .to_value()
});

/// What [`load`] read: the flow, and the unknown fields it left out to read it (each a diagnostic).
/// With no flow, the diagnostics say why it could not be read.
pub struct Loaded {
    pub flow: Option<Flow>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads the flow in `source`. Unknown fields are all reported; the flow is then read as if each were the
/// field it suggests (`wiht:` as `with:`), or without it when none is close, so that the other checks can
/// still report the problems elsewhere in the file rather than ones that only follow from the typo.
pub fn load(source: &SourceFile) -> Loaded {
    match read(source) {
        Ok(flow) => Loaded {
            flow: Some(flow),
            diagnostics: Vec::new(),
        },
        Err((diagnostics, unknown_fields)) => {
            let flow = unknown_fields
                .then(|| corrected(source, &diagnostics))
                .flatten();
            Loaded { flow, diagnostics }
        }
    }
}

/// The flow read with each unknown field (a diagnostic at its key) renamed to its suggestion, or removed
/// when there is none or the suggested field is there already, if it then reads.
fn corrected(source: &SourceFile, unknown: &[Diagnostic]) -> Option<Flow> {
    let mut document: serde_yaml::Value = serde_yaml::from_str(&source.text).ok()?;
    for diagnostic in unknown {
        let At::Key(path) = &diagnostic.at else {
            return None;
        };
        let (PathSeg::Key(name), parent) = path.0.split_last()? else {
            return None;
        };
        let mut at = &mut document;
        for seg in parent {
            at = match seg {
                PathSeg::Key(key) => at.get_mut(key.as_str())?,
                PathSeg::Index(i) => at.get_mut(*i)?,
            };
        }
        let mapping = at.as_mapping_mut()?;
        let value = mapping.remove(name.as_str())?;
        if let Some(meant) = &diagnostic.suggestion
            && !mapping.contains_key(meant.as_str())
        {
            mapping.insert(serde_yaml::Value::String(meant.clone()), value);
        }
    }
    serde_yaml::from_value(document).ok()
}

/// Reads the flow in `source`, or says everything that is wrong with its shape (`true`: unknown fields
/// are what is wrong).
fn read(source: &SourceFile) -> Result<Flow, (Vec<Diagnostic>, bool)> {
    if source.text.trim().is_empty() {
        let empty = Diagnostic {
            kind: Kind::Structure {
                message: "the file is empty: a flow needs at least `name` and `steps`".into(),
            },
            at: At::File,
            suggestion: None,
            note: None,
        };
        return Err((vec![empty], false));
    }
    if let Err(deep) = depth::check(&source.text) {
        let deep = Diagnostic {
            kind: Kind::YamlSyntax {
                message: format!(
                    "the document nests more than {} levels deep here",
                    depth::MAX_DEPTH
                ),
            },
            at: At::Pos(deep.at),
            suggestion: None,
            note: None,
        };
        return Err((vec![deep], false));
    }
    // libyaml reads the whole text once.
    work::count(source.text.len());
    let deserializer = serde_yaml::Deserializer::from_str(&source.text);
    let error = match serde_path_to_error::deserialize::<_, Flow>(deserializer) {
        Ok(flow) => return Ok(flow),
        Err(error) => error,
    };
    // serde stops at the first problem; when the shape is wrong, walk the whole document for every
    // unknown field, so that a flow with three typos is reported once, not three times.
    if let Some(root) = source.tree().root() {
        let mut found = Vec::new();
        unknown_fields(root, &FLOW_SCHEMA, &YamlPath::root(), &mut found);
        if !found.is_empty() {
            return Err((found, true));
        }
    }
    Err((vec![serde_diagnostic(source, error)], false))
}

/// Reads another of keyflow's YAML files (`keyflow.yaml`, `keyflow.lock`) as `T`, `what` it is (`a
/// project file`): an empty file, a document nested too deep, a syntax error or a value of the wrong
/// shape (an unknown field, a missing one, a wrong type) is a diagnostic at its line and column, as in
/// a flow.
pub fn load_document<T: serde::de::DeserializeOwned>(
    source: &SourceFile,
    what: &str,
) -> Result<T, Vec<Diagnostic>> {
    let problem = |kind, at| Diagnostic {
        kind,
        at,
        suggestion: None,
        note: None,
    };
    if source.text.trim().is_empty() {
        let message = format!("the file is empty: it should be {what}");
        return Err(vec![problem(Kind::Structure { message }, At::File)]);
    }
    if let Err(deep) = depth::check(&source.text) {
        let message = format!(
            "the document nests more than {} levels deep here",
            depth::MAX_DEPTH
        );
        return Err(vec![problem(
            Kind::YamlSyntax { message },
            At::Pos(deep.at),
        )]);
    }
    let deserializer = serde_yaml::Deserializer::from_str(&source.text);
    serde_path_to_error::deserialize::<_, T>(deserializer).map_err(|error| {
        let mut found = serde_diagnostic(source, error);
        // serde names the unknown field's path; the key is what is misspelt.
        if let (At::Value(path), Kind::Structure { message }) = (&found.at, &found.kind)
            && message.contains("unknown field")
        {
            found.at = At::Key(path.clone());
        }
        vec![found]
    })
}

fn unknown_fields(node: &Node, schema: &Value, at: &YamlPath, out: &mut Vec<Diagnostic>) {
    work::count(1);
    match &node.kind {
        NodeKind::Map(entries) => {
            for (key, value) in entries {
                let NodeKind::Scalar(name) = &key.kind else {
                    continue;
                };
                match property(&FLOW_SCHEMA, schema, name) {
                    Lookup::Found(child) => unknown_fields(value, &child, &at.key(name), out),
                    Lookup::Missing { known } if !known.is_empty() => {
                        let suggestion = suggest(name, &known);
                        out.push(
                            Diagnostic::key(
                                Kind::UnknownField {
                                    field: name.clone(),
                                    allowed: known,
                                },
                                &at.key(name),
                            )
                            .suggest(suggestion),
                        );
                    }
                    _ => {}
                }
            }
        }
        NodeKind::Seq(list) => {
            if let Lookup::Found(child) = items(&FLOW_SCHEMA, schema) {
                for (i, item) in list.iter().enumerate() {
                    unknown_fields(item, &child, &at.index(i), out);
                }
            }
        }
        // Aliased content is checked by serde; walking it here could be exponential (an alias bomb).
        NodeKind::Scalar(_) | NodeKind::Alias(_) => {}
    }
}

/// libyaml's messages: `<problem> at line L column C[, while parsing <what> at line L column C]`.
static SYNTAX: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^(?s)(?P<problem>.*?)(?: at line \d+ column \d+)?(?:, while parsing (?P<what>.*?) at line (?P<line>\d+) column (?P<col>\d+))?$").ok()
});

/// yaml_serde prefixes messages with the path of the value (`steps[0]: `); the diagnostic shows it apart.
static PATH_PREFIX: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(?:[A-Za-z0-9_\[\]\.]+: )+").ok());

fn serde_diagnostic(
    source: &SourceFile,
    error: serde_path_to_error::Error<serde_yaml::Error>,
) -> Diagnostic {
    let path = YamlPath::from_serde(&error.path().to_string());
    let inner = error.into_inner();
    let pos = inner.location().map(|l| Pos {
        offset: l.index(),
        line: l.line(),
        col: l.column(),
    });
    let raw = inner.to_string();
    let captures = SYNTAX.as_ref().and_then(|re| re.captures(&raw));
    let problem = captures
        .as_ref()
        .and_then(|c| c.name("problem"))
        .map_or(raw.as_str(), |m| m.as_str());
    let message = match PATH_PREFIX.as_ref() {
        Some(prefix) => prefix.replace(problem, "").into_owned(),
        None => problem.to_string(),
    };
    let context = captures.as_ref().and_then(|c| {
        let what = c.name("what")?.as_str().to_string();
        let line = c.name("line")?.as_str().parse().ok()?;
        let col = c.name("col")?.as_str().parse().ok()?;
        Some((
            what,
            Pos {
                offset: 0,
                line,
                col,
            },
        ))
    });
    if source.tree().root().is_none() {
        return match (context, pos) {
            (Some((what, start)), Some(found)) => Diagnostic {
                kind: Kind::YamlSyntax {
                    message: format!(
                        "{message} in {what} that starts here (the parser gave up at line {}, column {})",
                        found.line, found.col
                    ),
                },
                at: At::Pos(start),
                suggestion: None,
                note: None,
            },
            (_, found) => Diagnostic {
                kind: Kind::YamlSyntax { message },
                at: found.map_or(At::File, At::Pos),
                suggestion: None,
                note: None,
            },
        };
    }
    let starts_with_braces = |line: usize, col: usize| {
        source.line_text(line).is_some_and(|text| {
            text.chars()
                .skip(col.saturating_sub(1))
                .collect::<String>()
                .starts_with("{{")
        })
    };
    let at_template = source
        .value_span(&path)
        .is_some_and(|s| starts_with_braces(s.start.line, s.start.col));
    let kind = if at_template {
        Kind::UnquotedTemplate
    } else if path.0.is_empty() {
        Kind::Structure { message }
    } else {
        Kind::Structure {
            message: format!("`{path}`: {message}"),
        }
    };
    let at = match (pos, path.0.is_empty()) {
        (_, false) => At::Value(path),
        (Some(pos), true) => At::Pos(pos),
        (None, true) => At::File,
    };
    Diagnostic {
        kind,
        at,
        suggestion: None,
        note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        let source = SourceFile::new("f.yaml", text);
        load(&source)
            .diagnostics
            .iter()
            .map(|d| crate::diagnostic::render(d, &source, false).text)
            .collect()
    }

    #[test]
    fn every_unknown_field_is_reported_with_a_suggestion() {
        let found = errors(
            "name: x\nsteps:\n  - id: a\n    block: core.log\n    wiht: {}\n  - id: b\n    blok: core.log\n    retry: {attempts: 2, max_dealy: 1s}\n",
        );
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(
            found[0].contains("unknown field `wiht`") && found[0].contains("did you mean `with`?")
        );
        assert!(found[1].contains("f.yaml:7:5"));
        assert!(found[2].contains("did you mean `max_delay`?"));
    }

    #[test]
    fn a_flow_with_unknown_fields_is_read_as_their_suggestions_say() {
        let source = SourceFile::new(
            "f.yaml",
            "name: x\nsteps:\n  - id: a\n    block: core.log\n    wiht: { message: hi }\n    colour: red\n",
        );
        let loaded = load(&source);
        assert_eq!(loaded.diagnostics.len(), 2);
        let flow = loaded.flow.expect("read without the typos");
        assert_eq!(flow.steps[0].with.len(), 1, "`wiht` read as `with`");
        // Both spelt: the typo is dropped, `with` kept.
        let source = SourceFile::new(
            "f.yaml",
            "name: x\nsteps:\n  - id: a\n    block: core.log\n    with: {}\n    wiht: { message: hi }\n",
        );
        assert!(load(&source).flow.expect("read").steps[0].with.is_empty());
        let source = SourceFile::new("f.yaml", "name: x\nstepz: []\n");
        assert!(load(&source).flow.is_some_and(|f| f.steps.is_empty()));
        // A flow that does not read even so has no flow, only the diagnostics.
        let source = SourceFile::new("f.yaml", "nmae: x\nsteps: 3\nfoo: 1\n");
        assert!(load(&source).flow.is_none());
    }

    #[test]
    fn a_byte_order_mark_is_accepted_and_one_inside_keeps_locations() {
        let source = SourceFile::new("f.yaml", "\u{FEFF}name: x\nsteps: []\n");
        let loaded = load(&source);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        assert!(loaded.flow.is_some_and(|f| f.name == "x"));
        let found = errors("\u{FEFF}name: x\nsteps: []\nstepz: 1\n");
        assert!(found[0].contains("f.yaml:3:1"), "{}", found[0]);
        let found = errors("name: x \u{FEFF}y\nsteps: []\n# \u{FEFF}\nstepz: 1\n");
        assert!(found[0].contains("f.yaml:4:1"), "{}", found[0]);
    }

    #[test]
    fn a_deeply_nested_document_is_refused_before_it_is_parsed() {
        let deep = format!(
            "name: x\nsteps: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let (found, units) = crate::source::work::measure(|| errors(&deep));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("nests more than 128 levels"),
            "{}",
            found[0]
        );
        assert!(found[0].contains("f.yaml:2:136"), "{}", found[0]);
        assert!(
            units < 4 * deep.len() as u64,
            "a few passes over the text: {units} units of work"
        );
    }

    #[test]
    fn type_errors_point_at_the_value() {
        let found = errors("name: x\nsteps:\n  - id: a\n    block: core.log\n    after: {x: 1}\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("f.yaml:5:12"), "{}", found[0]);
    }

    #[test]
    fn syntax_errors_and_unquoted_templates() {
        let found = errors("name: x\nsteps: [\n");
        assert!(found[0].starts_with("error[yaml-syntax]"), "{}", found[0]);
        let found = errors(
            "name: x\nsteps:\n  - id: a\n    block: core.log\n    with:\n      message: {{params.x}}\n",
        );
        assert!(
            found[0].starts_with("error[unquoted-template]"),
            "{}",
            found[0]
        );
        assert!(errors("")[0].contains("empty"));
    }
}
