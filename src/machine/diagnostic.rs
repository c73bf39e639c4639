//! A flow's diagnostics as programs read them: the same objects in `validate --output json`, in the
//! `status: "invalid"` documents of `run` and `plan`, and behind the GitHub and SARIF formats.

use keyflow_engine::diagnostic::{Diagnostic, render_each};
use keyflow_engine::plan::ParamError;
use keyflow_engine::source::SourceFile;
use schemars::JsonSchema;
use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The flow cannot run.
    Error,
    /// The flow runs, but part of it is not checked before the run (a reference into a free-form
    /// output, code `free-form-output`). A flow with only warnings is valid: `validate` exits 0.
    Warning,
}

impl From<keyflow_engine::diagnostic::Severity> for Severity {
    fn from(severity: keyflow_engine::diagnostic::Severity) -> Severity {
        match severity {
            keyflow_engine::diagnostic::Severity::Error => Severity::Error,
            keyflow_engine::diagnostic::Severity::Warning => Severity::Warning,
        }
    }
}

/// One problem of a flow, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DiagnosticJson {
    /// The flow file as it was named (`<stdin>` for standard input).
    pub file: String,
    /// 1-based line; 0 when the problem is about the whole file or a parameter.
    pub line: usize,
    /// 1-based column, in characters; 0 with `line` 0.
    pub column: usize,
    /// 1-based line the problem's span ends on; 0 with `line` 0.
    pub end_line: usize,
    /// 1-based column one past the span's last character, in characters (as SARIF counts); 0 with `line` 0.
    pub end_column: usize,
    /// How bad it is: `error` (the flow cannot run) or `warning` (it runs; this part is not checked).
    pub severity: Severity,
    /// A stable code, such as `unknown-step` or `invalid-param`.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it, when there is something general to say.
    pub help: Option<String>,
    /// What the user probably meant ("did you mean …").
    pub suggestion: Option<String>,
    /// The diagnostic as `keyflow validate` shows it (`error[code]` or `warning[code]`, position, source
    /// line, caret and help), without colors.
    pub rendered: String,
}

/// Every diagnostic of one flow, in source order.
pub fn of_flow(source: &SourceFile, diagnostics: &[Diagnostic]) -> Vec<DiagnosticJson> {
    let rendered = render_each(diagnostics, source, false);
    let mut list: Vec<DiagnosticJson> = diagnostics
        .iter()
        .zip(rendered)
        .map(|(d, rendered)| DiagnosticJson {
            file: source.name.clone(),
            line: rendered.line,
            column: rendered.col,
            end_line: rendered.end_line,
            end_column: rendered.end_col,
            severity: d.severity().into(),
            code: d.kind.code().to_string(),
            message: d.kind.message(),
            help: d.kind.help(),
            suggestion: d.suggestion.clone(),
            rendered: rendered.text,
        })
        .collect();
    list.sort_by_key(|d| (d.line, d.column));
    list
}

/// The code of a parameter that the flow does not declare or whose value does not fit its declaration.
pub const INVALID_PARAM: &str = "invalid-param";

/// A wrong parameter, as a diagnostic of the flow it was given to (it has no place in the file).
pub fn of_param(file: &str, error: &ParamError) -> DiagnosticJson {
    let message = format!("parameter `{}`: {}", error.name, error.message);
    DiagnosticJson {
        file: file.to_string(),
        line: 0,
        column: 0,
        end_line: 0,
        end_column: 0,
        severity: Severity::Error,
        code: INVALID_PARAM.to_string(),
        rendered: format!("error[{INVALID_PARAM}]: {message}"),
        message,
        help: None,
        suggestion: None,
    }
}
