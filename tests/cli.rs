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
    crate::schemas::assert_matches("run-report.schema.json", &report);
    assert_eq!(report["format_version"], 1);
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

/// Runs `script` (in a pseudo-terminal, so that stderr is a terminal) over a shell command line.
fn in_terminal(command: &str) -> String {
    let output = std::process::Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .current_dir(crate::harness::root())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env("TERM", "xterm-256color")
        .output()
        .expect("script (util-linux)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn colors_are_decided_for_each_stream() {
    let keyflow = assert_cmd::cargo::cargo_bin("keyflow");
    let keyflow = keyflow.display();
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = dir.path().join("plan.txt");
    // stdout to a file, stderr on the terminal: the file gets no escape codes, the terminal does.
    let terminal = in_terminal(&format!(
        "{keyflow} plan flows/hello.yaml > {plan}; {keyflow} plan tests/fixtures/invalid/cycle.yaml > /dev/null",
        plan = plan.display()
    ));
    let written = std::fs::read_to_string(&plan).expect("plan written");
    assert!(written.contains("5 steps in 3 groups"), "{written}");
    assert!(
        !written.contains('\x1b'),
        "escape codes in the file: {written:?}"
    );
    // Only stderr reached the terminal: its escape codes are the diagnostics'.
    assert!(
        terminal.contains("error[cycle]") && terminal.contains('\x1b'),
        "no colors on the terminal: {terminal:?}"
    );
    // NO_COLOR (set, not empty) and --color never turn them off on the terminal too.
    let terminal = in_terminal(&format!(
        "NO_COLOR=1 {keyflow} plan tests/fixtures/invalid/cycle.yaml; {keyflow} --color never plan tests/fixtures/invalid/cycle.yaml"
    ));
    assert!(terminal.contains("error[cycle]"), "{terminal:?}");
    assert!(!terminal.contains('\x1b'), "{terminal:?}");
    // CLICOLOR_FORCE and --color always color a file.
    let forced = in_terminal(&format!(
        "CLICOLOR_FORCE=1 {keyflow} plan flows/hello.yaml > {plan}",
        plan = plan.display()
    ));
    let written = std::fs::read_to_string(&plan).expect("plan written");
    assert!(written.contains('\x1b'), "{written:?} {forced:?}");
    let ran = crate::harness::keyflow()
        .args(["--color", "always", "plan", "flows/hello.yaml"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&ran.stdout).contains('\x1b'));
}

#[test]
fn run_help_puts_the_sandbox_flags_under_their_heading_with_defaults_from_clap() {
    let ran = run(&["run", "--help"]);
    assert_eq!(ran.code, 0);
    let heading = ran
        .stdout
        .find("Sandbox (with --sandbox):")
        .unwrap_or_else(|| panic!("no sandbox heading:\n{}", ran.stdout));
    let sandbox = &ran.stdout[heading..];
    for flag in [
        "--sandbox",
        "--state",
        "--tenant-region",
        "--migration-seconds",
        "--no-quotas",
        "--quota",
    ] {
        assert!(
            sandbox.contains(flag),
            "{flag} not under the heading:\n{}",
            ran.stdout
        );
    }
    assert!(sandbox.contains("[default: eu-west-1]"), "{}", ran.stdout);
    assert!(sandbox.contains("[default: 5]"), "{}", ran.stdout);
    assert!(ran.stdout.contains("[default: 8]"), "{}", ran.stdout);
    assert!(!ran.stdout[..heading].contains("--state"), "{}", ran.stdout);
}

/// What the shell gets when it asks for completions of `words` (the last one being completed), through
/// the fish protocol of clap_complete's dynamic engine.
fn completions(words: &[&str]) -> String {
    let ran: crate::harness::Ran = crate::harness::keyflow()
        .env("COMPLETE", "fish")
        .arg("--")
        .arg("keyflow")
        .args(words)
        .output()
        .expect("run")
        .into();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    ran.stdout
}

#[test]
fn completion_offers_block_ids_parameter_names_and_flow_files() {
    let blocks = completions(&["blocks", "describe", "aws-kms.create-"]);
    assert!(blocks.contains("aws-kms.create-key"), "{blocks}");
    assert!(blocks.contains("aws-kms.create-alias"), "{blocks}");
    assert!(!blocks.contains("core.log"), "{blocks}");
    let params = completions(&["run", "flows/hello.yaml", "--param", ""]);
    assert!(params.contains("who="), "{params}");
    assert!(params.contains("regions="), "{params}");
    let files = completions(&["validate", "flows/he"]);
    assert!(files.contains("flows/hello.yaml"), "{files}");
    let files = completions(&["plan", "flows/"]);
    assert!(files.contains("flows/policies/"), "{files}");
    assert!(!files.contains(".json"), "{files}");
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let ran = run(&["--version"]);
    assert_eq!(ran.code, 0);
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(crate::harness::root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    assert_eq!(
        ran.stdout.trim(),
        format!("keyflow {} (commit {head})", env!("CARGO_PKG_VERSION"))
    );
}
