//! `keyflow.lock`: what `keyflow lock` resolved each library `uses:` to — the version, the commit, a hash
//! of every file the template reads and a hash of its interface. `validate`, `plan` and `run` read only
//! this (and the local copies it names): no network, no resolution.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::FORMAT_VERSION;
use super::interface::Interface;
use super::project::{Library, format_version};
use crate::diagnostic::Diagnostic;
use crate::load::load_document;
use crate::source::SourceFile;

/// The first lines of every lock keyflow writes.
const HEADER: &str =
    "# keyflow.lock: written by `keyflow lock` and `keyflow update`. Commit it; do not edit it.\n";

/// The lock file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    /// The version of this file's format; this keyflow reads and writes `1`.
    pub format_version: u32,
    /// Each library `uses:` of the project's flows and of the templates they use, in the order of `uses`.
    #[serde(default)]
    pub templates: Vec<LockedTemplate>,
}

/// What one `uses: NAME:PATH@RANGE` was resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockedTemplate {
    /// The `uses:` as written: `platform:tenant/rotate-key@^1.2`.
    pub uses: String,
    /// The library's name in `keyflow.yaml`.
    pub library: String,
    /// Where the library was when this was resolved (a changed `keyflow.yaml` needs `keyflow lock`).
    pub source: Library,
    /// The template's path in the library, without `.yaml`.
    pub template: String,
    /// The version chosen: the highest the range allows.
    pub version: String,
    /// A git library's tag of that version (`tenant/rotate-key/v1.2.3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The commit the tag named: a tag moved since is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// One hash over every file the template reads (`files`).
    pub hash: String,
    /// Every file the template reads — itself, the templates it uses from its library, the documents it
    /// renders — by path in the library, with its hash.
    pub files: IndexMap<String, String>,
    /// The hash of `interface`.
    pub interface_hash: String,
    /// Its params, outputs and effect, as callers were checked against them.
    pub interface: Interface,
}

impl LockFile {
    /// An empty lock.
    pub fn new() -> LockFile {
        LockFile {
            format_version: FORMAT_VERSION,
            templates: Vec::new(),
        }
    }

    /// Reads `keyflow.lock`; every problem is a diagnostic with its line and column.
    pub fn load(source: &SourceFile) -> Result<LockFile, Vec<Diagnostic>> {
        let lock: LockFile = load_document(source, "a lock file")?;
        let mut found = Vec::new();
        format_version(lock.format_version, &mut found);
        if found.is_empty() {
            Ok(lock)
        } else {
            Err(found)
        }
    }

    /// The entry of `uses`.
    pub fn get(&self, uses: &str) -> Option<&LockedTemplate> {
        self.templates.iter().find(|t| t.uses == uses)
    }

    /// The text keyflow writes: a header, then the entries sorted by `uses`.
    pub fn to_text(&self) -> String {
        let mut sorted = self.clone();
        sorted.templates.sort_by(|a, b| a.uses.cmp(&b.uses));
        sorted.templates.dedup_by(|a, b| a.uses == b.uses);
        let body = serde_yaml::to_string(&sorted).unwrap_or_default();
        format!("{HEADER}{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::Effect;
    use crate::diagnostic::render;

    fn entry() -> LockedTemplate {
        LockedTemplate {
            uses: "platform:t@^1".into(),
            library: "platform".into(),
            source: Library {
                git: Some("file:///x".into()),
                subdirectory: None,
                path: None,
            },
            template: "t".into(),
            version: "1.2.0".into(),
            tag: Some("t/v1.2.0".into()),
            commit: Some("0123".into()),
            hash: "sha256:00".into(),
            files: [("t.yaml".to_string(), "sha256:01".to_string())].into(),
            interface_hash: "sha256:02".into(),
            interface: Interface {
                params: Default::default(),
                outputs: Default::default(),
                effect: Effect::Read,
            },
        }
    }

    #[test]
    fn a_written_lock_reads_back_the_same() {
        let mut lock = LockFile::new();
        lock.templates.push(entry());
        let text = lock.to_text();
        assert!(text.starts_with("# keyflow.lock"));
        let read = LockFile::load(&SourceFile::new("keyflow.lock", text)).expect("valid");
        assert_eq!(read, lock);
    }

    #[test]
    fn a_malformed_lock_is_reported_at_its_line_and_column() {
        let mut lock = LockFile::new();
        lock.templates.push(entry());
        let text = lock.to_text().replace("version: 1.2.0", "version: [1]");
        let source = SourceFile::new("keyflow.lock", text);
        let found = LockFile::load(&source).expect_err("invalid");
        let rendered = render(&found[0], &source, false).text;
        assert!(rendered.contains("keyflow.lock:"), "{rendered}");
        assert!(rendered.contains("templates[0].version"), "{rendered}");
    }
}
