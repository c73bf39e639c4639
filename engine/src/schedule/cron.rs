//! Cron expressions as triggers write them: 5 fields, or 6 with seconds first. Parsed by `croner`; this
//! module fixes the field count, names the field a mistake is in and where it is in the text, and finds
//! the matching wall-clock times (no time zone: [`super::fire`] places them in one).

use std::fmt;
use std::ops::Range;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// The fields of a 5-field expression, in order, with what each takes.
const FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT; 0 and 7 are Sunday"),
];

/// What the fields are, for the help of a mistake.
pub const FIELDS_HELP: &str = "a cron expression is 5 fields: minute (0-59) hour (0-23) day-of-month (1-31) \
month (1-12 or JAN-DEC) day-of-week (0-7 or SUN-SAT), or 6 with a second (0-59) first; each takes `*`, a \
number, a range `1-5`, a list `1,15` or a step `*/15` (`0 3 1 * *`: 03:00 on the first of every month)";

/// Where the search for any match at all starts: 400 years, one whole Gregorian cycle, before croner's
/// search limit (the year 5000).
const PROBE_FROM: NaiveDateTime = match NaiveDate::from_ymd_opt(4600, 1, 1) {
    Some(date) => date.and_time(NaiveTime::MIN),
    None => NaiveDateTime::MIN,
};

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct CronExpr {
    text: String,
    cron: Cron,
    seconds: bool,
}

/// A cron expression that does not parse, or never matches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CronError {
    /// What is wrong.
    pub message: String,
    /// The characters of the expression the mistake is in, when it is one field.
    pub range: Option<Range<usize>>,
}

impl CronExpr {
    /// Parses `text`: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first.
    pub fn parse(text: &str) -> Result<CronExpr, CronError> {
        let fields = fields(text);
        if fields.len() != 5 && fields.len() != 6 {
            let message = match fields.len() {
                0 => "the cron expression is empty".to_string(),
                1 if text.trim().starts_with('@') => {
                    format!("`{}` is not supported: write the 5 fields", text.trim())
                }
                n => format!("the cron expression has {n} fields, not 5 or 6"),
            };
            return Err(CronError {
                message,
                range: None,
            });
        }
        let cron = parser().parse(text).map_err(|error| {
            // Which field: the first one that fails with every other field `*`.
            let culprit = (0..fields.len()).find(|&i| {
                let alone: Vec<&str> = fields
                    .iter()
                    .enumerate()
                    .map(|(j, (_, field))| if i == j { *field } else { "*" })
                    .collect();
                parser().parse(&alone.join(" ")).is_err()
            });
            match culprit {
                Some(i) => {
                    let (at, field) = fields[i];
                    CronError {
                        message: format!(
                            "the {} field `{field}` is not valid ({}): {}",
                            field_name(i, fields.len()),
                            field_range(i, fields.len()),
                            croner_message(&error)
                        ),
                        range: Some(at..at + field.len()),
                    }
                }
                None => CronError {
                    message: croner_message(&error),
                    range: None,
                },
            }
        })?;
        let expr = CronExpr {
            text: text.trim().to_string(),
            cron,
            seconds: fields.len() == 6,
        };
        // A day that never comes (`0 0 30 2 *`) is a mistake, whatever the clock says. The Gregorian
        // calendar repeats every 400 years and croner searches up to the year 5000, so a search from 4600
        // decides it without walking three thousand empty years (which costs a hostile file dearly).
        if expr.next_wall_after(PROBE_FROM).is_none() {
            return Err(CronError {
                message: format!("`{}` never matches a date", expr.text),
                range: None,
            });
        }
        Ok(expr)
    }

    /// Whether the expression has a seconds field.
    pub fn has_seconds(&self) -> bool {
        self.seconds
    }

    /// The first wall-clock time strictly after `wall` that the expression matches.
    pub(super) fn next_wall_after(&self, wall: NaiveDateTime) -> Option<NaiveDateTime> {
        self.cron
            .find_next_occurrence(&wall_clock(wall), false)
            .ok()
            .map(|t| t.naive_utc())
    }

