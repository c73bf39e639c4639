//! The daemon's records: firings made once whoever offers them, taken once whoever takes them, leases
//! that expire and are taken over, overlap, pausing after failures, and the one daemon of a SQLite store.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use keyflow_engine::model::Overlap;
use keyflow_store::{Ended, Firing, FiringStatus, Offer, Store, StoreOptions};
use serde_json::json;

use crate::Db;

const LEASE: Duration = Duration::from_secs(30);

fn offer<'a>(trigger: &'a str, seen: i64, fire: Vec<(i64, bool)>, overlap: Overlap) -> Offer<'a> {
    static PARAMS: std::sync::LazyLock<serde_json::Value> =
        std::sync::LazyLock::new(|| json!({"tenant": "t1"}));
    Offer {
        flow: "rotate",
        trigger,
        seen_last_ms: seen,
        now_ms: seen + 60_000,
        fire,
        params: &PARAMS,
        allow_destructive: false,
        overlap,
    }
}

fn ended(firing: &Firing, failed: bool, pause_after: Option<u32>) -> Ended<'_> {
    Ended {
        firing,
        reason: if failed { "failed" } else { "succeeded" }.into(),
        failed,
        pause_after,
    }
}

fn flows() -> Vec<String> {
    vec!["rotate".to_string()]
}

pub async fn a_fire_time_becomes_one_firing_whoever_offers_it(db: Db) {
    let (a, b) = (Arc::new(db.open().await), Arc::new(db.open().await));
    let state = a
        .register_trigger("rotate", "monthly", "0 3 1 * * Europe/Berlin")
        .await
        .unwrap();
    assert_eq!(state.failures, 0);
    let seen = state.last_fire_ms;
    let at = seen + 1_000;
    let offers = [a.clone(), b.clone()].map(|store| {
        tokio::spawn(async move {
            store
                .offer(&offer("monthly", seen, vec![(at, false)], Overlap::Skip))
                .await
                .unwrap()
        })
    });
    let mut made = Vec::new();
    for offer in offers {
        made.extend(offer.await.unwrap());
    }
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0].status, FiringStatus::Pending);
    assert_eq!(made[0].params, json!({"tenant": "t1"}));
    // The trigger moved on: an offer from the old state makes nothing.
    let again = b
        .offer(&offer("monthly", seen, vec![(at, false)], Overlap::Skip))
        .await
        .unwrap();
    assert!(again.is_empty());
    let state = b.trigger_state("rotate", "monthly").await.unwrap().unwrap();
    assert_eq!(state.last_fire_ms, seen + 60_000);
    // A changed schedule starts from now; an unchanged one keeps its place.
    let kept = a
        .register_trigger("rotate", "monthly", "0 3 1 * * Europe/Berlin")
        .await
        .unwrap();
    assert_eq!(kept.last_fire_ms, seen + 60_000);
    let moved = a
        .register_trigger("rotate", "monthly", "0 4 1 * * Europe/Berlin")
        .await
        .unwrap();
    assert_ne!(moved.last_fire_ms, seen + 60_000);
}

/// 200 triggers due at once, offered and taken by two daemons at the same time: each fires once and
/// each firing is taken once.
pub async fn two_daemons_share_200_firings_each_once(db: Db) {
    let (a, b) = (Arc::new(db.open().await), Arc::new(db.open().await));
    let mut seen = Vec::new();
    for i in 0..200 {
        let state = a
            .register_trigger("rotate", &format!("t{i}"), "* * * * *")
            .await
            .unwrap();
        seen.push(state.last_fire_ms);
    }
    let work = |store: Arc<Store>, worker: &'static str, seen: Vec<i64>| {
        tokio::spawn(async move {
            let params = json!({});
            let mut taken = Vec::new();
            for (i, last) in seen.into_iter().enumerate() {
                let trigger = format!("t{i}");
                store
                    .offer(&Offer {
                        flow: "rotate",
                        trigger: &trigger,
                        seen_last_ms: last,
                        now_ms: last + 1,
                        fire: vec![(last + 1, false)],
                        params: &params,
                        allow_destructive: false,
                        overlap: Overlap::Skip,
                    })
                    .await
                    .unwrap();
                taken.extend(store.take(worker, &flows(), 3, LEASE).await.unwrap());
            }
            loop {
                let more = store.take(worker, &flows(), 16, LEASE).await.unwrap();
                if more.is_empty() {
                    break;
                }
                taken.extend(more);
            }
            taken
        })
    };
    let ta = work(a.clone(), "worker-a", seen.clone());
    let tb = work(b.clone(), "worker-b", seen);
    let (ta, tb) = (ta.await.unwrap(), tb.await.unwrap());
    let ids: HashSet<&str> = ta.iter().chain(&tb).map(|f| f.id.as_str()).collect();
    assert_eq!(
        ta.len() + tb.len(),
        200,
        "a took {}, b took {}",
        ta.len(),
        tb.len()
    );
    assert_eq!(ids.len(), 200);
    assert!(
        ta.iter()
            .chain(&tb)
            .all(|f| f.fence == 1 && f.status == FiringStatus::Running)
    );
    println!("worker a took {}, worker b took {}", ta.len(), tb.len());
}

