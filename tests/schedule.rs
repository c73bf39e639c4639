//! `keyflow schedule list`: each trigger's next fire times from a given instant, in its zone and in UTC;
//! invalid flows reported and skipped; and what `keyflow plan` says a schedule means for destructive steps.

use serde_json::Value;

use crate::harness::{flow_file, run};
use crate::schemas::assert_matches;

const AT: &str = "2026-10-24T12:00:00Z";

/// A flow with two triggers: a weekly one in New York and one every 20 seconds, disabled.
const TWO_TRIGGERS: &str = r#"name: weekly
params:
  tenant: { type: string }
steps:
  - id: show
    block: core.log
    with: { message: "{{params.tenant}}" }
triggers:
  - id: weekly
    cron: "30 1 * * SUN"
    timezone: America/New_York
    params: { tenant: acme }
    overlap: queue
    catch_up: all
    catch_up_window: 2d
    pause_after_failures: 3
  - cron: "*/20 * * * * *"
    params: { tenant: beta }
    enabled: false
"#;

#[test]
fn the_rotation_flow_fires_monthly_at_three_in_berlin() {
    let ran = run(&[
        "schedule",
        "list",
        "flows/rotate-tenant-key.yaml",
        "--at",
        AT,
        "--count",
        "2",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        ran.stdout,
        "fire times after 2026-10-24T12:00:00Z\n\n\
         rotate-tenant-key (flows/rotate-tenant-key.yaml)\n  \
         monthly  0 3 1 * *  Europe/Berlin  enabled, overlap skip, catch-up latest\n    \
         Sun 2026-11-01 03:00 CET  2026-11-01T02:00:00Z\n    \
         Tue 2026-12-01 03:00 CET  2026-12-01T02:00:00Z\n"
    );
}

#[test]
fn the_json_lists_every_trigger_with_its_settings_and_matches_its_schema() {
    let (_dir, path) = flow_file(TWO_TRIGGERS);
    let ran = run(&[
        "schedule",
        "list",
        path.to_str().expect("utf-8 path"),
        "--at",
        AT,
        "--count",
        "3",
        "--output",
        "json",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let document: Value = serde_json::from_str(&ran.stdout).expect("json");
    assert_matches("schedule-list.schema.json", &document);
    assert_eq!(document["format_version"], 1);
    assert_eq!(document["at"], AT);
    let triggers = &document["flows"][0]["triggers"];
    let weekly = &triggers[0];
    assert_eq!(weekly["id"], "weekly");
    assert_eq!(
        (
            &weekly["overlap"],
            &weekly["catch_up"],
            &weekly["catch_up_window"]
        ),
        (&"queue".into(), &"all".into(), &"48h".into())
    );
    assert_eq!(weekly["pause_after_failures"], 3);
    assert_eq!(weekly["params"]["tenant"], "acme");
    // 01:30 happens twice on 1 November in New York: it fires the first time (EDT) only.
    let next: Vec<(&str, &str)> = weekly["next"]
        .as_array()
        .expect("next")
        .iter()
        .map(|t| {
            (
                t["local"].as_str().unwrap_or(""),
                t["utc"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        next,
        [
            ("2026-10-25T01:30:00-04:00", "2026-10-25T05:30:00Z"),
            ("2026-11-01T01:30:00-04:00", "2026-11-01T05:30:00Z"),
            ("2026-11-08T01:30:00-05:00", "2026-11-08T06:30:00Z"),
        ]
    );
    let seconds = &triggers[1];
    assert_eq!(
        (&seconds["id"], &seconds["enabled"]),
        (&"1".into(), &false.into())
    );
    assert_eq!(seconds["timezone"], "UTC");
    assert_eq!(seconds["next"][0]["utc"], "2026-10-24T12:00:20Z");
    assert_eq!(seconds["next"][2]["utc"], "2026-10-24T12:01:00Z");
}

#[test]
fn an_invalid_flow_is_reported_and_skipped_with_exit_2() {
    let ran = run(&[
        "schedule",
        "list",
        "tests/fixtures/invalid/bad-timezone.yaml",
        "flows/rotate-tenant-key.yaml",
        "--at",
        AT,
        "--output",
        "json",
    ]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("unknown time zone `Europe/Berln`"),
        "{}",
        ran.stderr
    );
    let document: Value = serde_json::from_str(&ran.stdout).expect("json");
    assert_matches("schedule-list.schema.json", &document);
    assert_eq!(document["flows"][0]["flow"], "rotate-tenant-key");
    assert_eq!(
        document["flows"][0]["triggers"][0]["next"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
    assert_eq!(
        document["invalid"][0]["file"],
        "tests/fixtures/invalid/bad-timezone.yaml"
    );
    assert_eq!(
        document["invalid"][0]["diagnostics"][0]["suggestion"],
        "Europe/Berlin"
    );
}

#[test]
fn flows_without_triggers_are_left_out_and_a_bad_instant_is_refused() {
    let ran = run(&["schedule", "list", "flows/hello.yaml", "--at", AT]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.stdout, "no flow here has triggers\n");
    let ran = run(&["schedule", "list", "flows/", "--at", "yesterday"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("write an RFC 3339 time"),
        "{}",
        ran.stderr
    );
}

/// A flow with one confirmed destructive step and the given triggers.
fn destructive(triggers: &str) -> String {
    format!(
        "name: disable\nconnections:\n  aws: {{ connector: aws-kms, region: eu-west-1 }}\nsteps:\n  - id: disable\n    block: aws-kms.disable-key\n    confirm: true\n    with: {{ key_id: alias/old }}\ntriggers:\n{triggers}"
    )
}

#[test]
fn plan_says_whether_the_schedule_authorises_destructive_steps() {
    let (_dir, path) = flow_file(&destructive("  - id: monthly\n    cron: \"0 3 1 * *\"\n"));
    let ran = run(&["plan", path.to_str().expect("utf-8 path")]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout.contains(
            "scheduled runs of trigger `monthly` will refuse them (no `allow_destructive: true` on the trigger)"
        ),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("authorises"), "{}", ran.stdout);

    let (_dir, path) = flow_file(&destructive(
        "  - id: monthly\n    cron: \"0 3 1 * *\"\n    allow_destructive: true\n",
    ));
    let ran = run(&["plan", path.to_str().expect("utf-8 path")]);
    assert!(
        ran.stdout.contains(
            "! the schedule authorises them for the runs of trigger `monthly` (`allow_destructive: true`)"
        ),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("will refuse"), "{}", ran.stdout);
    let ran = run(&[
        "plan",
        path.to_str().expect("utf-8 path"),
        "--output",
        "json",
    ]);
    let document: Value = serde_json::from_str(&ran.stdout).expect("json");
    assert_matches("plan.schema.json", &document);
    assert_eq!(document["triggers"][0]["id"], "monthly");
    assert_eq!(document["triggers"][0]["allow_destructive"], true);
}

#[test]
fn the_example_folder_lists_its_schedules_with_the_flows_that_call_library_templates() {
    // flows/ has flows calling the `platform` library of flows/keyflow.yaml: checked as validate checks
    // them, they are valid, and the folder's one trigger is listed.
    let ran = run(&["schedule", "list", "flows/", "--at", AT, "--count", "1"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stderr.is_empty(), "{}", ran.stderr);
    assert!(
        ran.stdout
            .contains("rotate-tenant-key (flows/rotate-tenant-key.yaml)"),
        "{}",
        ran.stdout
    );
}
