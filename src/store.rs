//! Choosing and opening the run store from the command line (`--store`, `KEYFLOW_STORE`, else the file in
//! the user's data directory), and reading the ages the `runs` commands take (`7d`, `90d`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use keyflow_store::{Location, Store};

/// Where runs are recorded.
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// The run store: a SQLite file, or a `postgres://` URL [default: runs.db in keyflow's folder of the
    /// user's data directory, `$XDG_DATA_HOME/keyflow/runs.db` or `~/.local/share/keyflow/runs.db`].
    #[arg(
        long = "store",
        value_name = "PATH|URL",
        env = "KEYFLOW_STORE",
        hide_env_values = true
    )]
    pub store: Option<String>,
}

impl StoreArgs {
    /// The store's location as chosen.
    pub fn location(&self) -> anyhow::Result<Location> {
        Ok(Location::choose(self.store.as_deref())?)
    }

    /// Opens (creating and migrating when needed) the chosen store on `runtime`.
    pub fn open(&self, runtime: &tokio::runtime::Runtime) -> anyhow::Result<Arc<Store>> {
        let location = self.location()?;
        let store = runtime
            .block_on(Store::open(&location))
            .with_context(|| format!("cannot open the run store {location}"))?;
        Ok(Arc::new(store))
    }
}

/// An age such as `90d`, `12h`, `30m`, `2w` or `45s`.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not an age: write a number and a unit, such as `90d`"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "`{text}`: the unit is one of s, m, h, d, w (such as `90d`)"
            ));
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(seconds)))
}

/// `--since`: an age (`7d`: since seven days ago) or an RFC 3339 time, as epoch milliseconds.
pub fn parse_since(text: &str) -> Result<i64, String> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.timestamp_millis());
    }
    let age = parse_age(text).map_err(|_| {
        format!(
            "`{text}` is neither an age (`7d`, `12h`) nor an RFC 3339 time (`2026-12-01T00:00:00Z`)"
        )
    })?;
    let age = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
    Ok(chrono::Utc::now().timestamp_millis().saturating_sub(age))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_people_write_them() {
        assert_eq!(parse_age("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_age("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_age("45s"), Ok(Duration::from_secs(45)));
        assert!(parse_age("90").is_err());
        assert!(parse_age("d").is_err());
        assert!(parse_age("3y").is_err());
    }

    #[test]
    fn since_takes_an_age_or_a_time() {
        assert_eq!(parse_since("2026-12-01T00:00:00Z"), Ok(1_796_083_200_000));
        let week = parse_since("7d").unwrap_or_default();
        let expected = chrono::Utc::now().timestamp_millis() - 7 * 86_400_000;
        assert!((expected - week).abs() < 60_000);
        assert!(parse_since("last week").is_err());
    }
}
