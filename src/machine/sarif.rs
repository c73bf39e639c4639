//! `validate --format sarif`: the diagnostics as a SARIF 2.1.0 log, the format code-scanning services read
//! (GitHub's `upload-sarif`), shaped as actionlint's and zizmor's SARIF output: one run, one rule per
//! diagnostic code, one result per diagnostic, columns counted in characters.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::diagnostic::{DiagnosticJson, Severity};

/// Where the rules are documented.
const HELP_URI: &str = "https://github.com/keyflow/keyflow/blob/main/docs/cli.md";

/// The SARIF log of every diagnostic of every file.
pub fn log(diagnostics: &[DiagnosticJson]) -> Value {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for diagnostic in diagnostics {
        rules.entry(&diagnostic.code).or_insert_with(|| {
            json!({
                "id": diagnostic.code,
                "name": diagnostic.code,
                "shortDescription": { "text": diagnostic.code },
                "helpUri": HELP_URI,
                "defaultConfiguration": { "level": level(diagnostic.severity) },
            })
        });
    }
    let results: Vec<Value> = diagnostics.iter().map(result).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "keyflow",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/keyflow/keyflow",
                "rules": rules.into_values().collect::<Vec<_>>(),
            } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn result(diagnostic: &DiagnosticJson) -> Value {
    let mut text = diagnostic.message.clone();
    if let Some(suggestion) = &diagnostic.suggestion {
        text.push_str(&format!("; did you mean `{suggestion}`?"));
    }
    if let Some(help) = &diagnostic.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    let mut location = json!({ "artifactLocation": { "uri": uri(&diagnostic.file) } });
    if diagnostic.line > 0 {
        location["region"] = json!({
            "startLine": diagnostic.line,
            "startColumn": diagnostic.column,
            "endLine": diagnostic.end_line,
            "endColumn": diagnostic.end_column,
        });
    }
    json!({
        "ruleId": diagnostic.code,
        "level": level(diagnostic.severity),
        "message": { "text": text },
        "locations": [{ "physicalLocation": location }],
    })
}

/// SARIF's `level` of a severity (a code is always of one severity, so its rule's default is too).
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A relative URI reference for the file as named (SARIF wants `/` separators and percent-escaped spaces).
fn uri(file: &str) -> String {
    file.replace('\\', "/")
        .replace('%', "%25")
        .replace(' ', "%20")
}
