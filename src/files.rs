//! Reading a file the user named, through the engine's one reader ([`keyflow_engine::source::read_text`]:
//! only a regular file, at most 16 MiB of UTF-8 text), with each failure classed for its exit code.

use std::io::Read;
use std::path::Path;

use anyhow::anyhow;
use keyflow_engine::source::{ReadError, read_capped, read_text};

use crate::exit::Failure;

/// Reads a file the user named. A path that does not exist, is not a regular file, is too large or is not
/// text is a bad argument (exit 2); one that exists but cannot be read is the environment's failure.
pub fn read(path: &Path, what: &str) -> Result<String, Failure> {
    read_text(path).map_err(|e| failure(e, what))
}

/// Reads at most 16 MiB of UTF-8 text from `reader` (standard input), naming it `name`.
pub fn capped(reader: impl Read, what: &str, name: &str) -> Result<String, Failure> {
    read_capped(reader, Path::new(name)).map_err(|e| failure(e, what))
}

fn failure(error: ReadError, what: &str) -> Failure {
    match error {
        ReadError::Io {
            path,
            kind: std::io::ErrorKind::NotFound,
        } => Failure::invalid(anyhow!(
            "cannot read {what} `{}`: no such file",
            path.display()
        )),
        ReadError::Io { path, kind } => {
            Failure::environment(anyhow!("cannot read {what} `{}`: {kind}", path.display()))
        }
        other => Failure::invalid(anyhow!("cannot read {what}: {other}")),
    }
}
