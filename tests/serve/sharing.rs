//! Two daemons on one PostgreSQL store: 200 firings due at the same second, each run exactly once
//! between them; one daemon killed mid-way, and its runs taken over and finished by the other once its
//! leases lapse.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::Utc;
use keyflow_store::{FiringStatus, Location, Store};

use super::{Daemon, once_at, write};

const TRIGGERS: usize = 200;

#[test]
fn two_daemons_run_200_firings_due_at_once_each_once() {
    let Some(url) = crate::runs_postgres::database() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).expect("mkdir");
    // Far enough ahead for both daemons to have loaded the flow.
    let at = Utc::now() + chrono::TimeDelta::seconds(6);
    let mut flow = String::from("name: fan\ntriggers:\n");
    for i in 0..TRIGGERS {
        let _ = writeln!(flow, "  - {{ id: t{i}, cron: \"{}\" }}", once_at(at));
    }
    flow.push_str("steps:\n  - id: work\n    block: core.sleep\n    with: { duration: 400ms }\n  - id: done\n    block: core.set\n    after: work\n    with: { ok: true }\n");
    write(&flows, "fan.yaml", &flow);
    let options = ["--lease", "2s", "--max-runs", "20"];
    let mut a = Daemon::start(&flows, &url, &options);
    let mut b = Daemon::start(&flows, &url, &options);
    a.wait_for("a serving", |l| l.contains("serving flow `fan`"));
    b.wait_for("b serving", |l| l.contains("serving flow `fan`"));
    // Once `a` has finished some runs and holds others, it dies.
    a.wait_until("a to be under way", |lines| {
        lines
            .iter()
            .filter(|l| l.contains("of `fan` succeeded"))
            .count()
            >= 10
    });
    a.kill();
    let rt = runtime();
    let store = rt
        .block_on(Store::open(&Location::Postgres(url.clone())))
        .expect("store");
    let start = Instant::now();
    let firings = loop {
        let firings = rt
            .block_on(store.firings(Some("fan"), 10_000))
            .expect("firings");
        if firings.len() == TRIGGERS && firings.iter().all(|f| f.status == FiringStatus::Done) {
            break firings;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{} firings, {} done\n--- a:\n{}\n--- b:\n{}",
            firings.len(),
            firings
                .iter()
                .filter(|f| f.status == FiringStatus::Done)
                .count(),
            a.log(),
            b.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // Each trigger fired once, each firing is its own run, and every run succeeded.
    let triggers: HashSet<_> = firings.iter().filter_map(|f| f.trigger.clone()).collect();
    assert_eq!(triggers.len(), TRIGGERS);
    let run_ids: HashSet<_> = firings.iter().map(|f| f.run_id.clone()).collect();
    assert_eq!(run_ids.len(), TRIGGERS);
    let runs = super::runs(&url);
    assert_eq!(runs.len(), TRIGGERS, "one run per firing");
    let states: HashMap<String, usize> = runs.iter().fold(HashMap::new(), |mut m, r| {
        *m.entry(r["status"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
        m
    });
    assert_eq!(states.get("succeeded"), Some(&TRIGGERS), "{states:?}");
    // What `a` held when it died was taken over by `b`: resumed, started afresh under its id when
    // `a` had not recorded its start, or closed when `a` had ended it without saying so yet.
    let run_of = |line: &str| {
        line.split_whitespace()
            .nth(2)
            .unwrap_or_default()
            .to_string()
    };
    let finished: HashSet<String> = a
        .lines(|l| l.contains("of `fan` succeeded"))
        .iter()
        .map(|l| run_of(l))
        .collect();
    let held: Vec<String> = a
        .lines(|l| l.contains("of `fan` starts"))
        .iter()
        .map(|l| run_of(l))
        .filter(|id| !finished.contains(id))
        .collect();
    assert!(
        !held.is_empty(),
        "a held nothing when it died:\n{}",
        a.log()
    );
    for id in &held {
        assert!(
            !b.lines(|l| l.contains(&format!("run {id} of `fan`")))
                .is_empty(),
            "run {id}, held by a when it died, was not taken over by b\n--- b:\n{}",
            b.log()
        );
    }
    println!(
        "daemon a finished {} runs and left {} to b, which ran {} in all",
        finished.len(),
        held.len(),
        b.lines(|l| l.contains("of `fan` succeeded")).len()
    );
    assert_eq!(b.terminate(), Some(0));
    rt.block_on(store.close());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}
