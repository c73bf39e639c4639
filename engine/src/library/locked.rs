//! The templates of a project's libraries as `keyflow.lock` pins them: each `uses:` is looked up in the
//! lock, and its template is given to the checker only when every file it reads still has the hash the
//! lock recorded. No network and no resolution: a template missing from the lock, or from this machine,
//! is reported with the command that fetches it.

use std::path::PathBuf;
use std::sync::Arc;

use super::digest;
use super::lock::{LockFile, LockedTemplate};
use super::project::ProjectFile;
use super::source::{Found, LibraryScope, SourceError, TemplateSource};
use super::uses::LibraryUse;
use crate::source::read_text;

/// Where a locked template's library root is on this machine.
pub type RootOf = Box<dyn Fn(&LockedTemplate) -> PathBuf + Send + Sync>;

/// The project's libraries, as its lock pins them.
pub struct Locked {
    project: ProjectFile,
    lock: LockFile,
    root_of: RootOf,
}

impl Locked {
    /// The templates `lock` pins for `project`, whose library roots `root_of` finds.
    pub fn new(project: ProjectFile, lock: LockFile, root_of: RootOf) -> Locked {
        Locked {
            project,
            lock,
            root_of,
        }
    }

    /// Checks that every file of `entry`, under `root`, still has its locked hash.
    pub fn verify(entry: &LockedTemplate, root: &std::path::Path) -> Result<(), SourceError> {
        let changed = |file: &str, why: String| SourceError {
            message: format!(
                "template `{}:{}` {} no longer matches keyflow.lock: `{file}` {why}",
                entry.library, entry.template, entry.version
            ),
            help: Some(format!(
                "keyflow.lock pins what was reviewed; publish a change as a new version and run `keyflow update {}`",
                entry.library
            )),
        };
        for (file, locked) in &entry.files {
            match digest::of_file(&root.join(file)) {
                Ok(hash) if &hash == locked => {}
                Ok(hash) => {
                    return Err(changed(file, format!("has {hash}, the lock says {locked}")));
                }
                Err(e) => return Err(changed(file, format!("cannot be read ({e})"))),
            }
        }
        if digest::of_files(&entry.files) != entry.hash {
            return Err(changed(
                "keyflow.lock",
                "was edited: its files do not add up to its `hash`".into(),
            ));
        }
        Ok(())
    }
}

impl TemplateSource for Locked {
    fn find(&self, uses: &str, wanted: &LibraryUse) -> Result<Found, SourceError> {
        let Some(library) = self.project.libraries.get(&wanted.library) else {
            let known: Vec<String> = self
                .project
                .libraries
                .keys()
                .map(|n| format!("`{n}`"))
                .collect();
            return Err(SourceError {
                message: format!(
                    "`{uses}`: keyflow.yaml names no library `{}`",
                    wanted.library
                ),
                help: Some(if known.is_empty() {
                    "keyflow.yaml names no library yet".into()
                } else {
                    format!("it names {}", known.join(", "))
                }),
            });
        };
        let Some(entry) = self.lock.get(uses) else {
            return Err(SourceError {
                message: format!("`{uses}` is not in keyflow.lock"),
                help: Some(
                    "run `keyflow lock` to resolve it (it keeps what is locked already)".into(),
                ),
            });
        };
        if &entry.source != library {
            return Err(SourceError {
                message: format!(
                    "library `{}` is `{}` in keyflow.yaml but `{}` in keyflow.lock",
                    wanted.library,
                    library.describe(),
                    entry.source.describe()
                ),
                help: Some("run `keyflow lock` to resolve its templates again".into()),
            });
        }
        let root = (self.root_of)(entry);
        if !root.is_dir() {
            let what = entry
                .commit
                .as_deref()
                .map_or_else(|| entry.version.clone(), |c| format!("commit {}", short(c)));
            return Err(SourceError {
                message: format!(
                    "library `{}` ({what}) is not on this machine (`{}`)",
                    wanted.library,
                    root.display()
                ),
                help: Some(
                    "run `keyflow lock`: it fetches what keyflow.lock names without changing it"
                        .into(),
                ),
            });
        }
        Self::verify(entry, &root)?;
        let path = root.join(wanted.file());
        let text = read_text(&path).map_err(|e| SourceError {
            message: format!("cannot read template `{uses}`: {e}"),
            help: None,
        })?;
        Ok(Found {
            path,
            text,
            library: Arc::new(LibraryScope {
                name: wanted.library.clone(),
                root,
            }),
        })
    }
}

/// The first 12 characters of a commit id, as shown.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
