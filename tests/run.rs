//! `keyflow run`: reports, statuses and exit codes.

use crate::harness::{run_json, step};

#[test]
fn a_failing_step_fails_the_run_with_exit_1() {
    let (code, report, _) = run_json(
        "name: x\nsteps:\n  - id: boom\n    block: core.fail\n    with: { message: nope, code: Broken }\n  - id: later\n    block: core.log\n    after: boom\n    with: { message: never }\n",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(report["status"], "failed");
    assert_eq!(step(&report, "boom")["error"]["code"], "Broken");
    assert_eq!(step(&report, "later")["status"], "cancelled");
}
