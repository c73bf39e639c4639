//! keyflow's plugin host: connector plugins — separate executables speaking `keyflow-plugin/1` — in the
//! same registry as the built-in blocks.
//!
//! It lives outside the engine because it starts processes: the engine's block SDK only defines what a
//! block described at run time is ([`keyflow_engine::block::DynamicBlock`]); this crate implements it with
//! a process per plugin. [`record`] is the committed record of installed plugins (what `validate` reads),
//! [`Host`] registers their blocks and runs their processes, [`describe`] checks what a plugin describes,
//! [`add`] describes an executable for `keyflow plugin add|update`, [`diff`] says what an update changes,
//! [`twin`] starts a plugin's sandbox twin.

pub mod add;
pub mod describe;
pub mod diff;
mod host;
pub mod process;
pub mod record;
pub mod twin;

use std::io::Read;
use std::path::Path;

pub use host::{Host, NO_TWIN, verify};
pub use process::Graces;
pub use record::{PluginRecord, Project, RecordError};

/// The SHA-256 of a file, in lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        context.update(&buffer[..read]);
    }
    Ok(context
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
