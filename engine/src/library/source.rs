//! How the checker is handed the template a `uses: NAME:PATH@RANGE` names. The engine reads no library
//! itself: whoever checks a flow gives it a [`TemplateSource`] (the CLI: one built from `keyflow.lock`),
//! and a `uses: ./x.yaml` beside the flow needs none.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::uses::LibraryUse;

/// Where a library's templates are on disk: what the checker confines their reads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryScope {
    /// The library's name in `keyflow.yaml`.
    pub name: String,
    /// Its root folder (a git library's copy of the locked commit, with its subdirectory; a directory
    /// library's folder). A template's `uses: ./…` and `core.render` files must stay inside it.
    pub root: PathBuf,
}

/// A library template, found and vouched for.
#[derive(Debug, Clone)]
pub struct Found {
    /// The template file.
    pub path: PathBuf,
    /// Its text, as read (and, from a lock, checked against its hash).
    pub text: String,
    /// The library it belongs to.
    pub library: Arc<LibraryScope>,
}

/// Why a template could not be had: reported at the `uses:` that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// What is wrong, naming the template.
    pub message: String,
    /// What to do.
    pub help: Option<String>,
}

/// Gives the checker the templates of libraries.
pub trait TemplateSource: Send + Sync {
    /// The template `uses` (as written, parsed as `wanted`) names.
    fn find(&self, uses: &str, wanted: &LibraryUse) -> Result<Found, SourceError>;

    /// The library whose folder holds the flow file `file`, if any: a flow checked on its own inside a
    /// directory library (`keyflow validate flows/`) reads its relative paths as that library's
    /// templates do, against the library's root.
    fn library_of(&self, file: &Path) -> Option<Arc<LibraryScope>> {
        let _ = file;
        None
    }
}

/// No libraries: a flow with no `keyflow.yaml` at its folder or above.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLibraries;

impl TemplateSource for NoLibraries {
    fn find(&self, uses: &str, wanted: &LibraryUse) -> Result<Found, SourceError> {
        Err(SourceError {
            message: format!(
                "`{uses}` names the library `{}`, but there is no `keyflow.yaml` at the flow's folder or above",
                wanted.library
            ),
            help: Some(
                "name the library in a `keyflow.yaml` (see docs/templates.md), then run `keyflow lock`"
                    .into(),
            ),
        })
    }
}
