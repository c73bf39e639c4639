//! What programs read: `status: "invalid"` documents from `run` and `plan`, GitHub annotations, SARIF,
//! and the JSON lines of a run.

use serde_json::Value;

use crate::harness::{flow_file, path_str, run};
use crate::schemas::assert_matches;

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn run_and_plan_print_the_diagnostics_of_an_invalid_flow_as_json() {
    let validated = run(&[
        "validate",
        "--output",
        "json",
        "tests/fixtures/several-mistakes.yaml",
    ]);
    let expected = &json(&validated.stdout)["files"][0]["diagnostics"];
    assert_eq!(expected.as_array().map(Vec::len), Some(5), "{expected:#}");
    for (command, schema) in [
        ("run", "run-report.schema.json"),
        ("plan", "plan.schema.json"),
    ] {
        let ran = run(&[
            command,
            "tests/fixtures/several-mistakes.yaml",
            "--output",
            "json",
        ]);
        assert_eq!(ran.code, 2, "{}", ran.stderr);
        let document = json(&ran.stdout);
        assert_eq!(document["status"], "invalid");
        assert_eq!(&document["diagnostics"], expected);
        assert_matches(schema, &document);
    }
    let first = &expected[0];
    for key in [
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "severity",
        "code",
    ] {
        assert!(first.get(key).is_some(), "no `{key}` in {first}");
    }
}

#[test]
fn run_and_plan_print_wrong_parameters_as_json() {
    for command in ["run", "plan"] {
        let ran = run(&[
            command,
            "flows/hello.yaml",
            "--output",
            "json",
            "--param",
            "whom=x",
        ]);
        assert_eq!(ran.code, 2, "{command}: {}", ran.stderr);
        let document = json(&ran.stdout);
        assert_eq!(document["status"], "invalid", "{document:#}");
        assert_eq!(document["diagnostics"][0]["code"], "invalid-param");
        let message = document["diagnostics"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains("did you mean `who`?"), "{message}");
    }
}

#[test]
fn validate_writes_github_annotations() {
    let ran = run(&[
        "validate",
        "--format",
        "github",
        "tests/fixtures/invalid/unknown-block.yaml",
    ]);
    assert_eq!(ran.code, 2);
    let line = ran.stdout.lines().next().unwrap_or("");
    assert!(
        line.starts_with("::error file=tests/fixtures/invalid/unknown-block.yaml,line=",)
            && line.contains(",col=")
            && line.contains(",endLine=")
            && line.contains(",endColumn=")
            && line.contains(",title=keyflow unknown-block::unknown block"),
        "{}",
        ran.stdout
    );
}

#[test]
fn validate_writes_sarif() {
    let ran = run(&[
        "validate",
        "--format",
        "sarif",
        "tests/fixtures/several-mistakes.yaml",
        "flows/hello.yaml",
    ]);
    assert_eq!(ran.code, 2);
    let log = json(&ran.stdout);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "keyflow");
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 5, "{results:#?}");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    for result in results {
        assert!(rules.contains(&result["ruleId"].as_str().unwrap_or("")));
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(
            location["artifactLocation"]["uri"],
            "tests/fixtures/several-mistakes.yaml"
        );
        assert!(
            location["region"]["startLine"]
                .as_u64()
                .is_some_and(|l| l > 0)
        );
        assert!(location["region"]["endColumn"].as_u64().is_some());
    }
}

#[test]
fn a_run_can_be_followed_line_by_line() {
    let (_dir, flow) = flow_file(
        "name: x\nsteps:\n  - id: hello\n    block: core.log\n    with: { message: hi }\n  - id: flaky\n    block: core.sleep\n    after: hello\n    timeout: 10ms\n    retry: { attempts: 2, backoff: 1ms }\n    with: { duration: 10s }\n    on_error: continue\n",
    );
    let ran = run(&["run", path_str(&flow), "-q", "--output", "jsonl"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let lines: Vec<Value> = ran.stdout.lines().map(json).collect();
    for line in &lines {
        assert_matches("run-events.schema.json", line);
    }
    let events: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    assert_eq!(events.first(), Some(&"step_started"), "{events:?}");
    assert!(events.contains(&"log"), "{events:?}");
    assert!(events.contains(&"retrying"), "{events:?}");
    assert!(events.contains(&"step_finished"), "{events:?}");
    assert_eq!(events.last(), Some(&"report"), "{events:?}");
    let report = &lines[lines.len() - 1]["report"];
    assert_eq!(report["status"], "succeeded");
    assert_eq!(report["steps"][1]["attempts"], 2);
}
