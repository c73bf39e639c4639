//! `validate --format github`: one GitHub Actions workflow command per diagnostic
//! (`::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`), which the runner turns into
//! annotations on the pull request's lines, as actionlint's and zizmor's GitHub formats do.

use super::diagnostic::{DiagnosticJson, Severity};

/// The workflow command of one diagnostic, without a line break.
pub fn annotation(diagnostic: &DiagnosticJson) -> String {
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut properties = vec![format!("file={}", property(&diagnostic.file))];
    if diagnostic.line > 0 {
        properties.push(format!("line={}", diagnostic.line));
        properties.push(format!("col={}", diagnostic.column));
        properties.push(format!("endLine={}", diagnostic.end_line));
        // GitHub's end column is the last character's; ours is one past it.
        properties.push(format!(
            "endColumn={}",
            diagnostic
                .end_column
                .saturating_sub(1)
                .max(diagnostic.column)
        ));
    }
    properties.push(format!(
        "title={}",
        property(&format!("keyflow {}", diagnostic.code))
    ));
    let mut message = diagnostic.message.clone();
    if let Some(suggestion) = &diagnostic.suggestion {
        message.push_str(&format!("\ndid you mean `{suggestion}`?"));
    }
    if let Some(help) = &diagnostic.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    format!("::{command} {}::{}", properties.join(","), data(&message))
}

/// A file that could not be read, as an annotation on the file.
pub fn file_error(file: &str, error: &str) -> String {
    format!(
        "::error file={},title={}::{}",
        property(file),
        property("keyflow cannot read the flow"),
        data(error)
    )
}

/// Escapes a command's message as the runner reads it (`%`, CR, LF).
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (also `:` and `,`, which end it).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_annotation_escapes_what_would_end_its_parts() {
        let diagnostic = DiagnosticJson {
            file: "flows/a,b.yaml".into(),
            line: 4,
            column: 12,
            end_line: 4,
            end_column: 20,
            severity: Severity::Error,
            code: "unknown-block".into(),
            message: "unknown block `core.lgo`: 100%".into(),
            help: Some("`keyflow blocks list` shows every block".into()),
            suggestion: Some("core.log".into()),
            rendered: String::new(),
        };
        assert_eq!(
            annotation(&diagnostic),
            "::error file=flows/a%2Cb.yaml,line=4,col=12,endLine=4,endColumn=19,title=keyflow unknown-block::\
             unknown block `core.lgo`: 100%25%0Adid you mean `core.log`?%0Ahelp: `keyflow blocks list` shows every block"
        );
    }
}
