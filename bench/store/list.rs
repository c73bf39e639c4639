//! The `runs list` figure: a store filled with [`RUNS`] ended runs, then the list's queries.

use std::time::{Duration, Instant};

use keyflow_store::{ListFilter, Location, RunState, Store};

use crate::runs::fill;
use crate::{Figure, median};

const RUNS: usize = 100_000;

pub fn list_figure(runtime: &tokio::runtime::Runtime, location: &Location, what: &str) -> Figure {
    let store = runtime.block_on(Store::open(location)).unwrap();
    let started = Instant::now();
    runtime.block_on(fill(&store, RUNS));
    let filled = started.elapsed();
    let filters = [
        (
            "newest 20",
            ListFilter {
                limit: Some(20),
                ..ListFilter::default()
            },
        ),
        (
            "--flow flow-3",
            ListFilter {
                flow: Some("flow-3".into()),
                limit: Some(20),
                ..ListFilter::default()
            },
        ),
        (
            "--status failed",
            ListFilter {
                state: Some(RunState::Failed),
                limit: Some(20),
                ..ListFilter::default()
            },
        ),
    ];
    let mut worst = Duration::ZERO;
    let mut details = Vec::new();
    for (name, filter) in &filters {
        let mut samples = Vec::new();
        for _ in 0..20 {
            let started = Instant::now();
            let runs = runtime.block_on(store.list(filter)).unwrap();
            samples.push(started.elapsed());
            assert_eq!(runs.len(), 20);
        }
        let (median, ..) = median(samples);
        worst = worst.max(median);
        details.push(format!("{name} {median:.1?}"));
    }
    Figure {
        name: format!("runs list over 100,000 runs, {what}"),
        value: worst.as_secs_f64() * 1e3,
        unit: "ms",
        target: Some(50.0),
        detail: format!(
            "slowest median of 20 of: {}; filling took {filled:.1?}",
            details.join(", ")
        ),
    }
}
