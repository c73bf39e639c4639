//! `--state FILE`: what both twins hold, kept between runs so that a rotation can be rehearsed after an
//! onboarding. The file holds the sandbox's throwaway key material; it is written readable by its owner
//! only, and is never a place for real secrets.

use std::path::Path;

use anyhow::Context;
use keyflow_blocks::aws_kms::emulator::KmsState;
use keyflow_blocks::qlik_cloud::emulator::SavedState;
use serde::{Deserialize, Serialize};

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
    pub fn read(path: &Path) -> anyhow::Result<Option<SavedSandbox>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("reading the state file `{}`", path.display()));
            }
        };
        let file: File = serde_json::from_str(&text).with_context(|| {
            format!(
                "`{}` is not a keyflow sandbox state file (remove it to start afresh)",
                path.display()
            )
        })?;
        if file.keyflow_sandbox_state != VERSION {
            anyhow::bail!(
                "`{}` is a sandbox state file of version {}, this keyflow reads version {VERSION}",
                path.display(),
                file.keyflow_sandbox_state
            );
        }
        Ok(Some(file.state))
    }

    /// Writes the state to `path` (owner-only on Unix), through a temporary file so that a crash never
    /// leaves half a file.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let file = File {
            keyflow_sandbox_state: VERSION,
            state: self.clone(),
        };
        let text = serde_json::to_string_pretty(&file)?;
        let partial = path.with_extension("partial");
        write_private(&partial, text.as_bytes())
            .and_then(|()| std::fs::rename(&partial, path))
            .with_context(|| format!("writing the state file `{}`", path.display()))
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
