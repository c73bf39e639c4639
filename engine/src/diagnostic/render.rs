//! Rendering diagnostics like a compiler: `error[code]` or `warning[code]`, `file:line:col`, the source
//! line, a caret under the value. A long line is cut to a window around the caret, marked `…` where it
//! was cut, so that many diagnostics on one long line print (and cost) in proportion to their number, not
//! to their number times the line.

mod shown;

use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};

use super::{At, Diagnostic, Severity};
use crate::source::{SourceFile, Span, YamlPath, work};
use shown::Lines;

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

/// Renders one diagnostic against its source.
pub fn render(diagnostic: &Diagnostic, source: &SourceFile, color: bool) -> Rendered {
    let mut lines = Lines::new(
        source,
        secret_spans(std::slice::from_ref(diagnostic), source),
    );
    render_one(diagnostic, source, color, &mut lines)
}

/// Renders every diagnostic of one flow, each on its own, with the literal secrets any of them found
/// masked in every source line shown.
pub fn render_each(diagnostics: &[Diagnostic], source: &SourceFile, color: bool) -> Vec<Rendered> {
    let mut lines = Lines::new(source, secret_spans(diagnostics, source));
    diagnostics
        .iter()
        .map(|d| render_one(d, source, color, &mut lines))
        .collect()
}

/// Where literal secrets are written: shown as `*` in any source line a diagnostic prints.
fn secret_spans<'a>(
    diagnostics: &'a [Diagnostic],
    source: &'a SourceFile,
) -> impl Iterator<Item = Span> + 'a {
    diagnostics
        .iter()
        .filter(|d| matches!(d.kind, super::Kind::LiteralSecret { .. }))
        .filter_map(|d| locate(&d.at, source))
}

