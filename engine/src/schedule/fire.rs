//! The next fire times of a trigger: wall-clock matches of its expression, placed in its zone.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use super::Trigger;

/// How many wall-clock matches one search may pass over before it gives up: those in the repeated hour
/// of a fall-back night that already fired (3,600 for an every-second expression), never more in a real
/// zone.
const SEARCH_LIMIT: usize = 100_000;

/// More than the longest stretch of wall-clock time a zone repeats when its clocks go back (two hours,
/// in the database since 1970).
const LONGEST_REPEAT: TimeDelta = TimeDelta::hours(3);

/// The first fire time of `trigger` strictly after `instant`; `None` past year 5000.
pub fn next_after(trigger: &Trigger, instant: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let zone = trigger.zone;
    let mut wall = seconds(instant.with_timezone(&zone).naive_local());
    for _ in 0..SEARCH_LIMIT {
        wall = trigger.cron.next_wall_after(wall)?;
        let at = place(zone, wall)?;
        // Wall-clock times placed in the zone only ever move forward, but a match in the repeated hour
        // places at its first occurrence, which may lie before `instant` (then it fired already).
        if at > instant {
            return Some(at);
        }
    }
    None
}

/// The last fire time of `trigger` at or before `instant`.
pub(super) fn last_at_or_before(
    trigger: &Trigger,
    instant: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let zone = trigger.zone;
    // A wall-clock time up to LONGEST_REPEAT ahead may place before `instant` (it fired in the first
    // pass of a repeated hour); so the search starts there and walks back.
    let mut wall = seconds(instant.with_timezone(&zone).naive_local()) + LONGEST_REPEAT;
    for _ in 0..SEARCH_LIMIT {
        wall = trigger.cron.previous_wall_before(wall)?;
        let at = place(zone, wall)?;
        if at <= instant {
            return Some(at);
        }
    }
    None
}

/// The next `count` fire times after `instant`, in order.
pub fn upcoming(trigger: &Trigger, instant: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
    let mut times = Vec::with_capacity(count);
    let mut after = instant;
    while times.len() < count {
        match next_after(trigger, after) {
            Some(at) => {
                times.push(at);
                after = at;
            }
            None => break,
        }
    }
    times
}

/// The instant a wall-clock time of `zone` fires: itself; the first of the two when the zone repeats it;
/// the first instant after the gap when the zone skips it.
pub(super) fn place(zone: Tz, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => after_gap(zone, wall),
    }
}

/// The first instant after the gap `wall` falls in: the wall-clock time the zone's clocks jumped to.
fn after_gap(zone: Tz, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    let exists = |w: NaiveDateTime| !matches!(zone.from_local_datetime(&w), LocalResult::None);
    // Forward by minutes to a time that exists (a gap is at most a day: Samoa skipped 30 December 2011),
    let mut end = wall;
    let mut steps = 0;
    while !exists(end) {
        end += TimeDelta::minutes(1);
        steps += 1;
        if steps > 24 * 60 + 1 {
            return None;
        }
    }
    // then back by seconds to the first one that does (offsets of old zones have seconds).
    while exists(end - TimeDelta::seconds(1)) && end - TimeDelta::seconds(1) > wall {
        end -= TimeDelta::seconds(1);
    }
    match zone.from_local_datetime(&end) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// Whole seconds: expressions match whole seconds, and the search is strictly after.
fn seconds(wall: NaiveDateTime) -> NaiveDateTime {
    wall.with_nanosecond(0).unwrap_or(wall)
}
