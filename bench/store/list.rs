//! The `runs list` figure: a store filled with [`RUNS`] ended runs, then the list's queries.

use std::time::{Duration, Instant};

use indexmap::IndexMap;
use keyflow_engine::exec::report::{RunReport, Status, StepReport};
use keyflow_engine::exec::store::{RunStart, RunStore};
use keyflow_store::{ListFilter, Location, RunState, Store};

use crate::{Figure, median};

const RUNS: usize = 100_000;

/// Fills `store` with [`RUNS`] ended runs of five flows, through the store's own interface.
async fn fill(store: &Store) {
    let base = chrono::Utc::now() - chrono::Duration::days(200);
    let step = StepReport {
        id: "s".into(),
        block: "core.set".into(),
        status: Status::Succeeded,
        attempts: 1,
        duration_ms: 1,
        output: None,
        error: None,
        reason: None,
        items: None,
        runs: None,
        reused: false,
    };
    for i in 0..RUNS {
        let started_at = (base + chrono::Duration::seconds(i as i64 * 150))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let flow = format!("flow-{}", i % 5);
        let run_id = format!("run-{i:06}");
        store
            .begin_run(&RunStart {
                run_id: run_id.clone(),
                parent: None,
                flow: flow.clone(),
                source: format!("{flow}.yaml"),
                params: serde_json::json!({}),
                started_at: started_at.clone(),
                definitions: Default::default(),
                resumed: false,
            })
            .await
            .unwrap();
        let status = if i % 50 == 0 {
            Status::Failed
        } else {
            Status::Succeeded
        };
        store
            .finish_run(&RunReport {
                run_id,
                flow,
                status,
                started_at,
                duration_ms: 10,
                outputs: IndexMap::new(),
                steps: vec![step.clone()],
                reason: None,
            })
            .await
            .unwrap();
    }
}

pub fn list_figure(runtime: &tokio::runtime::Runtime, location: &Location, what: &str) -> Figure {
    let store = runtime.block_on(Store::open(location)).unwrap();
    let started = Instant::now();
    runtime.block_on(fill(&store));
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
