//! How values become columns and back: JSON as text, statuses by name, times as RFC 3339 text and epoch
//! milliseconds, and sqlx's errors as the engine's [`StoreError`].

use keyflow_engine::exec::report::Status;
use keyflow_engine::exec::store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An RFC 3339 time as epoch milliseconds (the executor's times always parse; `0` otherwise, so that a
/// malformed time sorts first instead of failing a record).
pub(crate) fn ms_of(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

/// Epoch milliseconds as RFC 3339, as the executor writes times.
pub(crate) fn rfc3339_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A value as the JSON text a column holds.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Failed(format!("cannot encode a record: {e}")))
}

/// An optional value as JSON text, `NULL` for `None`.
pub(crate) fn json_opt<T: Serialize>(value: Option<&T>) -> Result<Option<String>, StoreError> {
    value.map(json).transpose()
}

/// A column's JSON text read back.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Failed(format!("the stored {what} cannot be read: {e}")))
}

/// An optional column's JSON text read back.
pub(crate) fn parse_opt<T: DeserializeOwned>(
    text: Option<String>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    text.map(|t| parse(&t, what)).transpose()
}

/// A status as stored: its report name.
pub(crate) fn status_name(status: Status) -> &'static str {
    status.name()
}

/// A stored status name read back.
pub(crate) fn status_of(name: &str) -> Result<Status, StoreError> {
    serde_json::from_value(Value::String(name.to_string()))
        .map_err(|_| StoreError::Failed(format!("unknown status `{name}` in the store")))
}

/// An unsigned count as a column (`BIGINT` is signed; counts never come near its end).
pub(crate) fn int(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// A column as an unsigned count.
pub(crate) fn uint<T: TryFrom<i64> + Default>(n: i64) -> T {
    T::try_from(n).unwrap_or_default()
}

/// A sqlx error as the engine's store error, naming the store (`shown`, never a password).
pub(crate) fn db_error(shown: &str, error: &sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Configuration(_) => StoreError::Unavailable(format!("{shown}: {error}")),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite: 26 is "file is not a database"; 14 "unable to open database file".
            match &*code {
                "26" => StoreError::Incompatible(format!(
                    "{shown} is not a SQLite database: choose another store with --store or KEYFLOW_STORE"
                )),
                "14" | "3D000" | "28P01" | "28000" => {
                    StoreError::Unavailable(format!("{shown}: {}", db.message()))
                }
                _ => StoreError::Failed(format!("{shown}: {}", db.message())),
            }
        }
        other => StoreError::Failed(format!("{shown}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let ms = ms_of("2026-12-02T04:00:00.250Z");
        assert_eq!(ms, 1_796_184_000_250);
        assert_eq!(rfc3339_of(ms), "2026-12-02T04:00:00.250Z");
        assert_eq!(ms_of("yesterday"), 0);
    }

    #[test]
    fn statuses_round_trip() {
        for status in [Status::Running, Status::Succeeded, Status::Cancelled] {
            assert_eq!(status_of(status_name(status)).ok(), Some(status));
        }
        assert!(status_of("sleeping").is_err());
    }
}
