//! A flow param's `pattern` (a Rust regular expression) as the `pattern` attribute of the start form's
//! text field, when a browser reads it the same way; otherwise the field has none and only the daemon
//! checks the value (as it checks every value anyway).

/// A Rust regular expression as the `pattern` attribute of a text field, when a browser reads it the same
/// way: only a conservative subset of the syntax is taken (no flags, no named or non-capturing groups but
/// `(?:`, no Unicode classes, no escapes beyond the common ones, plain character classes). Browsers match
/// a `pattern` against the whole value where Rust finds it anywhere, so it is wrapped in `.*(?:…).*`.
/// Anything else is only checked by the server.
pub fn js_pattern(rust: &str) -> Option<String> {
    let chars: Vec<char> = rust.chars().collect();
    let mut class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !(c.is_ascii_graphic() || c == ' ') {
            return None;
        }
        match c {
            '\\' => {
                let next = *chars.get(i + 1)?;
                let known = if class {
                    "dDwWsS.\\-/()[]{}|^$*+?nt"
                } else {
                    "dDwWsSbB.\\/()[]{}|^$*+?nt"
                };
                if !known.contains(next) {
                    return None;
                }
                i += 2;
                continue;
            }
            '[' if class => return None,
            '[' => {
                class = true;
                if chars.get(i + 1) == Some(&'^') {
                    i += 1;
                }
                // A `-` or `]` first in a class is a literal in Rust and an error in a browser.
                if matches!(chars.get(i + 1), Some('-' | ']')) {
                    return None;
                }
            }
            ']' if class => {
                if chars[i - 1] == '-' {
                    return None;
                }
                class = false;
            }
            '(' | ')' | '{' | '}' | '/' | '|' | '&' | '~' if class => return None,
            // A doubled punctuator in a class is an operator, or reserved, in a browser's `v` mode.
            c if class && chars.get(i + 1) == Some(&c) && "-!#$%*+,.:;<=>?@^`".contains(c) => {
                return None;
            }
            '(' if chars.get(i + 1) == Some(&'?') && chars.get(i + 2) != Some(&':') => {
                return None;
            }
            '{' => {
                let end = chars[i..].iter().position(|&c| c == '}')? + i;
                let inside: String = chars[i + 1..end].iter().collect();
                let (low, high) = inside.split_once(',').unwrap_or((&inside, "0"));
                let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
                if low.is_empty() || !digits(low) || !digits(high) {
                    return None;
                }
                i = end + 1;
                continue;
            }
            '}' | ']' => return None,
            _ => {}
        }
        i += 1;
    }
    (!class).then(|| format!(".*(?:{rust}).*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_a_browser_reads_alike_are_wrapped_and_the_rest_left_to_the_server() {
        for (rust, js) in [
            ("^[a-z][a-z0-9_]*$", ".*(?:^[a-z][a-z0-9_]*$).*"),
            ("^t\\d{2,}$", ".*(?:^t\\d{2,}$).*"),
            ("(?:eu|us)-\\w+", ".*(?:(?:eu|us)-\\w+).*"),
        ] {
            assert_eq!(js_pattern(rust).as_deref(), Some(js), "{rust}");
        }
        for refused in [
            "^[^/]+$",
            "(?i)abc",
            "(?P<x>a)",
            "\\pL+",
            "[[:alpha:]]",
            "[a-z&&[^x]]",
            "[-a]",
            "[a-]",
            "a{",
            "é",
            "\\A",
            "a\\-b",
            "[a..b]",
            "[a",
        ] {
            assert_eq!(js_pattern(refused), None, "{refused}");
        }
    }
}
