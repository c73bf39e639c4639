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
