//! Reading the files a flow names — the flow itself, its `uses:` templates, `core.render` documents —
//! with the same two guards everywhere: only a regular file (a FIFO would block forever, `/dev/zero` would
//! read until memory runs out), and at most [`MAX_FILE_SIZE`] bytes.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest file read as a flow, a template or a document: far above any real flow (the largest
/// example is a few kilobytes), far below what would strain memory.
pub const MAX_FILE_SIZE: u64 = 16 << 20;

/// Why a file could not be read. Messages name the file and never quote its contents.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read `{}`: {kind}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong, as the OS says it (`not found`, `permission denied`).
        kind: std::io::ErrorKind,
    },
    /// The path names something other than a regular file.
    #[error("`{}` is {what}, not a regular file", path.display())]
    NotAFile {
        /// The file.
        path: PathBuf,
        /// What it is: `a directory`, `a FIFO`, `a device`…
        what: &'static str,
    },
    /// The file is larger than [`MAX_FILE_SIZE`].
    #[error("`{}` is larger than {} MiB, the most keyflow reads from one file", path.display(), MAX_FILE_SIZE >> 20)]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The file is not UTF-8 text.
    #[error("`{}` is not UTF-8 text", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
    },
}

/// Reads a text file after checking that it is a regular file (following symlinks) of at most
/// [`MAX_FILE_SIZE`] bytes.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let io = |e: std::io::Error| ReadError::Io {
        path: path.to_path_buf(),
        kind: e.kind(),
    };
    // Checked before opening: opening a FIFO for reading blocks until something writes to it.
    regular(path, &std::fs::metadata(path).map_err(io)?)?;
    let file = std::fs::File::open(path).map_err(io)?;
    // Checked again on what was opened, in case the path changed in between.
    regular(path, &file.metadata().map_err(io)?)?;
    read_capped(file, path)
}

/// Reads at most [`MAX_FILE_SIZE`] bytes of UTF-8 text from `reader` (standard input, say), naming it
/// `name` in errors.
pub fn read_capped(reader: impl Read, name: &Path) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io {
            path: name.to_path_buf(),
            kind: e.kind(),
        })?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(ReadError::TooLarge {
            path: name.to_path_buf(),
        });
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotText {
        path: name.to_path_buf(),
    })
}

fn regular(path: &Path, metadata: &std::fs::Metadata) -> Result<(), ReadError> {
    let kind = metadata.file_type();
    if kind.is_file() {
        if metadata.len() > MAX_FILE_SIZE {
            return Err(ReadError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        return Ok(());
    }
    Err(ReadError::NotAFile {
        path: path.to_path_buf(),
        what: describe(&kind),
    })
}

#[cfg(unix)]
fn describe(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn describe(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("keyflow-read-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn regular_files_are_read_and_others_refused() {
        let dir = temp("kinds");
        std::fs::write(dir.join("f.yaml"), "name: x\n").expect("write");
        assert_eq!(read_text(&dir.join("f.yaml")).expect("read"), "name: x\n");
        let error = read_text(&dir).expect_err("a directory");
        assert!(matches!(
            error,
            ReadError::NotAFile {
                what: "a directory",
                ..
            }
        ));
        #[cfg(unix)]
        {
            let error = read_text(Path::new("/dev/zero")).expect_err("a device");
            assert_eq!(
                error.to_string(),
                "`/dev/zero` is a device, not a regular file"
            );
        }
        let error = read_text(&dir.join("absent.yaml")).expect_err("absent");
        assert!(
            error
                .to_string()
                .ends_with("absent.yaml`: entity not found"),
            "{error}"
        );
        std::fs::write(dir.join("bin"), [0xff, 0xfe, 0]).expect("write");
        assert!(matches!(
            read_text(&dir.join("bin")),
            Err(ReadError::NotText { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = temp("fifo");
        let fifo = dir.join("pipe.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let error = read_text(&fifo).expect_err("a FIFO");
        assert!(
            error.to_string().contains("is a FIFO, not a regular file"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn files_over_the_cap_are_refused() {
        let dir = temp("large");
        let file = std::fs::File::create(dir.join("big.yaml")).expect("create");
        file.set_len(MAX_FILE_SIZE + 1).expect("sparse file");
        let error = read_text(&dir.join("big.yaml")).expect_err("too large");
        assert!(error.to_string().contains("larger than 16 MiB"), "{error}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
