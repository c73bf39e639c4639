//! Cutting what a server sent down to what an error may carry. A hostile or broken server can answer with
//! a 100 MB error title, and a step's error is printed in several places (progress, summary, report):
//! every connector reads at most [`BODY_BYTES`] of an error answer and puts at most [`TEXT_CHARS`] of any
//! one text of the server's into a message, saying how much it left out.

use std::borrow::Cow;

/// The most of an error answer's body a client reads.
pub const BODY_BYTES: usize = 64 * 1024;
/// The most characters of one text of the server's (a title, a detail, a message) an error carries.
pub const TEXT_CHARS: usize = 1000;
/// The most characters of an error code: codes are identifiers, so a long one is not a code.
pub const CODE_CHARS: usize = 100;

/// `text` cut to `max` characters, with the number of characters left out said at the end.
pub fn text(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((end, _)) => {
            let left_out = text[end..].chars().count();
            Cow::Owned(format!(
                "{}… [{left_out} more characters cut]",
                &text[..end]
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_saying_how_much_and_short_ones_kept() {
        assert_eq!(text("short", 10), "short");
        assert_eq!(text("exactly10!", 10), "exactly10!");
        assert_eq!(text("ééééé", 2), "éé… [3 more characters cut]");
        let long = "A".repeat(100_000);
        let cut = text(&long, TEXT_CHARS);
        assert!(cut.len() < TEXT_CHARS + 50, "{}", cut.len());
        assert!(cut.ends_with("[99000 more characters cut]"), "{cut}");
    }
}
