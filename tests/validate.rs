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
