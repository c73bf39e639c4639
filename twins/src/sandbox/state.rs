//! `--state FILE`: what both twins hold, kept between runs so that a rotation can be rehearsed after an
//! onboarding. The file holds the sandbox's throwaway key material; it is written readable by its owner
//! only, and is never a place for real secrets.

use std::path::Path;

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

#[derive(Serialize, Deserialize)]
struct File {
    keyflow_sandbox_state: u32,
    #[serde(flatten)]
    state: SavedSandbox,
}

impl SavedSandbox {
    /// Reads `path`; `None` when it does not exist yet (the first run creates it).
    pub fn read(path: &Path) -> Result<Option<SavedSandbox>, SandboxError> {
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
    pub fn write(&self, path: &Path) -> Result<(), SandboxError> {
        let file = File {
            keyflow_sandbox_state: VERSION,
            state: self.clone(),
        };
        let partial = path.with_extension("partial");
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
