//! The example flows under `flows/` are product: every one validates, and the main ones run.

use crate::harness::{root, run, step};

fn flow_files() -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![root().join("flows")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("flows/").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && !path.ends_with("keyflow.yaml")
            {
                // keyflow.yaml is the project file, not a flow: tests/libraries checks it.
                files.push(
                    path.strip_prefix(root())
                        .expect("relative")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_flow_validates() {
    let files = flow_files();
    assert!(!files.is_empty(), "no flows found");
    for file in &files {
        let ran = run(&["validate", file]);
        assert_eq!(ran.code, 0, "{file} is invalid:\n{}", ran.stderr);
    }
}

#[test]
fn every_flow_names_the_schema_for_editors() {
    for file in flow_files() {
        let text = std::fs::read_to_string(root().join(&file)).expect("read");
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("# yaml-language-server: $schema="),
            "{file} lacks the $schema comment"
        );
        let schema = first.trim_start_matches("# yaml-language-server: $schema=");
        let target = root().join(&file).parent().expect("dir").join(schema);
        assert!(target.exists(), "{file}: {schema} does not exist");
    }
}

#[test]
fn hello_runs_end_to_end() {
    let ran = run(&[
        "run",
        "flows/hello.yaml",
        "--param",
        "who=operator",
        "--output",
        "json",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("report");
    assert_eq!(report["status"], "succeeded");
    assert_eq!(report["flow"], "hello");
    assert_eq!(report["outputs"]["greeting"], "hello, operator");
    assert_eq!(
        report["outputs"]["lines"],
        serde_json::json!([
            "hello, operator from eu-west-1",
            "hello, operator from eu-west-3"
        ])
    );
    assert_eq!(step(&report, "loud")["status"], "skipped");
    assert_eq!(step(&report, "per_region")["items"], 2);
}

#[test]
fn error_handling_runs_end_to_end() {
    let ran = run(&["run", "flows/error-handling.yaml", "--output", "json", "-q"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("report");
    assert_eq!(report["status"], "succeeded");
    assert_eq!(step(&report, "primary")["status"], "failed");
    assert_eq!(
        step(&report, "primary")["error"]["code"],
        "PrimaryUnavailable"
    );
    assert_eq!(step(&report, "report_error")["status"], "succeeded");
    assert_eq!(
        report["outputs"],
        serde_json::json!({ "region": "eu-west-1", "why": "primary ended failed" })
    );
    let ran = run(&[
        "run",
        "flows/error-handling.yaml",
        "--output",
        "json",
        "-q",
        "--param",
        "fail_first=false",
    ]);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("report");
    assert_eq!(step(&report, "primary")["status"], "skipped");
    assert_eq!(step(&report, "report_error")["status"], "skipped");
    assert_eq!(report["outputs"]["why"], "primary ended skipped");
    let ran = run(&[
        "run",
        "flows/error-handling.yaml",
        "-q",
        "--param",
        "expected_region=ap-south-1",
    ]);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stdout
            .contains("✗ check_region: AssertionFailed: the region must be in the EU or the US"),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_folder_validates_every_flow_in_it() {
    let ran = run(&["validate", "flows"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout.contains("flows/hello.yaml: valid")
            && ran.stdout.contains("flows/error-handling.yaml: valid"),
        "{}",
        ran.stdout
    );
}
