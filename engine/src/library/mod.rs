//! Template libraries: what a project's `keyflow.yaml` names, what its `keyflow.lock` pins, and how the
//! checker is handed the templates a `uses:` names.
//!
//! The engine never reaches a library itself: the checker asks a [`TemplateSource`] for the template a
//! `uses: platform:tenant/rotate-key@^1.2` names, and the CLI gives it one built from the lock and the
//! local copies of the libraries ([`Locked`]), which refuses a template whose files no longer match the
//! hashes the lock recorded. Resolving ranges and fetching libraries is the CLI's (`keyflow lock`); what
//! is pure — the two file formats, version ranges, interfaces and their changes, hashes — lives here so it
//! can be tested on its own.

pub mod digest;
pub mod interface;
pub mod lock;
mod locked;
pub mod project;
mod source;
pub mod uses;

pub use interface::{Change, Interface};
pub use lock::{LockFile, LockedTemplate};
pub use locked::Locked;
pub use project::{Library, ProjectFile};
pub use source::{Found, LibraryScope, NoLibraries, SourceError, TemplateSource};
pub use uses::{LibraryUse, parse_version};

/// The version of the `keyflow.yaml` and `keyflow.lock` formats this keyflow reads and writes.
pub const FORMAT_VERSION: u32 = 1;