    /// The last wall-clock time strictly before `wall` that the expression matches.
    pub(super) fn previous_wall_before(&self, wall: NaiveDateTime) -> Option<NaiveDateTime> {
        self.cron
            .find_previous_occurrence(&wall_clock(wall), false)
            .ok()
            .map(|t| t.naive_utc())
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A wall-clock time held as UTC, which has no gaps or repeats: croner walks the local calendar with it
/// and [`super::fire`] applies the zone's rules afterwards.
fn wall_clock(wall: NaiveDateTime) -> DateTime<Utc> {
    wall.and_utc()
}

fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
}

/// The fields with their byte offsets.
fn fields(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                found.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        found.push((s, &text[s..]));
    }
    found
}

fn field_name(i: usize, count: usize) -> &'static str {
    match (count, i) {
        (6, 0) => "second",
        (6, i) => FIELDS[i - 1].0,
        (_, i) => FIELDS[i].0,
    }
}

fn field_range(i: usize, count: usize) -> &'static str {
    match (count, i) {
        (6, 0) => "0-59",
        (6, i) => FIELDS[i - 1].1,
        (_, i) => FIELDS[i].1,
    }
}

/// croner's message without its prefix and final period, lowercased: `number out of bounds`.
fn croner_message(error: &croner::errors::CronError) -> String {
    let text = match error {
        croner::errors::CronError::ComponentError(message)
        | croner::errors::CronError::InvalidPattern(message)
        | croner::errors::CronError::IllegalCharacters(message) => message.clone(),
        other => other.to_string(),
    };
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_or_six_fields() {
        assert!(!CronExpr::parse("0 3 1 * *").expect("5").has_seconds());
        assert!(CronExpr::parse("30 0 3 1 * *").expect("6").has_seconds());
        assert!(CronExpr::parse("0 3 1 * MON-FRI").is_ok());
        assert!(CronExpr::parse("*/15 * * JAN,jul *").is_ok());
        for modifiers in [
            "0 3 L * *",
            "0 3 * * 5L",
            "0 3 15W * *",
            "0 3 * * MON#1",
            "0 3 ? * MON",
        ] {
            assert!(CronExpr::parse(modifiers).is_ok(), "{modifiers}");
        }
        let err = CronExpr::parse("0 3 * *").unwrap_err();
        assert_eq!(err.message, "the cron expression has 4 fields, not 5 or 6");
        assert!(
            CronExpr::parse("0 0 3 1 * * 2030").is_err(),
            "no year field"
        );
        assert_eq!(
            CronExpr::parse("  ").unwrap_err().message,
            "the cron expression is empty"
        );
        assert!(
            CronExpr::parse("@daily")
                .unwrap_err()
                .message
                .contains("`@daily` is not supported")
        );
    }

    #[test]
    fn a_bad_field_is_named_and_located() {
        let err = CronExpr::parse("0 25 * * *").unwrap_err();
        assert_eq!(
            err.message,
            "the hour field `25` is not valid (0-23): number out of bounds"
        );
        assert_eq!(err.range, Some(2..4));
        let err = CronExpr::parse("0 0 3 1 * FUNDAY").unwrap_err();
        assert!(
            err.message.starts_with("the day-of-week field `FUNDAY`"),
            "{}",
            err.message
        );
        assert_eq!(err.range, Some(10..16));
        let err = CronExpr::parse("61 0 3 1 * *").unwrap_err();
        assert!(
            err.message.starts_with("the second field `61`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_date_that_never_comes_is_refused() {
        let err = CronExpr::parse("0 0 30 2 *").unwrap_err();
        assert_eq!(err.message, "`0 0 30 2 *` never matches a date");
        assert!(
            CronExpr::parse("0 0 31 4,6 *").is_err(),
            "no 31 April or June"
        );
        // Rare is not never: 29 February on a Monday (`+`: both day fields must match) comes every 28
        // years or so, and 31 December every year.
        assert!(CronExpr::parse("0 0 29 2 +MON").is_ok());
        assert!(CronExpr::parse("0 0 31 * *").is_ok());
    }
}
