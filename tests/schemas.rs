//! Every published schema against what it describes, checked by an independent validator (the
//! `jsonschema` crate): the shipped flows against `flow.schema.json`, each block's example output against
//! its output schema, and the documents the commands print against theirs. The committed schemas and man
//! pages are what the code generates.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{path_str, root, run};

/// A compiled schema of `schemas/`.
pub fn validator(file: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas").join(file)).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{file} is no valid schema: {e}"))
}

/// Panics with every error when `instance` does not match the schema `file`.
pub fn assert_matches(file: &str, instance: &Value) {
    let validator = validator(file);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "does not match {file}:\n{}\n{instance:#}",
        errors.join("\n")
    );
}

fn flow_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("flows").flatten() {
        let path = entry.path();
        if path.is_dir() {
            flow_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && !path.ends_with("keyflow.yaml")
        {
            // keyflow.yaml is the project file (project.schema.json): tests/libraries checks it.
            found.push(path);
        }
    }
}

#[test]
fn committed_schemas_and_man_pages_are_fresh() {
    let ran = run(&["schema", "--out", "schemas", "--check"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let ran = run(&["man", "--out", "docs/man", "--check"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
}

#[test]
fn every_shipped_flow_matches_the_editor_schema() {
    let validator = validator("flow.schema.json");
    let mut files = Vec::new();
    flow_files(&root().join("flows"), &mut files);
    assert!(files.len() >= 10, "{files:?}");
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("flow");
        let flow: Value = serde_yaml::from_str(&text).expect("YAML");
        for error in validator.iter_errors(&flow) {
            problems.push(format!(
                "{}: {error} at {}",
                file.display(),
                error.instance_path()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn any_connection_setting_may_come_from_the_environment_or_a_file() {
    let validator = validator("flow.schema.json");
    let flow = serde_json::json!({
        "name": "x",
        "connections": {
            "qlik": { "connector": "qlik-cloud", "tenant_url": { "env": "QLIK_TENANT_URL" },
                      "api_key": { "file": "/run/secrets/qlik" } },
            "aws": { "connector": "aws-kms", "region": { "env": "AWS_REGION" } }
        },
        "steps": [{ "id": "a", "block": "core.log", "with": { "message": "hi" } }]
    });
    assert!(validator.is_valid(&flow));
    // A secret stays refused when written literally, as the checker refuses it.
    let mut literal = flow.clone();
    literal["connections"]["qlik"]["api_key"] = Value::from("key-in-the-file");
    assert!(!validator.is_valid(&literal));
}

#[test]
fn every_block_example_output_matches_its_output_schema() {
    let validator = validator("block.schema.json");
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("schemas/blocks")).expect("blocks") {
        let path = entry.expect("entry").path();
        let descriptor: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("descriptor"))
                .expect("JSON");
        assert!(
            validator.is_valid(&descriptor),
            "{}: not a block descriptor",
            path.display()
        );
        let output = jsonschema::validator_for(&descriptor["output"])
            .unwrap_or_else(|e| panic!("{}: output schema: {e}", path.display()));
        let errors: Vec<String> = output
            .iter_errors(&descriptor["example_output"])
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{}: example output: {}",
            path.display(),
            errors.join("; ")
        );
        checked += 1;
    }
    assert!(checked > 30, "only {checked} blocks");
}

#[test]
fn every_json_document_matches_its_schema() {
    let json = |args: &[&str]| -> Value {
        let ran = run(args);
        serde_json::from_str(&ran.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}{}", ran.stdout, ran.stderr))
    };
    let blocks = json(&["blocks", "list", "--output", "json"]);
    assert_eq!(blocks["format_version"], 1);
    assert_matches("blocks.schema.json", &blocks);
    let block = json(&[
        "blocks",
        "describe",
        "aws-kms.create-key",
        "--output",
        "json",
    ]);
    assert_eq!(block["format_version"], 1);
    assert_matches("block.schema.json", &block);
    for args in [
        &["validate", "--output", "json", "flows"][..],
        &[
            "validate",
            "--output",
            "json",
            "tests/fixtures/several-mistakes.yaml",
        ],
    ] {
        let document = json(args);
        assert_eq!(document["format_version"], 1);
        assert_matches("validate.schema.json", &document);
    }
    for args in [
        &[
            "plan",
            "flows/byok-tenant-encryption.yaml",
            "--output",
            "json",
        ][..],
        &[
            "plan",
            "tests/fixtures/several-mistakes.yaml",
            "--output",
            "json",
        ],
        &[
            "plan",
            "flows/hello.yaml",
            "--output",
            "json",
            "--param",
            "whom=x",
        ],
    ] {
        let document = json(args);
        assert_eq!(document["format_version"], 1);
        assert_matches("plan.schema.json", &document);
    }
    for args in [
        &["run", "flows/hello.yaml", "--output", "json", "-q"][..],
        &["run", "flows/error-handling.yaml", "--output", "json", "-q"],
        &[
            "run",
            "tests/fixtures/several-mistakes.yaml",
            "--output",
            "json",
        ],
    ] {
        let document = json(args);
        assert_eq!(document["format_version"], 1);
        assert_matches("run-report.schema.json", &document);
    }
}

#[test]
fn the_sandbox_runs_of_the_shipped_flows_match_the_report_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state.json");
    let state = path_str(&state);
    let validator = validator("run-report.schema.json");
    for (flow, extra) in [
        ("flows/byok-tenant-encryption.yaml", &[][..]),
        ("flows/rotate-tenant-key.yaml", &[][..]),
        ("flows/audit-keys.yaml", &["--param", "tenant_id=x"][..]),
        ("flows/emergency-disable-key.yaml", &[][..]),
        ("flows/revert-to-qlik-key.yaml", &[][..]),
        ("flows/kms-tenant-key.yaml", &[][..]),
        ("flows/onboard-tenants.yaml", &[][..]),
        ("flows/rotate-tenants.yaml", &[][..]),
        ("flows/hello.yaml", &[][..]),
        ("flows/error-handling.yaml", &[][..]),
    ] {
        let mut args = vec!["--state", state, "--allow-destructive", "-q"];
        args.extend_from_slice(extra);
        let (ran, report) = crate::sandbox::sandboxed(flow, &args);
        assert_eq!(ran.code, 0, "{flow}: {}\n{}", ran.stdout, ran.stderr);
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{flow}: {}", errors.join("\n"));
    }
}
