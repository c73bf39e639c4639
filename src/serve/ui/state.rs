//! A run's state as its page shows it: the run's status and duration, each step's status and number of
//! calls, and the calls on record. Two readings of the store compared tell what a live update sends
//! ([`super::live`]); the page carries its reading's [`State::revision`], so that the first update after
//! it sends only what changed since the page was drawn.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use indexmap::IndexMap;
use keyflow_engine::plan::Plan;
use keyflow_store::{RunState, StoredRun};

use super::steps;

/// What a run page shows of a run's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The run's state.
    pub status: RunState,
    /// How long it took, once it ended.
    pub duration_ms: Option<u64>,
    /// Each step, in page order: its status and the calls of it on record.
    pub steps: IndexMap<String, Step>,
    /// Calls on record, the template runs' included (the timeline's bars).
    pub attempts: usize,
}

/// One step's part of a [`State`]: a change of either redraws its details.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Step {
    /// Its status (`pending` when not on record).
    pub status: &'static str,
    /// Its calls on record (items and polls included).
    pub attempts: usize,
}

impl State {
    /// The state of `run` as a page drawn from it shows it.
    pub fn of(run: &StoredRun, plan: Option<&Plan>) -> State {
        let status = statuses(run);
        let mut calls: HashMap<&str, usize> = HashMap::new();
        for attempt in run
            .attempts
            .iter()
            .filter(|a| a.run_id == run.summary.run_id)
        {
            *calls.entry(attempt.step.as_str()).or_default() += 1;
        }
        let steps = steps::ids(run, plan)
            .into_iter()
            .map(|(id, _)| {
                let step = Step {
                    status: known(status.get(id).copied().unwrap_or("pending")),
                    attempts: calls.get(id).copied().unwrap_or(0),
                };
                (id.to_string(), step)
            })
            .collect();
        State {
            status: run.summary.status,
            duration_ms: run.summary.duration_ms,
            steps,
            attempts: run.attempts.len(),
        }
    }

    /// Whether the run has ended: nothing more will change unless it is resumed.
    pub fn ended(&self) -> bool {
        self.status != RunState::Running
    }

    /// A short digest of the state: the page's, sent back by its script (and as each update's event id,
    /// which a reconnecting `EventSource` sends back as `Last-Event-ID`), tells the server what the page
    /// shows. Stable for one build of keyflow; a digest from another only costs a full update.
    pub fn revision(&self) -> String {
        let mut hasher = DefaultHasher::new();
        (self.status, self.duration_ms, self.attempts).hash(&mut hasher);
        for step in &self.steps {
            step.hash(&mut hasher);
        }
        format!("{:016x}", hasher.finish())
    }
}

/// Each step's status by id: as reported, `running` for a step with attempts but no result yet.
pub fn statuses(run: &StoredRun) -> HashMap<&str, &str> {
    let mut status: HashMap<&str, &str> = HashMap::new();
    for attempt in run
        .attempts
        .iter()
        .filter(|a| a.run_id == run.summary.run_id)
    {
        status.insert(attempt.step.as_str(), "running");
    }
    for step in &run.report.steps {
        status.insert(step.id.as_str(), step.status.name());
    }
    status
}

/// `status` as one of the names a page shows (they are few and static; anything else reads `pending`).
fn known(status: &str) -> &'static str {
    super::html::STATUSES
        .into_iter()
        .find(|s| *s == status)
        .unwrap_or("pending")
}
