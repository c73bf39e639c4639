//! `keyflow serve`: the daemon as operators run it, a real process on a real store. It fires triggers on
//! time and records them, reloads changed flows and skips invalid ones, stops on SIGTERM (handing back
//! what outlives `--grace`), resumes on restart what a SIGKILL interrupted without firing anything twice,
//! refuses a second daemon on a SQLite store, and shares 200 firings due at once between two daemons on
//! PostgreSQL, one of them killed mid-way; [`ui`]: its web UI under `--sandbox`, followed live.

pub mod api;
mod daemon;
mod plugins;
mod rotation;
mod sharing;
mod ui;

use std::path::Path;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde_json::Value;

pub use daemon::Daemon;

/// A 6-field cron expression (UTC) that matches only `at` (once a year).
pub fn once_at(at: DateTime<Utc>) -> String {
    format!(
        "{} {} {} {} {} *",
        at.second(),
        at.minute(),
        at.hour(),
        at.day(),
        at.month()
    )
}

/// The runs recorded in the SQLite or PostgreSQL `store`, as `keyflow runs list --output json` shows them.
pub fn runs(store: &str) -> Vec<Value> {
    let out = crate::sandbox::bare_process()
        .args([
            "runs", "list", "--output", "json", "--limit", "1000", "--store", store,
        ])
        .output()
        .expect("keyflow runs list");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    crate::runs::runs_of(&String::from_utf8_lossy(&out.stdout))
}

/// `keyflow runs show ID --output json`'s report.
pub fn show(store: &str, id: &str) -> Value {
    let out = crate::sandbox::bare_process()
        .args(["runs", "show", id, "--output", "json", "--store", store])
        .output()
        .expect("keyflow runs show");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout).expect("JSON")
}

pub fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write a flow");
}

const TICK: &str = "name: tick\nparams:\n  who: { type: string, default: world }\ntriggers:\n  - id: every-second\n    cron: \"* * * * * *\"\n    params: { who: daemon }\nsteps:\n  - id: hello\n    block: core.set\n    with: { line: \"hello {{params.who}}\" }\n";

#[test]
fn fires_every_second_reloads_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).expect("mkdir");
    write(&flows, "tick.yaml", TICK);
    write(
        &flows,
        "broken.yaml",
        "name: broken\nsteps:\n  - id: a\n    block: core.nope\n",
    );
    let store = dir.path().join("runs.db");
    let store = store.to_str().expect("utf-8");
    let mut daemon = Daemon::start(&flows, store, &[]);
    daemon.wait_for("the invalid flow reported", |l| {
        l.contains("broken.yaml is not served") && l.contains("4:12") && l.contains("core.nope")
    });
    daemon.wait_until("two runs of tick", |lines| {
        lines
            .iter()
            .filter(|l| l.contains("of `tick` succeeded"))
            .count()
            >= 2
    });
    // A flow added while the daemon runs is served within the reload interval.
    write(
        &flows,
        "tock.yaml",
        &TICK.replace("name: tick", "name: tock"),
    );
    daemon.wait_for("the new flow served", |l| l.contains("serving flow `tock`"));
    daemon.wait_for("a run of tock", |l| l.contains("of `tock` succeeded"));
    let code = daemon.terminate();
    assert_eq!(code, Some(0), "{}", daemon.log());
    let runs = runs(store);
    let ticks: Vec<&Value> = runs.iter().filter(|r| r["flow"] == "tick").collect();
    assert!(ticks.len() >= 2, "{runs:?}");
    assert!(runs.iter().all(|r| r["status"] == "succeeded"), "{runs:?}");
    // Each fire time once: one `fired` line per run, no run id twice.
    let fired =
        daemon.lines(|l| l.contains("`tick` trigger `every-second`") && l.contains("fired"));
    assert_eq!(fired.len(), ticks.len(), "{}", daemon.log());
    let report = show(store, ticks[0]["run_id"].as_str().expect("id"));
    assert_eq!(report["steps"][0]["output"]["line"], "hello daemon");
}

const SLOW: &str = "name: slow\ntriggers:\n  - id: once\n    cron: \"CRON\"\n    timezone: UTC\nsteps:\n  - id: first\n    block: core.set\n    with: { n: 1 }\n  - id: wait\n    block: core.sleep\n    after: first\n    with: { duration: 3s }\n  - id: last\n    block: core.set\n    after: wait\n    with: { n: $.steps.first.output.n }\n";

fn slow_flow(dir: &Path, at: DateTime<Utc>) -> std::path::PathBuf {
    let flows = dir.join("flows");
    std::fs::create_dir_all(&flows).expect("mkdir");
    write(&flows, "slow.yaml", &SLOW.replace("CRON", &once_at(at)));
    flows
}

