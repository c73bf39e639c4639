//! Reading a file the user named: what is not a regular file is refused before it is opened (a FIFO would
//! block the command forever, `/dev/zero` would fill the memory), and at most [`MAX_BYTES`] are read.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::anyhow;

use crate::exit::{Failure, ResultExt};

/// The most keyflow reads from one file or from standard input: 16 MiB, far above any flow or parameter
/// (the largest shipped flow is a few KiB) and far below what would strain the machine.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a file the user named: a regular file of at most [`MAX_BYTES`] of UTF-8 text. A path that does
/// not exist or is not a regular file is a bad argument (exit 2); one that exists but cannot be read is the
/// environment's failure.
pub fn read(path: &Path, what: &str) -> Result<String, Failure> {
    let shown = path.display();
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::invalid(anyhow!(
                "cannot read {what} `{shown}`: no such file"
            )));
        }
        Err(error) => {
            return Err(Failure::environment(
                anyhow::Error::new(error).context(format!("cannot read {what} `{shown}`")),
            ));
        }
    };
    if !metadata.is_file() {
        return Err(Failure::invalid(anyhow!(
            "cannot read {what} `{shown}`: it is {}, not a regular file",
            kind(&metadata.file_type())
        )));
    }
    if metadata.len() > MAX_BYTES {
        return Err(too_large(what, &shown.to_string()));
    }
    let file = File::open(path)
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot read {what} `{shown}`")))
        .environment()?;
    capped(file, what, &shown.to_string())
}

/// Reads at most [`MAX_BYTES`] of UTF-8 text.
pub fn capped(reader: impl Read, what: &str, name: &str) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot read {what} `{name}`")))
        .environment()?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(too_large(what, name));
    }
    String::from_utf8(bytes)
        .map_err(|_| anyhow!("cannot read {what} `{name}`: it is not UTF-8 text"))
        .invalid()
}

fn too_large(what: &str, name: &str) -> Failure {
    Failure::invalid(anyhow!(
        "cannot read {what} `{name}`: it is larger than {} MiB, the most keyflow reads from one file",
        MAX_BYTES / (1024 * 1024)
    ))
}

/// What a file that is not a regular one is, in words.
fn kind(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else {
        "something else"
    }
}
