//! SHA-256, written `sha256:<hex>`: of a file, of the files a template reads (one hash over their paths
//! and contents), and of an interface.

use std::path::Path;

use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use crate::source::{ReadError, read_text};

/// `sha256:<hex>` of `bytes`.
pub fn of_bytes(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// `sha256:<hex>` of a text file (a regular file of at most 16 MiB, like every file a template reads).
pub fn of_file(path: &Path) -> Result<String, ReadError> {
    read_text(path).map(|text| of_bytes(text.as_bytes()))
}

/// One hash over files given by path (relative to a library's root, `/`-separated) and hash: what the
/// lock records as a template's `hash`. The paths are sorted, so the order they were found in does not
/// matter, and each path is hashed with its content, so moving a file changes the hash.
pub fn of_files(files: &IndexMap<String, String>) -> String {
    let mut sorted: Vec<(&String, &String)> = files.iter().collect();
    sorted.sort();
    let mut hasher = Sha256::new();
    for (path, hash) in sorted {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(hash.as_bytes());
        hasher.update([b'\n']);
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_of_a_known_text() {
        // `printf abc | sha256sum`
        assert_eq!(
            of_bytes(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_files_hash_ignores_order_but_not_paths() {
        let a: IndexMap<String, String> = [
            ("x.yaml".into(), "sha256:1".into()),
            ("p.json".into(), "sha256:2".into()),
        ]
        .into();
        let b: IndexMap<String, String> = [
            ("p.json".into(), "sha256:2".into()),
            ("x.yaml".into(), "sha256:1".into()),
        ]
        .into();
        let moved: IndexMap<String, String> = [
            ("y.yaml".into(), "sha256:1".into()),
            ("p.json".into(), "sha256:2".into()),
        ]
        .into();
        assert_eq!(of_files(&a), of_files(&b));
        assert_ne!(of_files(&a), of_files(&moved));
    }
}
