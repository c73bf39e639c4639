//! `core.render` with the flow: templates beside the flow are read, filled in and checked before a run.

use std::path::Path;

use crate::harness::{path_str, root, run, step};

/// The BYOK flow and its policy templates copied into a temporary folder, the templates passed through
/// `edit` first.
fn byok_copy(edit: impl Fn(&mut serde_json::Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("policies")).expect("policies folder");
    std::fs::copy(
        root().join("flows/byok-tenant-encryption.yaml"),
        dir.path().join("byok.yaml"),
    )
    .expect("copy the flow");
    for name in ["qlik-aws.json", "qlik-aws-us-gov.json"] {
        let text = std::fs::read_to_string(root().join("flows/policies").join(name)).expect("read");
        let mut policy: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        edit(&mut policy);
        std::fs::write(dir.path().join("policies").join(name), policy.to_string()).expect("write");
    }
    dir
}

fn validate(dir: &Path) -> crate::harness::Ran {
    run(&["validate", path_str(&dir.join("byok.yaml"))])
}

#[test]
fn the_rendered_policy_is_checked_against_qliks_rules_before_a_run() {
    let dir = byok_copy(|_| {});
    let ran = validate(dir.path());
    assert_eq!(ran.code, 0, "{}", ran.stderr);

    // A template edited so that Qlik may no longer describe the key: refused at the step that puts it.
    let dir = byok_copy(|policy| {
        let statements = policy["Statement"].as_array_mut().expect("statements");
        statements.retain(|s| s["Action"] != "kms:DescribeKey");
    });
    let ran = validate(dir.path());
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("error[missing-describe-key]"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("policy: $.steps.policy.output"),
        "points at the policy input: {}",
        ran.stderr
    );
}

#[test]
fn a_missing_template_or_value_is_reported_where_the_flow_names_it() {
    let dir = byok_copy(|_| {});
    std::fs::remove_file(dir.path().join("policies/qlik-aws.json")).expect("remove");
    let ran = validate(dir.path());
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("error[cannot-preview]"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("cannot read `policies/qlik-aws.json`"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("byok.yaml:"), "{}", ran.stderr);
    // Only that: the rules are not run on a stand-in policy.
    assert!(!ran.stderr.contains("missing-proxy-role"), "{}", ran.stderr);

    let dir = byok_copy(|policy| {
        policy["Statement"][0]["Sid"] = "for {{owner}}".into();
    });
    let ran = validate(dir.path());
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("`policies/qlik-aws.json` at `Statement[0].Sid`: owner is missing: give it under `data:`"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_run_renders_the_file_beside_the_flow_whatever_the_current_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("docs")).expect("docs");
    std::fs::write(
        dir.path().join("docs/card.yaml"),
        "title: 'Key of {{tenant}}'\nsize: 3\n",
    )
    .expect("template");
    let flow = "name: card\nsteps:\n  - id: card\n    block: core.render\n    with:\n      file: docs/card.yaml\n      data: { tenant: acme }\n  - id: size\n    block: core.assert\n    with: { value: $.steps.card.output.size, equals: 3 }\noutputs:\n  title: $.steps.card.output.title\n";
    std::fs::write(dir.path().join("card.yaml"), flow).expect("flow");
    let mut command = crate::harness::keyflow();
    command.current_dir(std::env::temp_dir());
    let ran: crate::harness::Ran = command
        .args([
            "run",
            path_str(&dir.path().join("card.yaml")),
            "--output",
            "json",
            "-q",
        ])
        .output()
        .expect("run")
        .into();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("report");
    assert_eq!(report["outputs"]["title"], "Key of acme");
    assert_eq!(step(&report, "size")["status"], "succeeded");

    // From a flow that names a file that is not there, the run stops before any step.
    let (_dir, path) = crate::harness::flow_file(
        "name: x\nsteps:\n  - id: card\n    block: core.render\n    with: { file: nowhere.json }\n",
    );
    let ran = run(&["run", path_str(&path)]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("cannot read `nowhere.json`"),
        "{}",
        ran.stderr
    );
}
