//! Fire times of triggers: from a checked trigger and an instant, the next fire times, and the firings due
//! between two instants under the trigger's catch-up policy.
//!
//! Pure functions of their inputs: the clock is a parameter, so the daemon passes its own and tests pass
//! theirs. Cron expressions match wall-clock times in the trigger's IANA zone; a wall-clock time the zone
//! skips (clocks going forward) fires once at the first instant after the gap, and one the zone repeats
//! (clocks going back) fires once, the first time it happens. Nothing here knows the executor or the store.

mod catch_up;
mod cron;
mod fire;
#[cfg(test)]
mod tests;

use std::time::Duration;

use chrono_tz::Tz;
use indexmap::IndexMap;
use serde_json::Value;

pub use catch_up::{Firing, ON_TIME, due};
pub use cron::{CronError, CronExpr, FIELDS_HELP};
pub use fire::{next_after, upcoming};

use crate::model::{CatchUp, Overlap};

/// A trigger, checked: its expression parsed, its zone found, its params fit the flow's.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// Its id: the one written, else its index in `triggers:`.
    pub id: String,
    /// When it fires, in `zone`.
    pub cron: CronExpr,
    /// The zone the expression is read in.
    pub zone: Tz,
    /// The params given to its runs (the flow's defaults fill in the rest).
    pub params: IndexMap<String, Value>,
    /// What a firing does while the previous run still goes.
    pub overlap: Overlap,
    /// Which missed firings run.
    pub catch_up: CatchUp,
    /// How old a missed firing may be and still run; `None`: any age.
    pub catch_up_window: Option<Duration>,
    /// Whether it fires.
    pub enabled: bool,
    /// Pause after this many failed runs in a row.
    pub pause_after_failures: Option<u32>,
    /// Whether its runs may run the destructive steps the flow confirms.
    pub allow_destructive: bool,
}

/// The zone named `name` in the IANA database (`Europe/Berlin`, `UTC`), spelt exactly.
pub fn zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// Every zone name the database knows, for suggestions.
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}