#[test]
fn a_run_killed_with_its_daemon_is_resumed_by_the_next_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = Utc::now() + chrono::TimeDelta::seconds(3);
    let flows = slow_flow(dir.path(), at);
    let store = dir.path().join("runs.db");
    let store = store.to_str().expect("utf-8");
    let mut first = Daemon::start(&flows, store, &[]);
    first.wait_for("the run to start", |l| l.contains("of `slow` starts"));
    // Inside the sleep: `first` has ended, `last` has not begun.
    std::thread::sleep(std::time::Duration::from_millis(1_200));
    first.kill();
    let run = runs(store);
    assert_eq!(run.len(), 1, "{run:?}");
    assert_eq!(run[0]["status"], "interrupted");
    let id = run[0]["run_id"].as_str().expect("id").to_string();
    let mut second = Daemon::start(&flows, store, &[]);
    second.wait_for("the run resumed", |l| {
        l.contains(&format!("run {id} of `slow` resumes"))
    });
    second.wait_for("the run to end", |l| {
        l.contains(&format!("run {id} of `slow` succeeded"))
    });
    assert_eq!(second.terminate(), Some(0));
    let run = runs(store);
    assert_eq!(run.len(), 1, "one run, not a second firing: {run:?}");
    assert_eq!(run[0]["status"], "succeeded");
    let report = show(store, &id);
    assert_eq!(report["steps"][0]["id"], "first");
    assert_eq!(report["steps"][0]["reused"], true, "{report}");
    assert_eq!(report["steps"][2]["output"]["n"], 1);
    // The fire time was fired once, by the first daemon.
    assert!(!second.log().contains("fired"), "{}", second.log());
}

#[test]
fn sigterm_hands_back_a_run_that_outlives_the_grace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = Utc::now() + chrono::TimeDelta::seconds(3);
    let flows = slow_flow(dir.path(), at);
    let store = dir.path().join("runs.db");
    let store = store.to_str().expect("utf-8");
    let mut first = Daemon::start(&flows, store, &["--grace", "1s"]);
    first.wait_for("the run to start", |l| l.contains("of `slow` starts"));
    let code = first.terminate();
    assert_eq!(code, Some(0), "{}", first.log());
    assert!(
        first.log().contains("1 run did not end within --grace 1s"),
        "{}",
        first.log()
    );
    let mut second = Daemon::start(&flows, store, &[]);
    second.wait_for("the run resumed and ended", |l| {
        l.contains("of `slow` succeeded")
    });
    assert!(second.log().contains("resumes"), "{}", second.log());
    second.terminate();
    let run = runs(store);
    assert_eq!(run.len(), 1, "{run:?}");
    assert_eq!(run[0]["status"], "succeeded");
}

#[test]
fn a_second_daemon_on_a_sqlite_store_says_who_holds_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).expect("mkdir");
    write(&flows, "tick.yaml", TICK);
    let store = dir.path().join("runs.db");
    let store = store.to_str().expect("utf-8");
    let mut first = Daemon::start(&flows, store, &[]);
    first.wait_for("serving", |l| l.contains("serving flow `tick`"));
    let second = crate::sandbox::bare_process()
        .args([
            "serve",
            crate::harness::path_str(&flows),
            "--store",
            store,
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("a second keyflow serve");
    let said = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(74), "{said}");
    assert!(
        said.contains("held by another keyflow serve")
            && said.contains(&format!("process {}", first.pid()))
            && said.contains("PostgreSQL"),
        "{said}"
    );
    first.terminate();
}

/// Killed between firings and started again a few seconds later: the fire times missed while no daemon
/// ran are handled as the trigger says (`latest`: the last one runs, the others are counted and said,
/// once), and no fire time is recorded twice.
#[test]
fn a_daemon_killed_between_firings_catches_up_once_on_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).expect("mkdir");
    write(&flows, "tick.yaml", TICK);
    let store = dir.path().join("runs.db");
    let store = store.to_str().expect("utf-8");
    let mut first = Daemon::start(&flows, store, &[]);
    first.wait_for("a run", |l| l.contains("of `tick` succeeded"));
    first.kill();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let mut second = Daemon::start(&flows, store, &[]);
    second.wait_for("the missed fire times said", |l| {
        l.contains("trigger `every-second` of `tick` missed") && l.contains("catch_up: latest")
    });
    second.wait_until("two more runs", |lines| {
        lines
            .iter()
            .filter(|l| l.contains("of `tick` succeeded"))
            .count()
            >= 2
    });
    assert_eq!(second.terminate(), Some(0), "{}", second.log());
    // The latest fire time is run (on time: it passed less than a minute ago), the others counted.
    assert_eq!(
        second.lines(|l| l.contains("missed")).len(),
        1,
        "{}",
        second.log()
    );
    // Every fire time once: as many runs as firings, no two at the same second.
    let fired: Vec<String> = first
        .lines(|l| l.contains("fired"))
        .into_iter()
        .chain(second.lines(|l| l.contains("fired")))
        .filter_map(|l| {
            l.split(" at ")
                .nth(1)
                .map(|t| t.split(':').take(3).collect::<Vec<_>>().join(":"))
        })
        .collect();
    let distinct: std::collections::HashSet<&String> = fired.iter().collect();
    assert_eq!(
        distinct.len(),
        fired.len(),
        "a fire time fired twice: {fired:?}"
    );
    let recorded = runs(store);
    assert!(recorded.len() >= fired.len(), "{recorded:?}");
}
