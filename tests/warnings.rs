//! Warnings: a reference into the free-form part of a step's output (a raw request's response, a plugin
//! block's `Value` field) cannot be checked before the run, and the checker says so where it is written —
//! `warning[free-form-output]` at its line and column, `"severity": "warning"` in the machine formats —
//! without making the flow invalid: `validate` exits 0, `plan` and `run` show it and go on. A misspelt
//! field of a typed output stays an error.

use serde_json::Value;

use crate::aws_kms::KMS;
use crate::harness::{Ran, flow_file, path_str, run, run_flow};
use crate::plugins::{in_dir, json_store};

/// A raw DescribeKey whose response a later step reads into (line 12, column 41: `KeyMetadata`).
fn raw_flow() -> String {
    format!(
        "name: raw-reader
{KMS}steps:
  - id: key
    block: aws-kms.create-key
  - id: raw
    block: aws-kms.request
    with: {{ operation: DescribeKey, body: {{ KeyId: $.steps.key.output.KeyMetadata.KeyId }} }}
  - id: show
    block: core.log
    with: {{ message: $.steps.raw.output.KeyMetadata.KeyId }}
"
    )
}

fn json(ran: &Ran) -> Value {
    serde_json::from_str(&ran.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", ran.stdout, ran.stderr))
}

#[test]
fn a_reference_into_a_raw_response_is_a_warning_at_its_place_and_the_flow_is_valid() {
    let (_dir, path) = flow_file(&raw_flow());
    let file = path_str(&path);
    let text = run(&["validate", file]);
    assert_eq!(
        text.code, 0,
        "warnings never fail validate:\n{}",
        text.stderr
    );
    assert!(
        text.stdout.contains("valid (3 steps, 1 warning)"),
        "{}",
        text.stdout
    );
    let expected = format!(
        "warning[free-form-output]: the output of step `raw` (`aws-kms.request`) is free-form: `KeyMetadata` is not checked before the run
  --> {file}:12:41
   |
12 |     with: {{ message: $.steps.raw.output.KeyMetadata.KeyId }}
   |{under}^^^^^^^^^^^
   |
   = help: its block declares no fields here, so a misspelt name is found only by the run, when it selects nothing: check the name against the service's documentation",
        under = " ".repeat(41)
    );
    assert!(text.stderr.contains(&expected), "{}", text.stderr);
    assert_eq!(
        text.stderr.matches("warning[").count(),
        1,
        "{}",
        text.stderr
    );
    assert!(!text.stderr.contains("error"), "{}", text.stderr);

    let machine = run(&["validate", "--output", "json", file]);
    assert_eq!(machine.code, 0, "{}", machine.stderr);
    let document = json(&machine);
    crate::schemas::assert_matches("validate.schema.json", &document);
    assert_eq!(document["status"], "valid");
    assert_eq!(document["files"][0]["valid"], true);
    let diagnostics = document["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{document:#}");
    let warning = &diagnostics[0];
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["code"], "free-form-output");
    assert_eq!(
        (&warning["line"], &warning["column"]),
        (&12.into(), &41.into())
    );
    assert_eq!(warning["end_column"], 52, "under `KeyMetadata`");
}

#[test]
fn the_machine_formats_mark_a_warning_as_a_warning() {
    let (_dir, path) = flow_file(&raw_flow());
    let file = path_str(&path);
    let sarif = run(&["validate", "--format", "sarif", file]);
    assert_eq!(sarif.code, 0, "{}", sarif.stderr);
    let log = json(&sarif);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["level"], "warning", "{log:#}");
    assert_eq!(result["ruleId"], "free-form-output");
    let rule = &log["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["defaultConfiguration"]["level"], "warning", "{rule}");
    let github = run(&["validate", "--format", "github", file]);
    assert_eq!(github.code, 0, "{}", github.stderr);
    assert!(
        github
            .stdout
            .starts_with(&format!("::warning file={file},line=12,col=41,")),
        "{}",
        github.stdout
    );
}

