//! Every fixture under `tests/fixtures/invalid/` holds one mistake; its rendered diagnostic (position,
//! source line, caret, help) is pinned with insta.

use std::collections::BTreeSet;

use crate::harness::{root, run};

fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("tests/fixtures/invalid"))
        .expect("fixtures")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    names.sort();
    names
}

#[test]
fn each_invalid_fixture_renders_its_one_diagnostic() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/invalid");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    // The next fire times a misspelt zone's help shows depend on today.
    settings.add_filter(
        r"[A-Z][a-z]{2} \d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? [A-Z+\-0-9]+",
        "[fire time]",
    );
    for name in fixtures() {
        let path = format!("tests/fixtures/invalid/{name}");
        let ran = run(&["validate", &path]);
        assert_eq!(ran.code, 2, "{path} should be invalid:\n{}", ran.stderr);
        assert!(
            ran.stderr.contains("is invalid: 1 problem"),
            "{path} should hold exactly one mistake:\n{}",
            ran.stderr
        );
        let stem = name.trim_end_matches(".yaml").to_string();
        settings.bind(|| insta::assert_snapshot!(stem, ran.stderr));
    }
}

#[test]
fn fixtures_cover_every_required_kind_of_mistake() {
    let mut codes = BTreeSet::new();
    for name in fixtures() {
        let ran = run(&[
            "validate",
            "--output",
            "json",
            &format!("tests/fixtures/invalid/{name}"),
        ]);
        let results: serde_json::Value = serde_json::from_str(&ran.stdout).expect("json");
        for diagnostic in results["files"][0]["diagnostics"]
            .as_array()
            .expect("diagnostics")
        {
            assert!(
                diagnostic["line"].as_u64().is_some_and(|l| l > 0),
                "{name}: no line in {diagnostic}"
            );
            codes.insert(diagnostic["code"].as_str().unwrap_or_default().to_string());
        }
    }
    for code in [
        "yaml-syntax",
        "unknown-field",
        "unknown-block",
        "unknown-step",
        "unknown-output-field",
        "type-mismatch",
        "missing-input",
        "cycle",
        "duplicate-id",
        "invalid-reference",
        "invalid-template",
        "undeclared-param",
        "missing-reveal",
    ] {
        assert!(
            codes.contains(code),
            "no fixture for `{code}`; have {codes:?}"
        );
    }
}

#[test]
fn all_problems_of_a_flow_are_reported_at_once() {
    let ran = run(&["validate", "tests/fixtures/several-mistakes.yaml"]);
    assert_eq!(ran.code, 2);
    for expected in [
        "unknown block `core.lgo`",
        "unknown step `nmaes`",
        "undeclared parameter `tenant`",
        "duplicate step id `show`",
        "the output of step `wait` (`core.sleep`) has no field `slept`",
    ] {
        assert!(
            ran.stderr.contains(expected),
            "missing `{expected}` in:\n{}",
            ran.stderr
        );
    }
    assert!(
        ran.stderr.contains("is invalid: 5 problems"),
        "{}",
        ran.stderr
    );
}
