//! The alias-order rule: a step naming an alias the flow creates waits for it, checked before the run.

use crate::harness::validate_yaml;

const RACE: &str = r#"name: alias-race
params:
  tenant: { type: string, default: t-42 }
connections:
  aws: { connector: aws-kms, region: eu-west-1 }
steps:
  - id: key
    block: aws-kms.create-key
  - id: alias
    block: aws-kms.create-alias
    with: { alias_name: "alias/qlik/{{params.tenant}}", target_key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: described
    block: aws-kms.describe-key
    after: key
    with: { key_id: "alias/qlik/{{params.tenant}}" }
"#;

#[test]
fn a_step_naming_an_alias_the_flow_creates_must_wait_for_it() {
    let ran = validate_yaml(RACE);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "error[alias-not-created-yet]: `key_id` names `alias/qlik/t-42`, which step `alias` creates, \
             but nothing makes step `described` wait for it"
        ),
        "{}",
        ran.stderr
    );
    // Where: the `key_id` of `described` (line 15, column 21), and what to write.
    assert!(ran.stderr.contains("flow.yaml:15:21"), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("help: add `after: alias` to step `described`"),
        "{}",
        ran.stderr
    );

    // Waiting for it, directly or through another step, or running before it, is an order.
    for fixed in [
        RACE.replace("    after: key\n", "    after: alias\n"),
        RACE.replace("    after: key\n", "    after: [key, alias]\n"),
        RACE.replace(
            "  - id: alias\n    block: aws-kms.create-alias\n",
            "  - id: alias\n    block: aws-kms.create-alias\n    after: described\n",
        ),
    ] {
        let ran = validate_yaml(&fixed);
        assert_eq!(ran.code, 0, "{fixed}\n{}", ran.stderr);
    }
    // Another alias, or a key named by id, is not this rule's business.
    let other = RACE.replace(
        "with: { key_id: \"alias/qlik/{{params.tenant}}\" }",
        "with: { key_id: alias/qlik/other }",
    );
    let ran = validate_yaml(&other);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
}
