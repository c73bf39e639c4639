//! The command line itself: help, exit codes, schemas, blocks, graphs.

use crate::harness::run;

#[test]
fn help_documents_commands_and_exit_codes() {
    let ran = run(&["--help"]);
    assert_eq!(ran.code, 0);
    for word in [
        "validate",
        "plan",
        "run",
        "blocks",
        "schema",
        "graph",
        "completions",
        "Exit codes",
    ] {
        assert!(
            ran.stdout.contains(word),
            "--help lacks {word}:\n{}",
            ran.stdout
        );
    }
}

#[test]
fn misuse_exits_with_2() {
    assert_eq!(run(&["run"]).code, 2);
    assert_eq!(run(&["frobnicate"]).code, 2);
    let ran = run(&["run", "no/such/flow.yaml"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("cannot read flow file `no/such/flow.yaml`"),
        "{}",
        ran.stderr
    );
}

#[test]
fn committed_schemas_are_fresh() {
    let ran = run(&["schema", "--out", "schemas", "--check"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
}

#[test]
fn plan_shows_groups_inputs_with_examples_and_effects() {
    let ran = run(&["plan", "flows/hello.yaml", "--param", "who=ops"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("5 steps in 3 groups"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("greeting: \"hello, ops\""),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("for each of 2 items"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("only if its `if:` holds"),
        "{}",
        ran.stdout
    );
    let ran = run(&["plan", "flows/hello.yaml", "--output", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&ran.stdout).expect("json plan");
    let steps = plan["steps"].as_array().expect("steps");
    let ids: Vec<&str> = steps.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, ["names", "per_region", "check", "loud", "say"]);
    assert_eq!(steps[0]["effect"], "read");
    assert_eq!(steps[4]["group"], 2);
    assert_eq!(
        steps[4]["input"]["message"],
        serde_json::json!(["hello, world from eu-west-1", "hello, world from eu-west-3"])
    );
}

#[test]
fn graph_draws_mermaid_and_dot() {
    let ran = run(&["graph", "flows/hello.yaml"]);
    assert_eq!(ran.code, 0);
    assert!(ran.stdout.starts_with("flowchart TD\n"));
    assert!(
        ran.stdout.contains("  names --> per_region\n") && ran.stdout.contains("  check --> say\n"),
        "{}",
        ran.stdout
    );
    let ran = run(&["graph", "flows/hello.yaml", "--format", "dot"]);
    assert!(
        ran.stdout.starts_with("digraph \"hello\" {")
            && ran.stdout.contains("\"per_region\" -> \"say\";"),
        "{}",
        ran.stdout
    );
}

#[test]
fn blocks_are_listed_and_described() {
    let ran = run(&["blocks", "list"]);
    for id in [
        "core.log",
        "core.set",
        "core.fail",
        "core.sleep",
        "core.assert",
    ] {
        assert!(
            ran.stdout.contains(id),
            "{id} missing from:\n{}",
            ran.stdout
        );
    }
    let ran = run(&["blocks", "describe", "core.sleep"]);
    assert_eq!(ran.code, 0);
    assert!(
        ran.stdout.contains("duration")
            && ran.stdout.contains("required")
            && ran.stdout.contains("slept_ms"),
        "{}",
        ran.stdout
    );
    let ran = run(&["blocks", "describe", "core.slep"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("did you mean `core.sleep`?"),
        "{}",
        ran.stderr
    );
    let ran = run(&["blocks", "describe", "core.log", "--output", "json"]);
    let descriptor: serde_json::Value = serde_json::from_str(&ran.stdout).expect("json");
    assert_eq!(
        descriptor["input"]["required"],
        serde_json::json!(["message"])
    );
}

#[test]
fn completions_are_generated() {
    let ran = run(&["completions", "bash"]);
    assert_eq!(ran.code, 0);
    assert!(
        ran.stdout.contains("_keyflow()") && ran.stdout.contains("validate"),
        "{}",
        &ran.stdout[..200.min(ran.stdout.len())]
    );
}

#[test]
fn parameters_are_checked_before_the_run() {
    let ran = run(&[
        "run",
        "flows/hello.yaml",
        "--param",
        "whom=x",
        "--param",
        "shout=loud",
        "--param",
        "regions=eu-west-1",
    ]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("parameter `whom`: the flow has no such parameter; did you mean `who`?"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("parameter `shout`: `loud` is not a boolean"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("parameter `regions`: `eu-west-1` is not an array"),
        "{}",
        ran.stderr
    );
    let ran = run(&["run", "flows/hello.yaml", "--param", "who"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("`--param who` needs a value"),
        "{}",
        ran.stderr
    );
}

#[test]
fn the_run_report_matches_its_published_schema() {
    let ran = run(&["run", "flows/hello.yaml", "--output", "json", "-q"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("report");
    let text =
        std::fs::read_to_string(crate::harness::root().join("schemas/run-report.schema.json"))
            .expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema json");
    let mut problems = Vec::new();
    keyflow_engine::schema::check::check(
        &schema,
        &schema,
        &report,
        &keyflow_engine::source::YamlPath::root(),
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:#?}");
    for key in [
        "run_id",
        "flow",
        "status",
        "started_at",
        "duration_ms",
        "outputs",
        "steps",
    ] {
        assert!(report.get(key).is_some(), "report lacks `{key}`");
    }
    for key in [
        "id",
        "block",
        "status",
        "attempts",
        "duration_ms",
        "output",
        "error",
    ] {
        assert!(
            report["steps"][0].get(key).is_some(),
            "step report lacks `{key}`"
        );
    }
}