fn render_one(
    diagnostic: &Diagnostic,
    source: &SourceFile,
    color: bool,
    lines: &mut Lines,
) -> Rendered {
    let span = locate(&diagnostic.at, source);
    let (line, col) = span.map_or((0, 0), |s| (s.start.line, s.start.col));
    let (end_line, end_col) = span.map_or((0, 0), |s| {
        if s.end.line > s.start.line || s.end.col > s.start.col {
            (s.end.line, s.end.col)
        } else {
            (s.start.line, s.start.col + 1)
        }
    });
    let message = diagnostic.kind.message();
    let mut helps = Vec::new();
    if let Some(suggestion) = &diagnostic.suggestion {
        helps.push(format!("did you mean `{suggestion}`?"));
    }
    helps.extend(diagnostic.kind.help());
    // Only the line the span starts on is shown, with the span cut at its end, as before: the snippet
    // renderer then lays the carets out under tabs and wide characters as a terminal shows them.
    let window = span.map(|span| {
        let shown = lines.get(line);
        let width = caret_width(span, shown.chars);
        shown.window(col.saturating_sub(1), width)
    });
    let level = match diagnostic.severity() {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level
        .primary_title(message.as_str())
        .id(diagnostic.kind.code());
    let group = match &window {
        Some((text, carets, _)) => title.element(
            Snippet::source(text.as_str())
                .line_start(line)
                .path(source.name.as_str())
                .fold(false)
                .annotation(AnnotationKind::Primary.span(carets.clone())),
        ),
        None => title.element(Origin::path(source.name.as_str())),
    };
    let mut group = helps.iter().fold(group, |group, help| {
        group.element(Level::HELP.message(help.as_str()))
    });
    if let Some(note) = &diagnostic.note {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    // The renderer's own cutting is left off: it would walk the whole line for every diagnostic.
    let mut text = renderer
        .term_width(usize::from(u16::MAX))
        .render(&[group])
        .trim_end_matches('\n')
        .to_string();
    if let Some((_, _, shown_col)) = window
        && shown_col != col
    {
        // The renderer counts the column in the window it was given; the header names the line's.
        text = true_column(&text, &source.name, line, shown_col, col);
    }
    work::count(text.len());
    Rendered {
        line,
        col,
        end_line,
        end_col,
        text,
    }
}

/// `text` with its `-->` header's column `shown` replaced by `col`.
fn true_column(text: &str, name: &str, line: usize, shown: usize, col: usize) -> String {
    let header = text.find("-->").unwrap_or(0);
    let wrong = format!("{name}:{line}:{shown}");
    match text[header..].find(&wrong) {
        Some(at) => {
            let at = header + at;
            format!(
                "{}{name}:{line}:{col}{}",
                &text[..at],
                &text[at + wrong.len()..]
            )
        }
        None => text.to_string(),
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

/// How many carets: the span's width on its first line of `line_len` characters (at least one).
fn caret_width(span: Span, line_len: usize) -> usize {
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
            "error[unknown-step]: unknown step `b`\n --> flow.yaml:6:24\n  |\n6 |       message: $.steps.b.output\n  |                        ^\n  |\n  = help: did you mean `a`?"
        );
    }

    /// The carets of a diagnostic, checked against where the value sits on the rendered source line, in
    /// terminal columns (a wide character takes two).
    fn caret_under(source_text: &str, target: &str) {
        let source = SourceFile::new("flow.yaml", source_text);
        let diagnostic = Diagnostic::part(
            Kind::UnknownStep { id: "b".into() },
            &YamlPath::from_serde("steps[0].with.message"),
            Some(8..9),
        );
        let rendered = render(&diagnostic, &source, false).text;
        let lines: Vec<&str> = rendered.lines().collect();
        let shown = lines
            .iter()
            .position(|l| l.contains(target))
            .unwrap_or_else(|| panic!("{rendered}"));
        let width = |text: &str| {
            text.chars()
                .map(|c| {
                    if ('\u{3000}'..='\u{9fff}').contains(&c) {
                        2
                    } else {
                        1
                    }
                })
                .sum::<usize>()
        };
        let line = lines[shown];
        let before = &line[..line.find(target).unwrap_or(0) + target.len() - 1];
        let carets = lines[shown + 1];
        assert_eq!(
            carets.find('^'),
            Some(width(before)),
            "caret not under `b`:\n{rendered}"
        );
        assert!(!line.contains('\t'), "{rendered}");
    }

    #[test]
    fn carets_stay_under_the_value_after_tabs_and_wide_characters() {
        caret_under(
            "name: x\nsteps:\n  - id: a\n    block: core.log\n    with: { other: 日本語, message:\t$.steps.b.output }\n",
            "$.steps.b",
        );
    }

    /// A flow whose one output is a string of `before` `x`s, `$.steps.b.output`, then `after` `y`s.
    fn long_line(before: usize, after: usize) -> (std::sync::Arc<SourceFile>, Diagnostic) {
        let value = format!(
            "{}$.steps.b.output{}",
            "x".repeat(before),
            "y".repeat(after)
        );
        let source = SourceFile::new(
            "flow.yaml",
            format!(
                "name: x\nsteps:\n  - id: a\n    block: core.log\n    with:\n      message: {value}\n"
            ),
        );
        let diagnostic = Diagnostic::part(
            Kind::UnknownStep { id: "b".into() },
            &YamlPath::from_serde("steps[0].with.message"),
            Some(before + 8..before + 9),
        );
        (source, diagnostic)
    }

    #[test]
    fn a_long_line_is_cut_around_the_caret_and_says_so() {
        let (source, diagnostic) = long_line(5_000, 5_000);
        let rendered = render(&diagnostic, &source, false);
        assert_eq!((rendered.line, rendered.col), (6, 5_024));
        let lines: Vec<&str> = rendered.text.lines().collect();
        assert_eq!(lines[1], " --> flow.yaml:6:5024", "{}", rendered.text);
        let shown = format!("6 | …{}$.steps.b.output{}…", "x".repeat(52), "y".repeat(53));
        assert_eq!(lines[3], shown, "{}", rendered.text);
        let under = shown.chars().position(|c| c == 'b').unwrap_or_default();
        assert_eq!(lines[4], format!("  |{}^", " ".repeat(under - 3)));
    }

    #[test]
    fn a_long_line_is_cut_only_where_it_goes_on() {
        // Near the start: nothing cut before.
        let (source, diagnostic) = long_line(10, 5_000);
        let text = render(&diagnostic, &source, false).text;
        assert!(
            text.contains("6 |       message: xxxxxxxxxx$.steps.b.output"),
            "{text}"
        );
        assert!(text.contains(" --> flow.yaml:6:34\n"), "{text}");
        // Near the end: nothing cut after.
        let (source, diagnostic) = long_line(5_000, 10);
        let text = render(&diagnostic, &source, false).text;
        assert!(text.contains("6 | …xx"), "{text}");
        assert!(text.contains("$.steps.b.outputyyyyyyyyyy\n"), "{text}");
        assert!(text.contains(" --> flow.yaml:6:5024\n"), "{text}");
        // An ordinary line is shown whole.
        let (source, diagnostic) = long_line(80, 80);
        let text = render(&diagnostic, &source, false).text;
        assert!(!text.contains('…'), "{text}");
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