#[test]
fn a_misspelt_field_of_a_typed_output_stays_an_error_beside_the_warning() {
    let flow = raw_flow().replace(
        "KeyId: $.steps.key.output.KeyMetadata.KeyId",
        "KeyId: $.steps.key.output.KeyMetadata.KeyID",
    );
    let (_dir, path) = flow_file(&flow);
    let file = path_str(&path);
    let text = run(&["validate", file]);
    assert_eq!(text.code, 2, "{}", text.stderr);
    assert!(
        text.stderr.contains("error[unknown-output-field]")
            && text.stderr.contains("did you mean `KeyId`?")
            && text.stderr.contains("warning[free-form-output]"),
        "{}",
        text.stderr
    );
    assert!(
        text.stderr.contains("is invalid: 1 problem, 1 warning"),
        "{}",
        text.stderr
    );
    let document = json(&run(&["validate", "--output", "json", file]));
    crate::schemas::assert_matches("validate.schema.json", &document);
    let severities: Vec<(&str, &str)> = document["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default(),
                d["severity"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        severities,
        [
            ("unknown-output-field", "error"),
            ("free-form-output", "warning")
        ]
    );
}

#[test]
fn only_a_reference_into_the_free_form_part_warns() {
    // The whole raw output, the Qlik status (declared) and the body itself are read without a warning;
    // `body.data` reads into the free-form body.
    let flow = r#"name: whole
connections:
  aws: { connector: aws-kms, region: eu-west-1 }
  qlik: { connector: qlik-cloud, tenant_url: https://t.eu.qlikcloud.com, api_key: { env: QLIK_API_KEY } }
steps:
  - id: raw
    block: aws-kms.request
    with: { operation: ListKeys }
  - id: keep
    block: core.set
    with: { all: $.steps.raw.output }
  - id: qlik
    block: qlik-cloud.request
    with: { method: GET, path: /api/v1/spaces }
  - id: status
    block: core.log
    with: { message: "{{steps.qlik.output.status}} {{steps.qlik.output.body}}" }
  - id: spaces
    block: core.log
    with: { message: $.steps.qlik.output.body.data }
"#;
    let (_dir, path) = flow_file(flow);
    let ran = run(&["validate", "--output", "json", path_str(&path)]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let document = json(&ran);
    let diagnostics = document["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{document:#}");
    assert_eq!(diagnostics[0]["severity"], "warning");
    assert_eq!(diagnostics[0]["line"], 20, "{document:#}");
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("step `qlik`") && m.contains("`data`")),
        "{document:#}"
    );
}

#[test]
fn plan_and_run_show_the_warning_and_go_on() {
    let plan = {
        let (_dir, path) = flow_file(&raw_flow());
        run(&["plan", "--output", "json", path_str(&path)])
    };
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stderr.contains("warning[free-form-output]"),
        "{}",
        plan.stderr
    );
    let document = json(&plan);
    crate::schemas::assert_matches("plan.schema.json", &document);
    assert_eq!(
        document["warnings"][0]["code"], "free-form-output",
        "{document:#}"
    );

    let (code, report, ran) = run_flow(crate::sandbox::bare(), &raw_flow(), &["--sandbox"]);
    assert_eq!(code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("warning[free-form-output]"),
        "{}",
        ran.stderr
    );
    assert_eq!(report["status"], "succeeded", "{report:#}");
}

#[test]
fn a_plugin_blocks_free_form_output_warns_like_a_built_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plugin = json_store();
    let added = in_dir(
        dir.path(),
        &["plugin", "add", plugin.to_str().expect("utf-8")],
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
    let flow = "name: notes
connections:
  store: { connector: json-store, path: notes.json }
steps:
  - id: get
    block: json-store.get
    with: { key: tenant-42 }
outputs:
  arn: $.steps.get.output.value.key_arn
  key: $.steps.get.output.key
";
    std::fs::write(dir.path().join("flow.yaml"), flow).expect("write flow");
    let ran = in_dir(dir.path(), &["validate", "flow.yaml"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "warning[free-form-output]: the output of step `get` (`json-store.get`) is free-form: `key_arn`"
        ) && ran.stderr.contains("flow.yaml:9:33"),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.stderr.matches("warning[").count(), 1, "{}", ran.stderr);
}
