//! Rendering diagnostics like a compiler: `file:line:col`, the source line, a caret under the value.

use std::fmt::Write;

use super::{At, Diagnostic};
use crate::source::{SourceFile, Span, YamlPath};

/// A diagnostic rendered, with the position it points at (for sorting and for JSON output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// 1-based line, 0 for the whole file.
    pub line: usize,
    /// 1-based column, 0 for the whole file.
    pub col: usize,
    /// 1-based line the span ends on, 0 for the whole file.
    pub end_line: usize,
    /// 1-based column one past the span's last character (as SARIF counts), 0 for the whole file.
    pub end_col: usize,
    /// The rendered text, without a trailing newline.
    pub text: String,
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Renders one diagnostic against its source.
pub fn render(diagnostic: &Diagnostic, source: &SourceFile, color: bool) -> Rendered {
    render_masked(
        diagnostic,
        source,
        color,
        &secret_spans(std::slice::from_ref(diagnostic), source),
    )
}

/// Renders every diagnostic of one flow, each on its own, with the literal secrets any of them found
/// masked in every source line shown.
pub fn render_each(diagnostics: &[Diagnostic], source: &SourceFile, color: bool) -> Vec<Rendered> {
    let masks = secret_spans(diagnostics, source);
    diagnostics
        .iter()
        .map(|d| render_masked(d, source, color, &masks))
        .collect()
}

/// Where literal secrets are written: shown as `*` in any source line a diagnostic prints.
fn secret_spans(diagnostics: &[Diagnostic], source: &SourceFile) -> Vec<Span> {
    diagnostics
        .iter()
        .filter(|d| matches!(d.kind, super::Kind::LiteralSecret { .. }))
        .filter_map(|d| locate(&d.at, source))
        .collect()
}

fn masked(line: usize, text: &str, masks: &[Span]) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            let col = i + 1;
            let hidden = masks.iter().any(|m| {
                m.start.line <= line
                    && line <= m.end.line
                    && (m.start.line < line || col >= m.start.col)
                    && (m.end.line > line || col < m.end.col)
            });
            if hidden && !c.is_whitespace() { '*' } else { c }
        })
        .collect()
}

fn render_masked(
    diagnostic: &Diagnostic,
    source: &SourceFile,
    color: bool,
    masks: &[Span],
) -> Rendered {
    let style = Style { color };
    let span = locate(&diagnostic.at, source);
    let mut out = String::new();
    let _ = write!(
        out,
        "{}{} {}",
        style.paint("1;31", &format!("error[{}]", diagnostic.kind.code())),
        style.paint("1", ":"),
        style.paint("1", &diagnostic.kind.message())
    );
    let (line, col) = span.map_or((0, 0), |s| (s.start.line, s.start.col));
    let (end_line, end_col) = span.map_or((0, 0), |s| {
        if s.end.line > s.start.line || s.end.col > s.start.col {
            (s.end.line, s.end.col)
        } else {
            (s.start.line, s.start.col + 1)
        }
    });
    let gutter = line.to_string().len().max(1);
    let pad = " ".repeat(gutter);
    let arrow = style.paint("1;34", "-->");
    match span {
        Some(span) => {
            let _ = write!(out, "\n{pad}{arrow} {}:{line}:{col}", source.name);
            let text = masked(line, source.line_text(line).unwrap_or_default(), masks);
            let width = caret_width(span, &text);
            let bar = style.paint("1;34", "|");
            let _ = write!(out, "\n{pad} {bar}");
            let _ = write!(
                out,
                "\n{} {bar} {text}",
                style.paint("1;34", &line.to_string())
            );
            let carets = style.paint("1;31", &"^".repeat(width));
            let _ = write!(
                out,
                "\n{pad} {bar} {}{carets}",
                " ".repeat(col.saturating_sub(1))
            );
        }
        None => {
            let _ = write!(out, "\n{pad}{arrow} {}", source.name);
        }
    }
    let mut helps = Vec::new();
    if let Some(suggestion) = &diagnostic.suggestion {
        helps.push(format!("did you mean `{suggestion}`?"));
    }
    helps.extend(diagnostic.kind.help());
    for help in helps {
        let _ = write!(
            out,
            "\n{pad} {} {}: {help}",
            style.paint("1;34", "="),
            style.paint("1", "help")
        );
    }
    Rendered {
        line,
        col,
        end_line,
        end_col,
        text: out,
    }
}

/// Renders every diagnostic, in source order, separated by blank lines.
pub fn render_all(diagnostics: &[Diagnostic], source: &SourceFile, color: bool) -> String {
    let mut rendered = render_each(diagnostics, source, color);
    rendered.sort_by_key(|r| (r.line, r.col));
    rendered
        .into_iter()
        .map(|r| r.text)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The span a location points at; a path the document lacks falls back to its nearest ancestor.
fn locate(at: &At, source: &SourceFile) -> Option<Span> {
    match at {
        At::File => None,
        At::Pos(pos) => Some(Span::on_line(*pos, 1)),
        At::Value(path) => nearest(path, source),
        At::Key(path) => source.key_span(path).or_else(|| nearest(path, source)),
        At::Part(path, range) => source
            .scalar_sub_span(path, range.clone())
            .or_else(|| nearest(path, source)),
    }
}

fn nearest(path: &YamlPath, source: &SourceFile) -> Option<Span> {
    let mut path = path.clone();
    loop {
        if let Some(span) = source.value_span(&path) {
            return Some(span);
        }
        path = path.parent()?;
    }
}

/// How many carets: the span's width on its first line (at least one).
fn caret_width(span: Span, line_text: &str) -> usize {
    let line_len = line_text.chars().count();
    let end = if span.end.line == span.start.line {
        span.end.col
    } else {
        line_len + 1
    };
    end.saturating_sub(span.start.col).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Kind;

    #[test]
    fn renders_position_source_line_caret_and_help() {
        let source = SourceFile::new(
            "flow.yaml",
            "name: x\nsteps:\n  - id: a\n    block: core.log\n    with:\n      message: $.steps.b.output\n",
        );
        let diagnostic = Diagnostic::part(
            Kind::UnknownStep { id: "b".into() },
            &YamlPath::from_serde("steps[0].with.message"),
            Some(8..9),
        )
        .suggest(Some("a".into()));
        let rendered = render(&diagnostic, &source, false);
        assert_eq!((rendered.line, rendered.col), (6, 24));
        assert_eq!((rendered.end_line, rendered.end_col), (6, 25));
        assert_eq!(
            rendered.text,
            "error[unknown-step]: unknown step `b`\n --> flow.yaml:6:24\n  |\n6 |       message: $.steps.b.output\n  |                        ^\n  = help: did you mean `a`?"
        );
    }

    #[test]
    fn missing_paths_point_at_the_nearest_ancestor() {
        let source = SourceFile::new("f.yaml", "name: x\nsteps:\n  - id: a\n");
        let diagnostic = Diagnostic::value(
            Kind::Structure {
                message: "m".into(),
            },
            &YamlPath::from_serde("steps[0].with.nothing"),
        );
        assert_eq!(render(&diagnostic, &source, false).line, 3);
    }
}
