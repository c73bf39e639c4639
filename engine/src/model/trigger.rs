//! Triggers: `triggers: [{ cron: "0 3 1 * *", timezone: Europe/Berlin }]`, the schedules on which the flow
//! runs by itself under `keyflow serve`. Kept as written; [`crate::validate`] parses the expression and the
//! zone and checks `params` against the flow's, and [`crate::schedule`] computes the fire times.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::DurationSpec;

/// A schedule on which the flow runs by itself (`keyflow serve`; `keyflow schedule list` shows the next
/// fire times).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Identifier of the trigger, unique in the flow (letters, digits, `-` and `_`); by default its index
    /// in the list (`0`, `1`…). Runs and firings are recorded under it, so keep it when the expression
    /// changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When to fire: a cron expression of 5 fields (minute hour day-of-month month day-of-week) or 6 with
    /// seconds first (second minute hour day-of-month month day-of-week), read in `timezone`. Fields take
    /// `*`, numbers, ranges `1-5`, lists `1,15`, steps `*/15`, names `JAN`–`DEC` and `SUN`–`SAT`.
    pub cron: String,
    /// The IANA time zone the expression is read in (`Europe/Berlin`, `America/New_York`); default `UTC`.
    /// A local time that does not exist (the hour skipped when clocks go forward) fires once at the next
    /// valid instant; a local time that happens twice (clocks go back) fires once, the first time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The run's parameters, checked against the flow's `params` (types, required, unknown names) like
    /// `--param`; parameters left out take their defaults.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub params: IndexMap<String, Value>,
    /// What a firing does while the previous run of this trigger is still going: `skip` it (default),
    /// `queue` it until that run ends, or `cancel_running` to cancel that run and start this one.
    #[serde(default, skip_serializing_if = "Overlap::is_skip")]
    pub overlap: Overlap,
    /// What happens to firings missed while nothing was running them (the daemon was down): `none` runs
    /// none of them, `latest` (default) runs the last one, `all` runs every one, oldest first; only
    /// those within `catch_up_window`.
    #[serde(default, skip_serializing_if = "CatchUp::is_latest")]
    pub catch_up: CatchUp,
    /// How old a missed firing may be and still be caught up (`6h`, `2d`); without it any age counts.
    /// `catch_up: all` needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up_window: Option<DurationSpec>,
    /// Whether the trigger fires (default `true`); `false` keeps it in the file, paused.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// Stop firing after this many runs of the trigger failed in a row, until the trigger is resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub pause_after_failures: Option<u32>,
    /// The schedule is the authorisation for the destructive steps the flow confirms (`confirm: true`),
    /// as `--allow-destructive` is for a run started by hand; without it a scheduled run stops before
    /// them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_destructive: bool,
}

/// What a firing does while the trigger's previous run is still going.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// The firing is skipped (and counted as skipped).
    #[default]
    Skip,
    /// The firing waits until the previous run ends.
    Queue,
    /// The previous run is cancelled and this one starts.
    CancelRunning,
}

impl Overlap {
    fn is_skip(&self) -> bool {
        *self == Overlap::Skip
    }

    /// The name as written in YAML.
    pub fn name(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::Queue => "queue",
            Overlap::CancelRunning => "cancel_running",
        }
    }
}

/// Which missed firings run when the schedule is picked up again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// None of them.
    None,
    /// The most recent one within the window.
    #[default]
    Latest,
    /// Every one within the window, oldest first.
    All,
}

impl CatchUp {
    fn is_latest(&self) -> bool {
        *self == CatchUp::Latest
    }

    /// The name as written in YAML.
    pub fn name(self) -> &'static str {
        match self {
            CatchUp::None => "none",
            CatchUp::Latest => "latest",
            CatchUp::All => "all",
        }
    }
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}
