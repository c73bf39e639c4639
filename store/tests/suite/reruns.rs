//! Firings that re-run steps of an earlier run: recorded with the run they reuse and the steps they run
//! again, read back so by whoever takes them, and told apart from runs started afresh or resumed.

use std::time::Duration;

use keyflow_store::{FiringStatus, Rerun};
use serde_json::json;

use crate::Db;

const LEASE: Duration = Duration::from_secs(30);

pub async fn a_rerun_firing_carries_its_run_and_steps_to_whoever_takes_it(db: Db) {
    let store = db.open().await;
    let fresh = store
        .request_run("rotate", &json!({"tenant": "t1"}), false)
        .await
        .unwrap();
    assert_eq!(fresh.rerun, None);
    let rerun = Rerun {
        from: fresh.run_id.clone(),
        steps: vec!["wrap".into(), "policy <x>".into()],
    };
    let asked = store
        .request_rerun("rotate", &json!({"tenant": "t1"}), true, &rerun)
        .await
        .unwrap();
    // A new run of its own, started (not resumed), with the earlier run's params as given.
    assert_ne!(asked.run_id, fresh.run_id);
    assert_eq!(asked.rerun.as_ref(), Some(&rerun));
    assert!(!asked.resume && !asked.asked && asked.allow_destructive);
    assert_eq!(asked.trigger, None);
    assert_eq!(asked.params, json!({"tenant": "t1"}));
    assert_eq!(asked.status, FiringStatus::Pending);

    let taken = store
        .take("w", &["rotate".to_string()], 10, LEASE)
        .await
        .unwrap();
    assert_eq!(taken.len(), 2);
    let mine = taken.iter().find(|f| f.id == asked.id).unwrap();
    assert_eq!(mine.rerun.as_ref(), Some(&rerun));
    assert!(!mine.resume);
    let other = taken.iter().find(|f| f.id == fresh.id).unwrap();
    assert_eq!(other.rerun, None);

    // Read back by run, and in the list, the same.
    let found = store.firing_of_run(&asked.run_id).await.unwrap().unwrap();
    assert_eq!(found.rerun.as_ref(), Some(&rerun));
    let listed = store.firings(Some("rotate"), 10).await.unwrap();
    assert_eq!(listed.iter().filter(|f| f.rerun.is_some()).count(), 1);

    // Resumed runs are not re-runs.
    let resumed = store
        .request_resume(&fresh.run_id, "rotate", &json!({}), false)
        .await
        .unwrap();
    assert_eq!((resumed.rerun, resumed.resume), (None, true));
    // The API shows it as an object, `null` for the others.
    let shown = serde_json::to_value(&found).unwrap();
    assert_eq!(
        shown["rerun"],
        json!({"from": fresh.run_id, "steps": ["wrap", "policy <x>"]})
    );
    assert_eq!(serde_json::to_value(&fresh).unwrap()["rerun"], json!(null));
}
