//! Fire times across DST in two zones, seconds, and each catch-up policy, with a clock the tests set.

use std::time::Duration;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;

use super::*;

fn trigger(cron: &str, zone_name: &str) -> Trigger {
    Trigger {
        id: "0".into(),
        cron: CronExpr::parse(cron).expect("a valid expression"),
        zone: zone(zone_name).expect("a known zone"),
        params: IndexMap::new(),
        overlap: Overlap::Skip,
        catch_up: CatchUp::Latest,
        catch_up_window: None,
        enabled: true,
        pause_after_failures: None,
        allow_destructive: false,
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

fn next(trigger: &Trigger, from: &str, count: usize) -> Vec<String> {
    upcoming(trigger, utc(from), count)
        .iter()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .collect()
}

#[test]
fn berlin_spring_forward_fires_a_skipped_time_once_at_the_end_of_the_gap() {
    // 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:30 does not exist.
    let daily = trigger("30 2 * * *", "Europe/Berlin");
    assert_eq!(
        next(&daily, "2026-03-27T12:00:00Z", 3),
        [
            "2026-03-28T01:30:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-30T00:30:00Z"
        ]
    );
}

#[test]
fn berlin_fall_back_fires_a_repeated_time_once_the_first_time() {
    // 25 October 2026: 03:00 CEST goes back to 02:00 CET (01:00 UTC); 02:30 happens twice.
    let daily = trigger("30 2 * * *", "Europe/Berlin");
    assert_eq!(
        next(&daily, "2026-10-24T12:00:00Z", 2),
        ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]
    );
    // 01:30 is not in the repeated hour: once, as every day.
    let early = trigger("30 1 * * *", "Europe/Berlin");
    assert_eq!(
        next(&early, "2026-10-24T12:00:00Z", 2),
        ["2026-10-24T23:30:00Z", "2026-10-26T00:30:00Z"]
    );
}

#[test]
fn new_york_spring_forward_and_fall_back() {
    // 8 March 2026: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
    let spring = trigger("30 2 * * *", "America/New_York");
    assert_eq!(
        next(&spring, "2026-03-07T12:00:00Z", 3),
        [
            "2026-03-08T07:00:00Z",
            "2026-03-09T06:30:00Z",
            "2026-03-10T06:30:00Z"
        ]
    );
    // 1 November 2026: 02:00 EDT goes back to 01:00 EST (06:00 UTC); 01:30 happens twice.
    let fall = trigger("30 1 * * *", "America/New_York");
    assert_eq!(
        next(&fall, "2026-10-31T12:00:00Z", 2),
        ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
    );
}

#[test]
fn every_15_minutes_across_both_transitions_in_berlin() {
    let quarter = trigger("*/15 * * * *", "Europe/Berlin");
    // 01:45 CET, then 02:00–02:45 do not exist: once at 03:00 CEST, then on.
    assert_eq!(
        next(&quarter, "2026-03-29T00:40:00Z", 4),
        [
            "2026-03-29T00:45:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:15:00Z",
            "2026-03-29T01:30:00Z"
        ]
    );
    // 02:00–02:45 CEST fire; their repeats in CET do not; 03:00 CET is next.
    assert_eq!(
        next(&quarter, "2026-10-24T23:40:00Z", 7),
        [
            "2026-10-24T23:45:00Z",
            "2026-10-25T00:00:00Z",
            "2026-10-25T00:15:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-25T00:45:00Z",
            "2026-10-25T02:00:00Z",
            "2026-10-25T02:15:00Z"
        ]
    );
}

#[test]
fn every_15_minutes_across_both_transitions_in_new_york() {
    let quarter = trigger("*/15 * * * *", "America/New_York");
    assert_eq!(
        next(&quarter, "2026-03-08T06:40:00Z", 3),
        [
            "2026-03-08T06:45:00Z",
            "2026-03-08T07:00:00Z",
            "2026-03-08T07:15:00Z"
        ]
    );
    assert_eq!(
        next(&quarter, "2026-11-01T04:40:00Z", 7),
        [
            "2026-11-01T04:45:00Z",
            "2026-11-01T05:00:00Z",
            "2026-11-01T05:15:00Z",
            "2026-11-01T05:30:00Z",
            "2026-11-01T05:45:00Z",
            "2026-11-01T07:00:00Z",
            "2026-11-01T07:15:00Z"
        ]
    );
    // From inside the repeated hour (01:20 EST), what fired in its first pass is not fired again.
    assert_eq!(
        next(&quarter, "2026-11-01T06:20:00Z", 1),
        ["2026-11-01T07:00:00Z"]
    );
}

#[test]
fn six_fields_count_seconds() {
    let every_20s = trigger("*/20 * * * * *", "UTC");
    assert_eq!(
        next(&every_20s, "2026-01-01T00:00:05.500Z", 3),
        [
            "2026-01-01T00:00:20Z",
            "2026-01-01T00:00:40Z",
            "2026-01-01T00:01:00Z"
        ]
    );
    // A skipped time with seconds fires at the first instant after the gap, not 30 s into it.
    let gap = trigger("30 30 2 * * *", "Europe/Berlin");
    assert_eq!(
        next(&gap, "2026-03-28T12:00:00Z", 1),
        ["2026-03-29T01:00:00Z"]
    );
}

#[test]
fn a_monthly_rotation_at_three_in_berlin() {
    let monthly = trigger("0 3 1 * *", "Europe/Berlin");
    assert_eq!(
        next(&monthly, "2026-02-15T00:00:00Z", 3),
        [
            "2026-03-01T02:00:00Z",
            "2026-04-01T01:00:00Z",
            "2026-05-01T01:00:00Z"
        ]
    );
}

fn hourly(catch_up: CatchUp, window: Option<u64>) -> Trigger {
    Trigger {
        catch_up,
        catch_up_window: window.map(Duration::from_secs),
        ..trigger("0 * * * *", "UTC")
    }
}

fn firings(trigger: &Trigger, last_fired: &str, now: &str) -> Vec<(String, bool)> {
    due(trigger, utc(last_fired), utc(now))
        .iter()
        .map(|f| (f.at.format("%H:%M").to_string(), f.missed))
        .collect()
}

fn on_time(at: &str) -> (String, bool) {
    (at.to_string(), false)
}

fn missed(at: &str) -> (String, bool) {
    (at.to_string(), true)
}

#[test]
fn catch_up_none_runs_only_a_firing_on_time() {
    let none = hourly(CatchUp::None, None);
    assert_eq!(
        firings(&none, "2026-01-01T00:00:00Z", "2026-01-01T05:00:30Z"),
        [on_time("05:00")]
    );
    assert!(firings(&none, "2026-01-01T00:00:00Z", "2026-01-01T05:10:00Z").is_empty());
}

#[test]
fn catch_up_latest_runs_the_last_missed_firing_within_the_window() {
    let any_age = hourly(CatchUp::Latest, None);
    assert_eq!(
        firings(&any_age, "2026-01-01T00:00:00Z", "2026-01-01T05:00:30Z"),
        [on_time("05:00")]
    );
    assert_eq!(
        firings(&any_age, "2026-01-01T00:00:00Z", "2026-01-01T05:10:00Z"),
        [missed("05:00")]
    );
    let half_hour = hourly(CatchUp::Latest, Some(30 * 60));
    assert_eq!(
        firings(&half_hour, "2026-01-01T00:00:00Z", "2026-01-01T05:10:00Z"),
        [missed("05:00")]
    );
    assert!(firings(&half_hour, "2026-01-01T00:00:00Z", "2026-01-01T05:40:00Z").is_empty());
    // Nothing after the last firing handled: nothing due.
    assert!(firings(&any_age, "2026-01-01T05:00:00Z", "2026-01-01T05:40:00Z").is_empty());
}

#[test]
fn catch_up_all_runs_every_missed_firing_in_the_window_oldest_first() {
    let all = hourly(CatchUp::All, Some(2 * 3600 + 30 * 60));
    assert_eq!(
        firings(&all, "2026-01-01T00:00:00Z", "2026-01-01T05:10:00Z"),
        [missed("03:00"), missed("04:00"), missed("05:00")]
    );
    assert_eq!(
        firings(&all, "2026-01-01T00:00:00Z", "2026-01-01T05:00:30Z"),
        [missed("03:00"), missed("04:00"), on_time("05:00")]
    );
    // The window's edge counts; the last firing handled bounds it too.
    let two_hours = hourly(CatchUp::All, Some(2 * 3600));
    assert_eq!(
        firings(&two_hours, "2026-01-01T00:00:00Z", "2026-01-01T05:00:00Z"),
        [missed("03:00"), missed("04:00"), on_time("05:00")]
    );
    assert_eq!(
        firings(&all, "2026-01-01T04:00:00Z", "2026-01-01T05:10:00Z"),
        [missed("05:00")]
    );
}

#[test]
fn catch_up_sees_the_first_pass_of_a_repeated_hour() {
    // At 01:20 EST the last fire time is 01:45 EDT, 35 minutes ago, not 01:15.
    let quarter = Trigger {
        catch_up: CatchUp::Latest,
        ..trigger("*/15 * * * *", "America/New_York")
    };
    assert_eq!(
        firings(&quarter, "2026-11-01T05:00:00Z", "2026-11-01T06:20:00Z"),
        [missed("05:45")]
    );
}

#[test]
fn unknown_zones_are_not_found() {
    assert!(zone("Europe/Berlin").is_some());
    assert!(zone("UTC").is_some());
    assert!(zone("Europe/Berln").is_none());
    assert!(zone_names().any(|name| name == "America/New_York"));
}
