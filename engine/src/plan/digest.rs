//! Digests of what a plan was made from: a step as written, a template's text. `keyflow resume` compares
//! them with the ones a run recorded, to reuse only results of steps that did not change.

use sha2::{Digest, Sha256};

/// The SHA-256 of `parts`, each length-prefixed (so that `["ab", "c"]` and `["a", "bc"]` differ), in hex.
pub fn digest<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_kept_apart() {
        let ab_c = digest([b"ab".as_slice(), b"c".as_slice()]);
        let a_bc = digest([b"a".as_slice(), b"bc".as_slice()]);
        assert_ne!(ab_c, a_bc);
        assert_eq!(ab_c.len(), 64);
        assert_eq!(ab_c, digest([b"ab".as_slice(), b"c".as_slice()]));
    }
}
