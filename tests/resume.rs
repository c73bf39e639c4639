//! `keyflow resume RUN` and `keyflow run FILE --from RUN --rerun STEP`: a run killed or failed half way goes
//! on from its record, reusing what succeeded — and refuses when what succeeded has since changed.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Ran, keyflow, path_str};
use crate::runs::{Scratch, spawn_run};

impl Scratch {
    /// `keyflow resume RUN --store STORE --output json -q extra…`: the exit code, the report, what it said.
    fn resume(&self, run: &str, extra: &[&str]) -> (i32, Value, Ran) {
        let ran: Ran = keyflow()
            .args(["resume", run, "--output", "json", "-q", "--store"])
            .arg(self.store())
            .args(extra)
            .output()
            .expect("run keyflow")
            .into();
        let report = serde_json::from_str(&ran.stdout).unwrap_or(Value::Null);
        if !report.is_null() {
            crate::schemas::assert_matches("run-report.schema.json", &report);
        }
        (ran.code, report, ran)
    }
}

fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("no step `{id}` in {report:#}"))
}

const CHECKED: &str = "name: checked\nsteps:\n  - id: first\n    block: core.set\n    with: { v: 1 }\n  - id: check\n    block: core.assert\n    with: { value: $.steps.first.output.v, equals: 2, message: not yet }\n";

#[test]
fn a_killed_run_goes_on_from_its_record_and_what_succeeded_is_not_run_again() {
    let scratch = Scratch::new();
    let long = "name: killed\nsteps:\n  - id: first\n    block: core.set\n    with: { v: 1 }\n  - id: wait\n    block: core.sleep\n    after: [first]\n    with: { duration: 5m }\n  - id: last\n    block: core.set\n    with: { v: $.steps.first.output.v }\n    after: [wait]\noutputs:\n  v: $.steps.last.output.v\n";
    let flow = scratch.flow("killed.yaml", long);
    let mut child = spawn_run(&flow, &scratch.store());
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        let listed = if scratch.store().exists() {
            scratch.list(&[])
        } else {
            Vec::new()
        };
        if let Some(run) = listed.first() {
            let id = run["run_id"].as_str().unwrap_or_default().to_string();
            let shown = scratch.runs(&["show", &id, "--output", "json"]);
            let report: Value = serde_json::from_str(&shown.stdout).unwrap_or_default();
            if report["steps"].as_array().is_some_and(|s| !s.is_empty()) {
                break id;
            }
        }
        assert!(Instant::now() < deadline, "the run never recorded a step");
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    assert_eq!(scratch.list(&[])[0]["status"], "interrupted");
    // The step that was cut short did not succeed: editing it does not stop the resume.
    scratch.flow("killed.yaml", &long.replace("5m", "10ms"));
    let (code, report, ran) = scratch.resume(&id, &[]);
    assert_eq!(code, 0, "{}", ran.stderr);
    assert_eq!(report["run_id"], id.as_str(), "the same run goes on");
    assert_eq!(report["status"], "succeeded");
    assert_eq!(step(&report, "first")["reused"], true);
    assert_eq!(step(&report, "first")["attempts"], 1);
    assert!(step(&report, "wait")["reused"].is_null());
    assert_eq!(report["outputs"]["v"], 1);
    // The store has the whole run: one call of `first`, ever.
    let shown = scratch.runs(&["show", &id]);
    assert_eq!(
        shown.stdout.matches("attempt #1").count(),
        3,
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stdout
            .contains("reused: recorded before the run was resumed")
    );
    assert_eq!(scratch.list(&[])[0]["status"], "succeeded");
}

