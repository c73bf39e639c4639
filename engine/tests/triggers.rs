//! Triggers through the checker: what a valid one becomes in the plan, and each problem reported at
//! once with its place.

use keyflow_engine::block::Registry;
use keyflow_engine::diagnostic::render_all;
use keyflow_engine::model::{CatchUp, Overlap};
use keyflow_engine::plan::Plan;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;

const PARAMS: &str = "name: t\nparams:\n  tenant: { type: string }\n  days: { type: integer, default: 30 }\nsteps: []\n";

fn checked(triggers: &str) -> Result<Plan, String> {
    let source = SourceFile::new("t.yaml", format!("{PARAMS}triggers:\n{triggers}"));
    check(source.clone(), &Registry::new()).map_err(|found| render_all(&found, &source, false))
}

#[test]
fn a_valid_trigger_takes_its_defaults() {
    let plan = checked(
        "  - cron: \"0 3 1 * *\"\n    timezone: Europe/Berlin\n    params: { tenant: acme }\n  - id: nightly\n    cron: \"0 0 2 * * *\"\n    params: { tenant: acme, days: 7 }\n    overlap: queue\n    catch_up: all\n    catch_up_window: 2d\n    enabled: false\n    pause_after_failures: 3\n    allow_destructive: true\n",
    )
    .expect("valid");
    let [monthly, nightly] = &plan.triggers[..] else {
        panic!("two triggers: {:?}", plan.triggers);
    };
    assert_eq!(monthly.id, "0");
    assert_eq!(monthly.zone.name(), "Europe/Berlin");
    assert_eq!(
        (monthly.overlap, monthly.catch_up, monthly.enabled),
        (Overlap::Skip, CatchUp::Latest, true)
    );
    assert_eq!(monthly.catch_up_window, None);
    assert!(!monthly.allow_destructive);
    assert_eq!(nightly.id, "nightly");
    assert_eq!(nightly.zone.name(), "UTC");
    assert!(nightly.cron.has_seconds());
    assert_eq!(
        (nightly.overlap, nightly.catch_up, nightly.enabled),
        (Overlap::Queue, CatchUp::All, false)
    );
    assert_eq!(
        nightly.catch_up_window.map(|w| w.as_secs()),
        Some(2 * 86_400)
    );
    assert_eq!(nightly.pause_after_failures, Some(3));
    assert!(nightly.allow_destructive);
}

#[test]
fn every_trigger_problem_is_reported_at_once_where_it_is() {
    let found = checked(
        "  - id: a\n    cron: \"0 3 * *\"\n    params: { tenant: acme }\n  - id: a\n    cron: \"0 3 1 * *\"\n    timezone: Berlin\n    params: { tenant: acme, dayz: 3 }\n    catch_up: none\n    catch_up_window: 1h\n  - cron: \"0 3 1 * *\"\n    catch_up: all\n    pause_after_failures: 0\n",
    )
    .expect_err("invalid");
    for expected in [
        "error[invalid-cron]: invalid cron expression: the cron expression has 4 fields, not 5 or 6\n --> t.yaml:8:11",
        "error[invalid-trigger]: duplicate trigger id `a`: trigger 0 has it already\n  --> t.yaml:10:9",
        "error[unknown-timezone]: unknown time zone `Berlin`\n  --> t.yaml:12:15",
        "did you mean `Europe/Berlin`?",
        "error[trigger-param]: trigger `a`: parameter `dayz`: the flow has no such parameter\n  --> t.yaml:13:29",
        "did you mean `days`?",
        "`catch_up_window` has no effect with `catch_up: none`",
        "error[trigger-param]: trigger `2`: parameter `tenant`: required; give it under the trigger's `params:`\n  --> t.yaml:16:5",
        "`catch_up: all` needs a `catch_up_window`",
        "`pause_after_failures` must be at least 1",
    ] {
        assert!(found.contains(expected), "no `{expected}` in:\n{found}");
    }
}

#[test]
fn a_misspelt_zone_gets_the_nearest_name() {
    for (written, nearest) in [
        ("Europe/Berln", "Europe/Berlin"),
        ("america/new_york", "America/New_York"),
        ("New York", "America/New_York"),
    ] {
        let found = checked(&format!(
            "  - cron: \"0 3 1 * *\"\n    timezone: {written}\n    params: {{ tenant: acme }}\n"
        ))
        .expect_err("invalid");
        assert!(
            found.contains(&format!("did you mean `{nearest}`?")),
            "{written}:\n{found}"
        );
    }
}

#[test]
fn trigger_params_are_checked_like_param_flags() {
    let found = checked("  - cron: \"0 3 1 * *\"\n    params: { tenant: 42, days: thirty }\n")
        .expect_err("invalid");
    assert!(
        found.contains("trigger `0`: parameter `tenant`: expected a string, got `42`"),
        "{found}"
    );
    assert!(
        found.contains("trigger `0`: parameter `days`: expected an integer, got `\"thirty\"`"),
        "{found}"
    );
}
