//! Durations as operators write them: `500ms`, `30s`, `5m`, `1h`, `1m30s`.

use std::fmt;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written as a string of number–unit pairs: `500ms`, `30s`, `5m`, `1h`, `1m30s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationSpec(pub Duration);

impl DurationSpec {
    /// Parses `500ms`, `30s`, `5m`, `1h`, `2d` and sums like `1m30s`.
    pub fn parse(text: &str) -> Result<DurationSpec, DurationError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DurationError::Empty);
        }
        let mut total = Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(DurationError::NotADuration { text: text.into() });
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| DurationError::TooLarge { text: text.into() })?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let part = match unit {
                "ms" => Duration::from_millis(number),
                "s" => Duration::from_secs(number),
                "m" => Duration::from_secs(number.saturating_mul(60)),
                "h" => Duration::from_secs(number.saturating_mul(3600)),
                "d" => Duration::from_secs(number.saturating_mul(86_400)),
                "" => {
                    return Err(DurationError::NoUnit {
                        text: text.into(),
                        number,
                    });
                }
                other => {
                    return Err(DurationError::UnknownUnit {
                        text: text.into(),
                        unit: other.into(),
                    });
                }
            };
            total = total.saturating_add(part);
        }
        Ok(DurationSpec(total))
    }
}

/// A duration that does not parse; the message says how to write one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing was written.
    #[error("empty duration; write it like `30s`, `500ms`, `5m` or `1h`")]
    Empty,
    /// The text does not start with a number.
    #[error("`{text}` is not a duration; write it like `30s`, `500ms`, `5m` or `1h`")]
    NotADuration {
        /// The text.
        text: String,
    },
    /// A number does not fit.
    #[error("`{text}` has a number too large")]
    TooLarge {
        /// The text.
        text: String,
    },
    /// A number has no unit.
    #[error("`{text}` needs a unit: `ms`, `s`, `m`, `h` or `d` (for example `{number}s`)")]
    NoUnit {
        /// The text.
        text: String,
        /// The number without a unit.
        number: u64,
    },
    /// A unit is not one of `ms`, `s`, `m`, `h`, `d`.
    #[error("unknown unit `{unit}` in `{text}`; use `ms`, `s`, `m`, `h` or `d`")]
    UnknownUnit {
        /// The text.
        text: String,
        /// The unit.
        unit: String,
    },
}

impl fmt::Display for DurationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if !ms.is_multiple_of(1000) || ms == 0 {
            write!(f, "{ms}ms")
        } else if ms.is_multiple_of(3_600_000) {
            write!(f, "{}h", ms / 3_600_000)
        } else if ms.is_multiple_of(60_000) {
            write!(f, "{}m", ms / 60_000)
        } else {
            write!(f, "{}s", ms / 1000)
        }
    }
}

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let text = String::deserialize(de)?;
        DurationSpec::parse(&text).map_err(D::Error::custom)
    }
}

impl Serialize for DurationSpec {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&self.to_string())
    }
}

impl JsonSchema for DurationSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: `500ms`, `30s`, `5m`, `1h`, or a sum such as `1m30s`.",
            "type": "string",
            "pattern": "^([0-9]+(ms|s|m|h|d))+$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_sums() {
        let ms = |t: &str| DurationSpec::parse(t).map(|d| d.0.as_millis());
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("30s"), Ok(30_000));
        assert_eq!(ms("5m"), Ok(300_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("1m30s"), Ok(90_000));
        assert!(ms("30").unwrap_err().to_string().contains("needs a unit"));
        assert!(ms("3 weeks").is_err());
        assert_eq!(ms(""), Err(DurationError::Empty));
        assert!(
            ms("10y")
                .unwrap_err()
                .to_string()
                .contains("unknown unit `y`")
        );
    }

    #[test]
    fn displays_in_the_largest_whole_unit() {
        let show = |t: &str| DurationSpec::parse(t).expect(t).to_string();
        assert_eq!(show("90s"), "90s");
        assert_eq!(show("120s"), "2m");
        assert_eq!(show("1500ms"), "1500ms");
        assert_eq!(show("2h"), "2h");
    }
}
