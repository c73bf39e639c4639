//! What a template may be before handlebars reads it, so that what validates also renders, and
//! validating costs time in proportion to the flow's size.
//!
//! handlebars-rust compiles and renders nested blocks, `{{else if}}` chains and subexpressions by
//! recursion (2,000 nested `{{#if}}` overflow a runner's stack at render, 5,000 at compile), and its
//! compiler finds the line and column of every element by scanning the template from its start, so its cost
//! grows with the square of the number of expressions in one string. A scan of the text in one pass, made
//! before handlebars sees it, bounds both: a nesting depth and a number of expressions per string that no
//! real template comes near.

use super::TemplateSyntaxError;
use crate::source::work;

/// The deepest nesting of blocks (`{{#if}}` inside `{{#each}}`…, each `{{else if}}` counting as one more)
/// or of subexpressions (`(lookup (lookup …))`) a template may have.
pub const MAX_NESTING: usize = 32;

/// The most expressions (`{{…}}`) one template string may hold when it needs handlebars (helpers, blocks);
/// a template of only `{{params.x}}`-style paths has no limit.
pub const MAX_EXPRESSIONS: usize = 512;

/// Refuses a template nested deeper than [`MAX_NESTING`] or with more than [`MAX_EXPRESSIONS`]
/// expressions. Counts generously (an escaped `\{{` or a tag inside a comment counts too): refusing a
/// template at the limit is safe, letting through one beyond it is not.
pub fn check(source: &str) -> Result<(), TemplateSyntaxError> {
    work::count(source.len());
    // For each open block, how many levels it adds (one, plus one per `{{else if}}`).
    let mut blocks: Vec<usize> = Vec::new();
    let mut depth = 0;
    let mut expressions = 0;
    let mut rest = 0;
    while let Some(found) = source[rest..].find("{{") {
        let at = rest + found;
        expressions += 1;
        if expressions > MAX_EXPRESSIONS {
            return Err(error(
                source,
                at,
                format!(
                    "more than {MAX_EXPRESSIONS} expressions in one template with helpers or blocks: split it into several strings"
                ),
            ));
        }
        let tag = tag_at(source, at);
        let inner = tag
            .trim_start_matches('{')
            .trim_start_matches('~')
            .trim_start();
        if inner.starts_with('#') {
            blocks.push(1);
            depth += 1;
        } else if inner.starts_with('/') {
            depth -= blocks.pop().unwrap_or(0);
        } else if is_chain(inner) {
            match blocks.last_mut() {
                Some(levels) => *levels += 1,
                None => blocks.push(1),
            }
            depth += 1;
        }
        if depth > MAX_NESTING || parens(tag) > MAX_NESTING {
            return Err(error(
                source,
                at,
                format!(
                    "blocks or subexpressions nested more than {MAX_NESTING} deep: flatten the template"
                ),
            ));
        }
        rest = at + tag.len().max(2);
    }
    Ok(())
}

/// The tag starting at byte `at`: up to its closing `}}`, or to the end of the text.
fn tag_at(source: &str, at: usize) -> &str {
    let tag = &source[at..];
    match tag[2..].find("}}") {
        Some(close) => &tag[..close + 4],
        None => tag,
    }
}

/// `else if x` or `^x`: a link of an `{{#if}}…{{else if}}…` chain, which handlebars nests one level deeper.
fn is_chain(inner: &str) -> bool {
    let rest = if let Some(rest) = inner.strip_prefix("else") {
        rest
    } else if let Some(rest) = inner.strip_prefix('^') {
        rest
    } else {
        return false;
    };
    !rest.trim_start().trim_start_matches('~').starts_with('}')
}

/// The deepest nesting of parentheses in a tag.
fn parens(tag: &str) -> usize {
    let mut depth: usize = 0;
    let mut deepest = 0;
    for byte in tag.bytes() {
        match byte {
            b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// An error at byte `at` of `source`, positioned as handlebars positions its own (1-based line, and the
/// column as a 1-based byte offset in that line).
fn error(source: &str, at: usize, message: String) -> TemplateSyntaxError {
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let col = at - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
    TemplateSyntaxError {
        message,
        position: Some((line, col)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}x{}", "{{#if a}}".repeat(depth), "{{/if}}".repeat(depth))
    }

    #[test]
    fn nesting_is_bounded_and_counted_across_else_if_chains() {
        assert!(check(&nested(MAX_NESTING)).is_ok());
        let error = check(&nested(MAX_NESTING + 1)).expect_err("too deep");
        assert!(error.message.contains("nested more than 32"), "{error:?}");
        assert_eq!(error.position, Some((1, 9 * MAX_NESTING + 1)));
        let chain = format!(
            "{{{{#if a}}}}{}{{{{/if}}}}",
            "{{else if b}}x".repeat(MAX_NESTING)
        );
        assert!(check(&chain).is_err(), "an else-if chain nests");
        let siblings = "{{#if a}}x{{else}}y{{/if}}".repeat(100);
        assert!(check(&siblings).is_ok(), "blocks in sequence do not nest");
        let subexpressions = format!("{{{{len {}x{}}}}}", "(lookup ".repeat(33), ")".repeat(33));
        assert!(check(&subexpressions).is_err());
        assert!(check("{{~ #if a}}{{~/if~}}").is_ok());
    }

    /// The deepest template the checker accepts renders on a thread with the stack of a tokio worker
    /// (2 MiB), where steps run; in a debug build, which uses more stack than a release build.
    #[test]
    fn what_the_limits_accept_renders_on_a_runner_stack() {
        let deepest = [
            nested(MAX_NESTING),
            format!(
                "{{{{#if a}}}}{}{{{{/if}}}}",
                "{{else if b}}x".repeat(MAX_NESTING - 1)
            ),
            format!(
                "{{{{len {}a{}}}}}",
                "(lookup ".repeat(MAX_NESTING - 1),
                " \"x\")".repeat(MAX_NESTING - 1)
            ),
        ];
        let mut deep = serde_json::json!("leaf");
        for _ in 0..MAX_NESTING {
            deep = serde_json::json!({ "x": deep });
        }
        let rendered = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                deepest
                    .iter()
                    .map(|source| {
                        let deep = deep.clone();
                        let template = super::super::TemplateExpr::compile(source)
                            .map_err(|e| super::super::RenderError::Failed(e.message))?;
                        template.render(serde_json::json!({"a": deep, "b": true}))
                    })
                    .collect::<Vec<_>>()
            })
            .expect("thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(rendered[0].as_deref(), Ok("x"));
        assert_eq!(rendered[1].as_deref(), Ok(""));
        assert_eq!(
            rendered[2].as_deref(),
            Ok("1"),
            "the length of `{{x: \"leaf\"}}`"
        );
    }

    #[test]
    fn expressions_are_bounded() {
        assert!(check(&"{{a}}".repeat(MAX_EXPRESSIONS)).is_ok());
        let error = check(&"{{a}}\n".repeat(MAX_EXPRESSIONS + 1)).expect_err("too many");
        assert_eq!(error.position, Some((MAX_EXPRESSIONS + 1, 1)));
    }
}
