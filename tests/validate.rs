//! `keyflow validate`: valid flows pass; invalid ones are reported with exit code 2.

use crate::harness::{flow_file, path_str, run};

#[test]
fn an_invalid_flow_exits_with_2_and_points_at_the_problem() {
    let (_dir, path) = flow_file("name: x\nsteps:\n  - id: a\n    block: core.lgo\n");
    let ran = run(&["validate", path_str(&path)]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("error[unknown-block]: unknown block `core.lgo`"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("flow.yaml:4:12"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("did you mean `core.log`?"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_misspelt_field_does_not_hide_the_other_problems() {
    // `wiht` is read as the `with` it suggests: its input is checked (a typo in the reference), and the
    // problem in the other step is reported too; no "missing input" follows from the typo.
    let flow = "name: x\nparams:\n  who: { type: string, default: ops }\nsteps:\n  - id: a\n    block: core.log\n    wiht: { message: $.params.woh }\n  - id: b\n    block: core.log\n    with: { message: $.steps.c.output }\n";
    let ran = crate::harness::validate_yaml(flow);
    assert_eq!(ran.code, 2);
    for expected in [
        "error[unknown-field]: unknown field `wiht`",
        "did you mean `with`?",
        "error[undeclared-param]: undeclared parameter `woh`",
        "error[unknown-step]",
        "3 problems",
    ] {
        assert!(ran.stderr.contains(expected), "{expected}:\n{}", ran.stderr);
    }
    assert!(!ran.stderr.contains("missing-input"), "{}", ran.stderr);

    // A misspelt `params:` is read as `params:`: its uses are not reported as undeclared.
    let flow = "name: x\nparamz:\n  who: { type: string }\nsteps:\n  - id: a\n    block: core.log\n    with: { message: $.params.who }\n";
    let ran = crate::harness::validate_yaml(flow);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("unknown field `paramz`") && ran.stderr.contains("1 problem"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_secret_wired_on_purpose_validates_and_one_wired_by_mistake_does_not() {
    let flow = |reveal: &str, output: &str| {
        format!(
            "name: x\nconnections:\n  aws: {{ connector: aws-kms, region: eu-west-1 }}\nsteps:\n  - id: dk\n    block: aws-kms.generate-data-key\n    with: {{ key_id: alias/a, key_spec: AES_256 }}\n  - id: seal\n    block: aws-kms.encrypt\n    with: {{ key_id: alias/b, plaintext: $.steps.dk.output.Plaintext }}\n  - id: show\n    block: core.log\n{reveal}    with: {{ message: \"{{{{steps.dk.output.Plaintext}}}}\" }}\noutputs:\n  key: {output}\n"
        )
    };
    let meant = flow(
        "    reveal: true\n",
        "{ value: $.steps.dk.output.Plaintext, reveal: true }",
    );
    let ran = crate::harness::validate_yaml(&meant);
    assert_eq!(ran.code, 0, "{}", ran.stderr);

    let ran = crate::harness::validate_yaml(&flow("", "$.steps.dk.output.Plaintext"));
    assert_eq!(ran.code, 2);
    for expected in [
        "error[missing-reveal]: `steps.dk.output.Plaintext` is secret, and input `message` of `core.log` does not take secrets",
        "flow.yaml:13:25",
        "add `reveal: true` to step `show`",
        "error[missing-reveal]: `steps.dk.output.Plaintext` is secret, and flow output `key` would report it",
        "flow.yaml:15:8",
        "2 problems",
    ] {
        assert!(ran.stderr.contains(expected), "{expected}:\n{}", ran.stderr);
    }
}
