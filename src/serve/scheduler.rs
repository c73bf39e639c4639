//! Fires triggers: for each trigger of the flows served, waits for its next fire time, then offers the
//! firings due (under its catch-up policy) to the store, which records each fire time once whichever
//! daemon offers it first. The runner then takes them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use keyflow_engine::schedule::{Trigger, due, next_after};
use keyflow_store::{FiringStatus, Offer, TriggerState};

use super::Daemon;
use super::catalog::Catalog;

/// The longest the scheduler sleeps: it looks at the catalog again this often.
const LONGEST_SLEEP: Duration = Duration::from_secs(5);

/// How many missed fire times are counted at most after a long downtime.
const COUNT_MISSED_UP_TO: usize = 10_000;

/// What the scheduler knows of one trigger.
struct Known {
    /// Its expression and zone, as registered.
    schedule: String,
    /// The store's record, as last read or written.
    state: TriggerState,
    /// Its next fire time after the last one handled.
    next: Option<DateTime<Utc>>,
}

pub async fn run(daemon: Arc<Daemon>) {
    let mut known: HashMap<(String, String), Known> = HashMap::new();
    let mut seen: Option<Arc<Catalog>> = None;
    loop {
        if daemon.stopping.is_cancelled() {
            return;
        }
        let catalog = daemon.catalog();
        if seen.as_ref().is_none_or(|s| !Arc::ptr_eq(s, &catalog)) {
            register(&daemon, &catalog, &mut known).await;
            seen = Some(catalog.clone());
        }
        let mut fired = false;
        for ((flow, id), entry) in known.iter_mut() {
            let now = Utc::now();
            if entry.next.is_none_or(|next| next > now) {
                continue;
            }
            let Some(trigger) = catalog
                .flows
                .get(flow)
                .and_then(|f| f.plan.triggers.iter().find(|t| &t.id == id))
            else {
                continue;
            };
            fired |= fire(&daemon, flow, trigger, entry, now).await;
        }
        if fired {
            daemon.wake.notify_one();
        }
        let wait = known
            .values()
            .filter_map(|k| k.next)
            .min()
            .map_or(LONGEST_SLEEP, |next| {
                (next - Utc::now()).to_std().unwrap_or(Duration::ZERO)
            })
            .min(LONGEST_SLEEP);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = daemon.stopping.cancelled() => return,
        }
    }
}

/// Records the triggers of a newly loaded catalog in the store (a new or changed schedule starts from
/// now), and forgets those no longer served.
async fn register(
    daemon: &Daemon,
    catalog: &Catalog,
    known: &mut HashMap<(String, String), Known>,
) {
    known.retain(|(flow, id), _| {
        catalog
            .flows
            .get(flow)
            .is_some_and(|f| f.plan.triggers.iter().any(|t| &t.id == id))
    });
    for (name, flow) in &catalog.flows {
        for trigger in &flow.plan.triggers {
            let key = (name.clone(), trigger.id.clone());
            let schedule = format!("{} {}", trigger.cron, trigger.zone.name());
            if known.get(&key).is_some_and(|k| k.schedule == schedule) {
                continue;
            }
            match daemon
                .store
                .register_trigger(name, &trigger.id, &schedule)
                .await
            {
                Ok(state) => {
                    let next = next_fire(trigger, &state);
                    known.insert(
                        key,
                        Known {
                            schedule,
                            state,
                            next,
                        },
                    );
                }
                Err(e) => daemon.warn(format_args!(
                    "trigger `{}` of `{name}` is not scheduled: {e}",
                    trigger.id
                )),
            }
        }
    }
}

/// The next fire time after the last one the store says was handled.
fn next_fire(trigger: &Trigger, state: &TriggerState) -> Option<DateTime<Utc>> {
    let last = DateTime::from_timestamp_millis(state.last_fire_ms).unwrap_or_default();
    next_after(trigger, last)
}

/// Offers the firings of `trigger` due at `now`. Whether any was recorded to run.
async fn fire(
    daemon: &Daemon,
    flow: &str,
    trigger: &Trigger,
    known: &mut Known,
    now: DateTime<Utc>,
) -> bool {
    let last = DateTime::from_timestamp_millis(known.state.last_fire_ms).unwrap_or_default();
    let firings = if trigger.enabled {
        due(trigger, last, now)
    } else {
        Vec::new()
    };
    let missed = if trigger.enabled {
        missed(trigger, last, now).saturating_sub(firings.len())
    } else {
        0
    };
    let params = serde_json::Value::Object(
        trigger
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );
    let offer = Offer {
        flow,
        trigger: &trigger.id,
        seen_last_ms: known.state.last_fire_ms,
        now_ms: now.timestamp_millis(),
        fire: firings
            .iter()
            .map(|f| (f.at.timestamp_millis(), f.missed))
            .collect(),
        params: &params,
        allow_destructive: trigger.allow_destructive,
        overlap: trigger.overlap,
    };
    let made = match daemon.store.offer(&offer).await {
        Ok(made) => made,
        Err(e) => {
            daemon.warn(format_args!(
                "trigger `{}` of `{flow}` could not fire: {e}; trying again",
                trigger.id
            ));
            // Not at once: the store may be down for a while.
            known.next = Some(now + chrono::TimeDelta::seconds(1));
            return false;
        }
    };
    if made.is_empty() && !firings.is_empty() {
        // Another daemon handled it first (or the store's record moved): read it again.
        if let Ok(Some(state)) = daemon.store.trigger_state(flow, &trigger.id).await {
            known.next = next_fire(trigger, &state);
            known.state = state;
        }
        return false;
    }
    known.state.last_fire_ms = now.timestamp_millis();
    known.next = next_after(trigger, now);
    if missed > 0 {
        daemon.metrics.missed(flow, &trigger.id, missed as u64);
        daemon.log(format_args!(
            "trigger `{}` of `{flow}` missed {missed} fire time{} while no daemon ran it (catch_up: {})",
            trigger.id,
            if missed == 1 { "" } else { "s" },
            trigger.catch_up.name()
        ));
    }
    let mut started = false;
    for firing in &made {
        daemon
            .metrics
            .firing(flow, Some(&trigger.id), firing.status);
        let what = match firing.status {
            FiringStatus::Pending => {
                started = true;
                "fired".to_string()
            }
            FiringStatus::Queued => "queued behind the run under way".to_string(),
            FiringStatus::Skipped => format!(
                "skipped: {}",
                firing.reason.as_deref().unwrap_or("no reason recorded")
            ),
            other => other.name().to_string(),
        };
        daemon.log(format_args!(
            "`{flow}` trigger `{}` at {}{}: {what} (run {})",
            trigger.id,
            firing.fire_at,
            if firing.missed { ", caught up" } else { "" },
            firing.run_id
        ));
    }
    started
}

/// How many fire times of `trigger` lie in `(last, now]` (up to [`COUNT_MISSED_UP_TO`]).
fn missed(trigger: &Trigger, last: DateTime<Utc>, now: DateTime<Utc>) -> usize {
    let mut n = 0;
    let mut after = last;
    while n < COUNT_MISSED_UP_TO {
        match next_after(trigger, after) {
            Some(at) if at <= now => {
                n += 1;
                after = at;
            }
            _ => break,
        }
    }
    n
}
