//! The firings due between the last one handled and now, under the trigger's catch-up policy.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::Trigger;
use super::fire::{last_at_or_before, next_after};
use crate::model::CatchUp;

/// A firing found at most this long after its time is on time; an older one was missed (the daemon was
/// down, or busy for that long).
pub const ON_TIME: Duration = Duration::from_secs(60);

/// One firing of a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Firing {
    /// Its fire time.
    pub at: DateTime<Utc>,
    /// Whether it is caught up: its time passed more than [`ON_TIME`] before `now`, or a later fire time
    /// passed too.
    pub missed: bool,
}

/// The firings of `trigger` to start at `now`, oldest first, given that every fire time up to
/// `last_fired` was handled (fired, skipped or given up): of the fire times in `(last_fired, now]`, the
/// last one when it is on time, and the missed ones the catch-up policy keeps — `none`: none, `latest`:
/// the last one within `catch_up_window`, `all`: every one within it. Whether the trigger is enabled is
/// the caller's business.
pub fn due(trigger: &Trigger, last_fired: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Firing> {
    let Some(latest) = last_at_or_before(trigger, now).filter(|at| *at > last_fired) else {
        return Vec::new();
    };
    let on_time = now - latest <= delta(ON_TIME);
    let in_window = |at: DateTime<Utc>| {
        trigger
            .catch_up_window
            .is_none_or(|window| now - at <= delta(window))
    };
    match trigger.catch_up {
        CatchUp::None if on_time => vec![Firing {
            at: latest,
            missed: false,
        }],
        CatchUp::None => Vec::new(),
        CatchUp::Latest if on_time || in_window(latest) => vec![Firing {
            at: latest,
            missed: !on_time,
        }],
        CatchUp::Latest => Vec::new(),
        CatchUp::All => {
            let start = match trigger.catch_up_window {
                Some(window) => now
                    .checked_sub_signed(delta(window) + TimeDelta::seconds(1))
                    .map_or(last_fired, |start| start.max(last_fired)),
                None => last_fired,
            };
            let mut firings = Vec::new();
            let mut after = start;
            while let Some(at) = next_after(trigger, after).filter(|at| *at <= now) {
                if at > last_fired && (in_window(at) || (at == latest && on_time)) {
                    firings.push(Firing {
                        at,
                        missed: !(at == latest && on_time),
                    });
                }
                after = at;
            }
            firings
        }
    }
}

/// A duration as chrono counts, at most ten thousand years (so that arithmetic on it cannot overflow).
fn delta(duration: Duration) -> TimeDelta {
    let cap = TimeDelta::days(3_652_500);
    TimeDelta::from_std(duration).map_or(cap, |d| d.min(cap))
}
