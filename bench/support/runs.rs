//! Runs put in a store for the benches that read many of them (`runs list`, the web UI's runs list).

use indexmap::IndexMap;
use keyflow_engine::exec::report::{RunReport, Status, StepReport};
use keyflow_engine::exec::store::{RunStart, RunStore};
use keyflow_store::Store;

/// Fills `store` with `runs` ended runs of five flows (`flow-0`…`flow-4`; every 50th failed), 150 s apart from
/// 200 days ago, through the store's own interface.
pub async fn fill(store: &Store, runs: usize) {
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
    for i in 0..runs {
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
