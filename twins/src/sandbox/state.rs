//! `--state FILE`: what both twins hold, kept between runs so that a rotation can be rehearsed after an
//! onboarding. The file holds the sandbox's throwaway key material; it is written readable by its owner
//! only, and is never a place for real secrets.
//!
//! One sandbox at a time owns a state file ([`StateFile`]): it locks `FILE.lock` beside it for its whole
//! life, so a second keyflow given the same file waits for the first to finish instead of overwriting
//! what the first made. The file is written whole, through `FILE.partial` and a rename, so that a reader
//! or a crash never sees half a file.

use std::fs::TryLockError;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::SandboxError;
use crate::aws_kms::KmsState;
use crate::qlik_cloud::SavedState;

/// The format's version: a file of another version is refused, not misread.
const VERSION: u32 = 1;

/// Both twins' state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SavedSandbox {
    /// The seeded tenant's region.
    pub tenant_region: String,
    /// The KMS twin's keys, aliases and policies.
    pub kms: KmsState,
    /// The Qlik twin's providers and migrations.
    pub qlik: SavedState,
}

#[derive(Deserialize)]
struct File {
    keyflow_sandbox_state: u32,
    #[serde(flatten)]
    state: SavedSandbox,
}

#[derive(Serialize)]
struct FileRef<'a> {
    keyflow_sandbox_state: u32,
    #[serde(flatten)]
    state: &'a SavedSandbox,
}

/// A state file this sandbox owns until it is dropped.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    /// `FILE.lock`, locked exclusively while this is alive.
    _lock: std::fs::File,
    /// Writes one at a time, each with the state as it is when its turn comes, so a later write never
    /// loses to an earlier one.
    writing: Mutex<()>,
}

impl StateFile {
    /// Takes the state file `path` for this sandbox; `None` when another keyflow has it. Refused when
    /// its folder does not exist or cannot be written, before anything runs.
    pub fn try_take(path: &Path) -> Result<Option<StateFile>, SandboxError> {
        let lock = open_lock(path)?;
        match lock.try_lock() {
            Ok(()) => Ok(Some(StateFile::held(path, lock))),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(source)) => Err(SandboxError::Lock {
                path: path.into(),
                source,
            }),
        }
    }

    /// Takes the state file `path`, waiting as long as another keyflow has it.
    pub fn take(path: &Path) -> Result<StateFile, SandboxError> {
        let lock = open_lock(path)?;
        lock.lock().map_err(|source| SandboxError::Lock {
            path: path.into(),
            source,
        })?;
        Ok(StateFile::held(path, lock))
    }

    fn held(path: &Path, lock: std::fs::File) -> StateFile {
        StateFile {
            path: path.into(),
            _lock: lock,
            writing: Mutex::new(()),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the file holds; `None` when it does not exist yet (the first run creates it).
    pub fn read(&self) -> Result<Option<SavedSandbox>, SandboxError> {
        SavedSandbox::read(&self.path)
    }

    /// Writes the state `now` gives, taken once this write's turn has come.
    pub fn write(&self, now: impl FnOnce() -> SavedSandbox) -> Result<(), SandboxError> {
        let _turn = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        now().write(&self.path)
    }
}

/// `FILE.lock`, created when missing.
fn open_lock(path: &Path) -> Result<std::fs::File, SandboxError> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(SandboxError::NoFolder { path: path.into() });
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(beside(path, "lock"))
        .map_err(|source| SandboxError::Lock {
            path: path.into(),
            source,
        })
}

/// `FILE.<extension>` beside `path` (`state.json` → `state.json.lock`).
fn beside(path: &Path, extension: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

impl SavedSandbox {
    /// Reads `path`; `None` when it does not exist yet (the first run creates it).
    fn read(path: &Path) -> Result<Option<SavedSandbox>, SandboxError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(SandboxError::Read {
                    path: path.into(),
                    source,
                });
            }
        };
        let file: File = serde_json::from_str(&text).map_err(|source| SandboxError::NotState {
            path: path.into(),
            source,
        })?;
        if file.keyflow_sandbox_state != VERSION {
            return Err(SandboxError::Version {
                path: path.into(),
                found: file.keyflow_sandbox_state,
                reads: VERSION,
            });
        }
        Ok(Some(file.state))
    }

    /// Writes the state to `path` (owner-only on Unix), through a temporary file so that a crash never
    /// leaves half a file.
    fn write(&self, path: &Path) -> Result<(), SandboxError> {
        let file = FileRef {
            keyflow_sandbox_state: VERSION,
            state: self,
        };
        let partial = beside(path, "partial");
        serde_json::to_string_pretty(&file)
            .map_err(std::io::Error::other)
            .and_then(|text| write_private(&partial, text.as_bytes()))
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|source| SandboxError::Write {
                path: path.into(),
                source,
            })
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
