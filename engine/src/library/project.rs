//! `keyflow.yaml`, the project file: the template libraries a project's flows call, by name. Found at
//! the flow's folder or above, as other tools find theirs.
//!
//! ```yaml
//! format_version: 1
//! libraries:
//!   platform: { git: https://github.com/acme/platform-flows.git, subdirectory: templates }
//!   mirror: { path: ../platform-flows }
//! ```

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::FORMAT_VERSION;
use super::uses::is_library_name;
use crate::diagnostic::{Diagnostic, Kind};
use crate::load::load_document;
use crate::source::{SourceFile, YamlPath};

/// The project file, `keyflow.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// The version of this file's format; this keyflow reads `1`.
    pub format_version: u32,
    /// The template libraries, by the name a `uses: NAME:PATH@RANGE` calls them with.
    #[serde(default)]
    pub libraries: IndexMap<String, Library>,
}

/// Where a library's templates are: a git repository (`git`, with an optional `subdirectory`), or a
/// folder (`path`, relative to `keyflow.yaml`: a monorepo's shared folder, or an air-gapped mirror).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Library {
    /// A git repository's URL, as `git clone` takes it (`https://…`, `git@host:org/repo.git`,
    /// `file:///…`); reached with the user's own `git` and its configured credentials. A template's
    /// versions are the repository's tags `<template path>/v<version>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<String>,
    /// With `git`: the folder of the repository that is the library's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdirectory: Option<String>,
    /// A folder that is the library's root, relative to `keyflow.yaml`; it serves the version of each
    /// template it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Library {
    /// How the library is shown: its URL (and subdirectory) or its path.
    pub fn describe(&self) -> String {
        match (&self.git, &self.subdirectory, &self.path) {
            (Some(url), Some(sub), _) => format!("{url} ({sub})"),
            (Some(url), None, _) => url.clone(),
            (None, _, Some(path)) => path.clone(),
            (None, _, None) => String::new(),
        }
    }
}

impl ProjectFile {
    /// Reads `keyflow.yaml`; every problem is a diagnostic with its line and column.
    pub fn load(source: &SourceFile) -> Result<ProjectFile, Vec<Diagnostic>> {
        let project: ProjectFile = load_document(source, "a project file")?;
        let mut found = Vec::new();
        format_version(project.format_version, &mut found);
        for (name, library) in &project.libraries {
            let at = YamlPath::root().key("libraries").key(name);
            if !is_library_name(name) {
                found.push(Diagnostic::key(
                    Kind::InvalidId {
                        what: "library name",
                        id: name.clone(),
                    },
                    &at,
                ));
            }
            let problem = match (&library.git, &library.path) {
                (Some(_), Some(_)) => Some("a library is `git:` or `path:`, not both"),
                (None, None) => Some("a library needs `git: URL` or `path: FOLDER`"),
                (None, Some(_)) if library.subdirectory.is_some() => {
                    Some("`subdirectory:` goes with `git:`; give `path:` the folder itself")
                }
                _ => None,
            };
            if let Some(message) = problem {
                found.push(Diagnostic::value(
                    Kind::Structure {
                        message: format!("library `{name}`: {message}"),
                    },
                    &at,
                ));
            }
        }
        if found.is_empty() {
            Ok(project)
        } else {
            Err(found)
        }
    }
}

/// A `format_version` this keyflow does not read.
pub(super) fn format_version(version: u32, found: &mut Vec<Diagnostic>) {
    if version != FORMAT_VERSION {
        found.push(Diagnostic::value(
            Kind::Structure {
                message: format!(
                    "`format_version` {version} is not one this keyflow reads (it reads {FORMAT_VERSION}): upgrade keyflow"
                ),
            },
            &YamlPath::root().key("format_version"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::render;

    fn problems(text: &str) -> Vec<String> {
        let source = SourceFile::new("keyflow.yaml", text);
        match ProjectFile::load(&source) {
            Ok(_) => Vec::new(),
            Err(found) => found
                .iter()
                .map(|d| render(d, &source, false).text)
                .collect(),
        }
    }

    #[test]
    fn a_project_file_reads() {
        let source = SourceFile::new(
            "keyflow.yaml",
            "format_version: 1\nlibraries:\n  platform: { git: file:///x, subdirectory: t }\n  local: { path: ../p }\n",
        );
        let project = ProjectFile::load(&source).expect("valid");
        assert_eq!(project.libraries["platform"].describe(), "file:///x (t)");
        assert_eq!(project.libraries["local"].path.as_deref(), Some("../p"));
    }

    #[test]
    fn mistakes_are_reported_at_their_line_and_column() {
        let found = problems("format_version: 1\nlibraries:\n  platform: { git: x, path: y }\n");
        assert!(found[0].contains("keyflow.yaml:3:13"), "{found:?}");
        assert!(found[0].contains("not both"), "{found:?}");
        let found = problems("format_version: 1\nlibraries:\n  platform: { gti: x }\n");
        assert!(found[0].contains("keyflow.yaml:3:15"), "{found:?}");
        assert!(found[0].contains("unknown field `gti`"), "{found:?}");
        let found = problems("format_version: 2\n");
        assert!(found[0].contains("keyflow.yaml:1:17"), "{found:?}");
        let found = problems("format_version: 1\nlibraries: [\n");
        assert!(found[0].contains("yaml-syntax"), "{found:?}");
        let found = problems("libraries: {}\n");
        assert!(found[0].contains("format_version"), "{found:?}");
    }
}
