//! Terminal colors, only when asked for.

/// Paints `text` with an ANSI style when `color` is on.
pub fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `error:` in bold red.
pub fn error_label(color: bool) -> String {
    paint(color, "1;31", "error:")
}

/// Bold.
pub fn bold(color: bool, text: &str) -> String {
    paint(color, "1", text)
}

/// Dim.
pub fn dim(color: bool, text: &str) -> String {
    paint(color, "2", text)
}

/// Green.
pub fn green(color: bool, text: &str) -> String {
    paint(color, "32", text)
}

/// Red.
pub fn red(color: bool, text: &str) -> String {
    paint(color, "31", text)
}

/// Yellow.
pub fn yellow(color: bool, text: &str) -> String {
    paint(color, "33", text)
}
