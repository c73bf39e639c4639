//! Reading a text with saphyr, whose event parser gives the source positions of the span tree and the
//! depth check: the text as saphyr can read it, and positions from its markers.

use std::borrow::Cow;

use super::Pos;

/// `text` as saphyr can read it with the same positions. saphyr refuses a U+FEFF inside a document
/// (YAML 1.2 reserves it for byte order marks) where libyaml, which reads the values, takes it as content;
/// so that such a file keeps its locations, each U+FEFF is replaced by a character the text lacks (one
/// character for one), which the tree's scalars then turn back into U+FEFF: the stand-in, when one was
/// needed, comes with the text.
pub(super) fn parsable(text: &str) -> (Cow<'_, str>, Option<char>) {
    match text
        .contains('\u{FEFF}')
        .then(|| unused_char(text))
        .flatten()
    {
        Some(c) => (
            Cow::Owned(text.replace('\u{FEFF}', c.encode_utf8(&mut [0; 4]))),
            Some(c),
        ),
        None => (Cow::Borrowed(text), None),
    }
}

/// A character of the Private Use Area that `text` does not contain, found in one pass.
fn unused_char(text: &str) -> Option<char> {
    const FIRST: u32 = 0xE000;
    let mut used = vec![false; 0x1900];
    for c in text.chars() {
        if let Some(slot) = (c as u32)
            .checked_sub(FIRST)
            .and_then(|i| used.get_mut(i as usize))
        {
            *slot = true;
        }
    }
    let free = used.iter().position(|used| !used)?;
    char::from_u32(FIRST + u32::try_from(free).ok()?)
}

/// The position a saphyr marker names (its columns count from 0).
pub(super) fn pos(marker: saphyr_parser::Marker) -> Pos {
    Pos {
        offset: marker.index(),
        line: marker.line(),
        col: marker.col() + 1,
    }
}