#[test]
fn a_failed_run_is_fixed_and_resumed_and_a_changed_step_needs_rerun() {
    let scratch = Scratch::new();
    let flow = scratch.flow("checked.yaml", CHECKED);
    let (code, report, _) = scratch.run(&flow, &[]);
    assert_eq!(code, 1);
    let id = report["run_id"].as_str().expect("run id").to_string();
    // A run that succeeded has nothing to resume; one that failed goes on once fixed.
    scratch.flow("checked.yaml", &CHECKED.replace("equals: 2", "equals: 1"));
    let (code, report, ran) = scratch.resume(&id, &[]);
    assert_eq!(code, 0, "{}", ran.stderr);
    assert_eq!(step(&report, "first")["reused"], true);
    assert_eq!(step(&report, "check")["status"], "succeeded");
    let (code, _, ran) = scratch.resume(&id, &[]);
    assert_eq!(code, 2);
    assert!(
        ran.stderr.contains("succeeded: there is nothing to resume"),
        "{}",
        ran.stderr
    );

    // A step that succeeded and then changed: its result may not stand.
    let (_, report, _) = scratch.run(&flow, &[]);
    let id = report["run_id"].as_str().expect("run id").to_string();
    scratch.flow(
        "checked.yaml",
        &CHECKED
            .replace("{ v: 1 }", "{ v: 2 }")
            .replace("equals: 2", "equals: 3"),
    );
    let (_, report, _) = scratch.run(&flow, &[]);
    let failed = report["run_id"].as_str().expect("run id").to_string();
    assert_eq!(report["status"], "failed");
    assert_ne!(failed, id);
    scratch.flow(
        "checked.yaml",
        &CHECKED
            .replace("{ v: 1 }", "{ v: 3 }")
            .replace("equals: 2", "equals: 3"),
    );
    let (code, _, ran) = scratch.resume(&failed, &[]);
    assert_eq!(code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("the flow changed since the run: step `first`")
            && ran.stderr.contains("--rerun"),
        "{}",
        ran.stderr
    );
    let (code, report, ran) = scratch.resume(&failed, &["--rerun", "first"]);
    assert_eq!(code, 0, "{}", ran.stderr);
    assert!(step(&report, "first")["reused"].is_null(), "{report:#}");
    assert_eq!(step(&report, "first")["output"]["v"], 3);
}

#[test]
fn a_new_run_reuses_another_runs_results_up_to_the_step_run_again() {
    let scratch = Scratch::new();
    let flow = scratch.flow("checked.yaml", &CHECKED.replace("equals: 2", "equals: 1"));
    let (code, first, _) = scratch.run(&flow, &[]);
    assert_eq!(code, 0);
    let first_id = first["run_id"].as_str().expect("run id");
    let (code, again, ran) = scratch.run(&flow, &["--from", first_id, "--rerun", "check"]);
    assert_eq!(code, 0, "{}", ran.stderr);
    assert_ne!(again["run_id"], first["run_id"], "a new run");
    assert_eq!(step(&again, "first")["reused"], true);
    assert_eq!(
        step(&again, "first")["output"],
        step(&first, "first")["output"]
    );
    assert!(step(&again, "check")["reused"].is_null());
    let ran: Ran = keyflow()
        .arg("run")
        .arg(&flow)
        .args(["--store", path_str(&scratch.store()), "--from", first_id])
        .args(["--rerun", "nope"])
        .output()
        .expect("run keyflow")
        .into();
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("the flow has no step `nope`"),
        "{}",
        ran.stderr
    );
}

#[test]
fn with_other_parameters_only_the_steps_whose_input_is_unchanged_stand() {
    let scratch = Scratch::new();
    let flow = scratch.flow(
        "tenants.yaml",
        "name: tenants\nparams:\n  tenant: { type: string }\nsteps:\n  - id: fixed\n    block: core.set\n    with: { v: 1 }\n  - id: named\n    block: core.set\n    with: { name: \"{{params.tenant}}\", v: $.steps.fixed.output.v }\n  - id: after\n    block: core.set\n    with: { v: $.steps.fixed.output.v }\n    after: [named]\n",
    );
    let (code, first, _) = scratch.run(&flow, &["-p", "tenant=a"]);
    assert_eq!(code, 0);
    let first_id = first["run_id"].as_str().expect("run id");
    let (code, other, ran) = scratch.run(&flow, &["-p", "tenant=b", "--from", first_id]);
    assert_eq!(code, 0, "{}", ran.stderr);
    assert_eq!(step(&other, "fixed")["reused"], true);
    assert!(step(&other, "named")["reused"].is_null(), "{other:#}");
    assert_eq!(step(&other, "named")["output"]["name"], "b");
    // It depends on a step that ran again, although its own input is the same.
    assert!(step(&other, "after")["reused"].is_null(), "{other:#}");
    let (code, same, _) = scratch.run(&flow, &["-p", "tenant=a", "--from", first_id]);
    assert_eq!(code, 0);
    for id in ["fixed", "named", "after"] {
        assert_eq!(step(&same, id)["reused"], true, "{id}: {same:#}");
    }
}
