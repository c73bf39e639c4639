//! The command line itself: help, exit codes, schemas, blocks, graphs.

use crate::harness::run;

#[test]
fn help_documents_commands_and_exit_codes() {
    let ran = run(&["--help"]);
    assert_eq!(ran.code, 0);
    for word in [
        "validate",
        "plan",
        "run",
        "blocks",
        "schema",
        "graph",
        "completions",
        "Exit codes",
    ] {
        assert!(
            ran.stdout.contains(word),
            "--help lacks {word}:\n{}",
            ran.stdout
        );
    }
}

#[test]
fn misuse_exits_with_2() {
    assert_eq!(run(&["run"]).code, 2);
    assert_eq!(run(&["frobnicate"]).code, 2);
    let ran = run(&["run", "no/such/flow.yaml"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("cannot read flow file `no/such/flow.yaml`"),
        "{}",
        ran.stderr
    );
}

#[test]
fn committed_schemas_are_fresh() {
    let ran = run(&["schema", "--out", "schemas", "--check"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
}
