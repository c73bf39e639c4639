//! Where a store lives: a SQLite file (the default, in the user's data directory) or a PostgreSQL
//! server, chosen by `--store` or `KEYFLOW_STORE`.

use std::fmt;
use std::path::{Path, PathBuf};

use keyflow_engine::exec::store::StoreError;

/// The environment variable that chooses the store when `--store` is not given.
pub const STORE_ENV: &str = "KEYFLOW_STORE";

/// The default store's file name inside keyflow's data folder.
const FILE_NAME: &str = "runs.db";

/// A store's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file (created with its folder on first use).
    Sqlite(PathBuf),
    /// A PostgreSQL database, as a `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl Location {
    /// Reads `--store`'s or `KEYFLOW_STORE`'s value: a `postgres://` / `postgresql://` URL, or a file path
    /// (a `sqlite://` prefix is accepted and dropped).
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_string())
        } else {
            let path = text
                .strip_prefix("sqlite://")
                .or_else(|| text.strip_prefix("sqlite:"))
                .unwrap_or(text);
            Location::Sqlite(PathBuf::from(path))
        }
    }

    /// The store to use: `given` (`--store`), else `KEYFLOW_STORE`, else the default file.
    pub fn choose(given: Option<&str>) -> Result<Location, StoreError> {
        if let Some(given) = given.filter(|g| !g.is_empty()) {
            return Ok(Location::parse(given));
        }
        match std::env::var(STORE_ENV) {
            Ok(value) if !value.is_empty() => Ok(Location::parse(&value)),
            _ => Location::default_file(),
        }
    }

    /// `runs.db` in keyflow's folder of the user's data directory: `$XDG_DATA_HOME/keyflow`, else
    /// `~/.local/share/keyflow` on Linux and other Unix systems, `~/Library/Application Support/keyflow`
    /// on macOS, `%APPDATA%\keyflow` on Windows.
    pub fn default_file() -> Result<Location, StoreError> {
        data_dir()
            .map(|dir| Location::Sqlite(dir.join("keyflow").join(FILE_NAME)))
            .ok_or_else(|| {
                StoreError::Unavailable(format!(
                    "no data directory to keep the run store in (neither XDG_DATA_HOME nor HOME is set): set {STORE_ENV} or pass --store PATH"
                ))
            })
    }
}

/// The platform's per-user data directory, read from the environment by hand (the rules are short and
/// a crate for them would add a dependency for three lines).
fn data_dir() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        return var("APPDATA");
    }
    if cfg!(target_os = "macos") {
        return var("HOME").map(|home| home.join("Library").join("Application Support"));
    }
    var("XDG_DATA_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|home| home.join(".local").join("share")))
}

impl fmt::Display for Location {
    /// The location as shown to people: a PostgreSQL URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The URL sqlx opens a SQLite file with: created when missing, the path percent-encoded where a URL
/// would read it otherwise (`%`, `?`, `#`).
pub(crate) fn sqlite_url(path: &Path) -> String {
    let mut encoded = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3F"),
            '#' => encoded.push_str("%23"),
            c => encoded.push(c),
        }
    }
    format!("sqlite://{encoded}?mode=rwc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert_eq!(
            Location::parse("postgres://u@h/db"),
            Location::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            Location::parse("postgresql://h/db"),
            Location::Postgres("postgresql://h/db".into())
        );
        assert_eq!(
            Location::parse("runs.db"),
            Location::Sqlite(PathBuf::from("runs.db"))
        );
        assert_eq!(
            Location::parse("sqlite:///tmp/x.db"),
            Location::Sqlite(PathBuf::from("/tmp/x.db"))
        );
    }

    #[test]
    fn a_password_is_never_shown() {
        let shown = Location::parse("postgres://kf:hunter2@db.example:5432/runs?sslmode=require")
            .to_string();
        assert_eq!(
            shown,
            "postgres://kf:***@db.example:5432/runs?sslmode=require"
        );
        assert_eq!(
            Location::parse("postgres://kf@db/runs").to_string(),
            "postgres://kf@db/runs"
        );
    }

    #[test]
    fn odd_file_names_survive_the_url() {
        assert_eq!(
            sqlite_url(Path::new("/tmp/a?b#c%d.db")),
            "sqlite:///tmp/a%3Fb%23c%25d.db?mode=rwc"
        );
    }
}