pub async fn overlap_skips_queues_or_cancels(db: Db) {
    let store = db.open().await;
    for (trigger, overlap) in [
        ("s", Overlap::Skip),
        ("q", Overlap::Queue),
        ("c", Overlap::CancelRunning),
    ] {
        let seen = store
            .register_trigger("rotate", trigger, "* * * * *")
            .await
            .unwrap()
            .last_fire_ms;
        let first = store
            .offer(&offer(trigger, seen, vec![(seen + 1, false)], overlap))
            .await
            .unwrap();
        assert_eq!(first[0].status, FiringStatus::Pending);
        let second = store
            .offer(&offer(
                trigger,
                seen + 60_000,
                vec![(seen + 2, false)],
                overlap,
            ))
            .await
            .unwrap();
        let expected = match overlap {
            Overlap::Skip => FiringStatus::Skipped,
            _ => FiringStatus::Queued,
        };
        assert_eq!(second[0].status, expected, "{trigger}");
        if overlap == Overlap::Skip {
            assert!(
                second[0]
                    .reason
                    .as_deref()
                    .unwrap()
                    .contains("overlap: skip")
            );
        }
        let taken = store.take("w", &flows(), 10, LEASE).await.unwrap();
        assert_eq!(taken.len(), 1, "only the first runs while it runs");
        let held = store.renew("w", LEASE).await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(
            held[0].cancel,
            overlap == Overlap::CancelRunning,
            "{trigger}"
        );
        assert!(
            store
                .finish_firing("w", &ended(&taken[0], false, None))
                .await
                .unwrap()
        );
        let next = store.take("w", &flows(), 10, LEASE).await.unwrap();
        match overlap {
            Overlap::Skip => assert!(next.is_empty()),
            _ => assert_eq!(
                next[0].id, second[0].id,
                "the queued firing goes once the first ends"
            ),
        }
        for firing in &next {
            store
                .finish_firing("w", &ended(firing, false, None))
                .await
                .unwrap();
        }
    }
}

pub async fn a_lapsed_lease_is_taken_over_and_fenced(db: Db) {
    let store = db.open().await;
    let seen = store
        .register_trigger("rotate", "m", "* * * * *")
        .await
        .unwrap()
        .last_fire_ms;
    store
        .offer(&offer("m", seen, vec![(seen + 1, false)], Overlap::Skip))
        .await
        .unwrap();
    let short = Duration::from_secs(1);
    let mine = store.take("old", &flows(), 1, short).await.unwrap();
    assert_eq!((mine.len(), mine[0].resume), (1, false));
    // Nothing to take over while the lease holds.
    assert!(
        store
            .take_over("new", &flows(), 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let theirs = store.take_over("new", &flows(), 10, LEASE).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].run_id, mine[0].run_id, "the run keeps its id");
    assert!(theirs[0].resume, "a taken-over run is resumed");
    assert!(theirs[0].fence > mine[0].fence);
    // The old daemon learns it lost the firing, and cannot finish it.
    assert!(store.renew("old", LEASE).await.unwrap().is_empty());
    assert!(
        !store
            .finish_firing("old", &ended(&mine[0], false, None))
            .await
            .unwrap()
    );
    assert!(
        store
            .finish_firing("new", &ended(&theirs[0], false, None))
            .await
            .unwrap()
    );
    // Released firings are taken over at once.
    let seen = store
        .trigger_state("rotate", "m")
        .await
        .unwrap()
        .unwrap()
        .last_fire_ms;
    store
        .offer(&offer("m", seen, vec![(seen + 5, false)], Overlap::Skip))
        .await
        .unwrap();
    store.take("old", &flows(), 1, LEASE).await.unwrap();
    assert_eq!(store.release("old").await.unwrap(), 1);
    assert_eq!(
        store
            .take_over("new", &flows(), 10, LEASE)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn failures_in_a_row_pause_a_trigger(db: Db) {
    let store = db.open().await;
    let mut seen = store
        .register_trigger("rotate", "p", "* * * * *")
        .await
        .unwrap()
        .last_fire_ms;
    for (i, failed) in [true, false, true, true].into_iter().enumerate() {
        let made = store
            .offer(&offer("p", seen, vec![(seen + 1, false)], Overlap::Queue))
            .await
            .unwrap();
        assert_eq!(made[0].status, FiringStatus::Pending, "run {i}");
        let taken = store.take("w", &flows(), 1, LEASE).await.unwrap();
        store
            .finish_firing("w", &ended(&taken[0], failed, Some(2)))
            .await
            .unwrap();
        seen += 60_000;
    }
    let state = store.trigger_state("rotate", "p").await.unwrap().unwrap();
    assert_eq!(state.failures, 2);
    assert!(
        state
            .paused
            .as_deref()
            .unwrap()
            .contains("pause_after_failures: 2"),
        "{state:?}"
    );
    let skipped = store
        .offer(&offer("p", seen, vec![(seen + 1, false)], Overlap::Queue))
        .await
        .unwrap();
    assert_eq!(skipped[0].status, FiringStatus::Skipped);
    assert!(skipped[0].reason.as_deref().unwrap().contains("paused"));
    assert!(store.unpause_trigger("rotate", "p").await.unwrap());
    assert!(!store.unpause_trigger("rotate", "p").await.unwrap());
    let state = store.trigger_state("rotate", "p").await.unwrap().unwrap();
    assert_eq!((state.failures, state.paused), (0, None));
}

pub async fn runs_asked_for_are_taken_and_cancelled(db: Db) {
    let store = db.open().await;
    let asked = store
        .request_run("rotate", &json!({"tenant": "x"}), true)
        .await
        .unwrap();
    assert_eq!(
        (asked.trigger.as_deref(), asked.allow_destructive),
        (None, true)
    );
    let other = store
        .request_run("rotate", &json!({}), false)
        .await
        .unwrap();
    assert_eq!(
        store.request_cancel(&other.run_id).await.unwrap(),
        Some(FiringStatus::Skipped)
    );
    let taken = store.take("w", &flows(), 10, LEASE).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].run_id, asked.run_id);
    assert_eq!(
        store.request_cancel(&asked.run_id).await.unwrap(),
        Some(FiringStatus::Running)
    );
    assert!(store.renew("w", LEASE).await.unwrap()[0].cancel);
    assert_eq!(store.request_cancel("no-such-run").await.unwrap(), None);
    let found = store.firing_of_run(&asked.run_id).await.unwrap().unwrap();
    assert_eq!(found.status, FiringStatus::Running);
    assert_eq!(store.firings(Some("rotate"), 10).await.unwrap().len(), 2);
    assert_eq!(store.waiting_firings().await.unwrap(), 0);
    // A recorded run asked to go on keeps its id and is resumed by whoever takes it.
    let again = store
        .request_resume(&other.run_id, "rotate", &json!({}), false)
        .await
        .unwrap();
    assert_eq!(store.waiting_firings().await.unwrap(), 1);
    let taken = store.take("w", &flows(), 10, LEASE).await.unwrap();
    assert_eq!(
        (taken[0].id.as_str(), taken[0].run_id.as_str()),
        (again.id.as_str(), other.run_id.as_str())
    );
    assert!(taken[0].resume);
}

pub async fn one_daemon_holds_a_sqlite_store(db: Db) {
    let first = db.open().await;
    first.join("d1", Some("127.0.0.1:7070")).await.unwrap();
    assert_eq!(first.hold("d1", LEASE).await.unwrap(), None);
    // Another process (pretended: same host, a live pid that is not ours).
    let other = db
        .open_with(StoreOptions {
            owner: keyflow_store::Owner {
                host: keyflow_store::Owner::current().host,
                pid: 1,
            },
            ..StoreOptions::default()
        })
        .await;
    other.join("d2", None).await.unwrap();
    let held = other.hold("d2", LEASE).await.unwrap();
    match first.backend() {
        keyflow_store::Backend::Sqlite => {
            let holder = held.expect("the first daemon holds the store");
            let said = holder.to_string();
            assert!(
                said.contains(&format!("process {}", std::process::id())),
                "{said}"
            );
        }
        keyflow_store::Backend::Postgres => assert_eq!(held, None, "PostgreSQL is shared"),
    }
    // Renewing keeps it; leaving lets the other one in.
    assert_eq!(first.hold("d1", LEASE).await.unwrap(), None);
    first.leave("d1").await.unwrap();
    assert_eq!(other.hold("d2", LEASE).await.unwrap(), None);
    assert_eq!(other.workers(LEASE).await.unwrap().len(), 1);
}
