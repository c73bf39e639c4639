//! The raw request blocks: `aws-kms.request` against the KMS twin, which answers what it does not
//! implement with `UnknownOperationException`, and its effect taken from the operation it names — a
//! destructive one without `confirm: true` refused by `validate`. Against moto: `tests/aws_kms/request.rs`.

use crate::aws_kms::KMS;
use crate::harness::{run_flow, step, validate_yaml};

#[test]
fn the_kms_twin_answers_raw_requests_it_implements_and_names_those_it_does_not() {
    let flow = format!(
        r#"name: raw-twin
{KMS}steps:
  - id: key
    block: aws-kms.request
    with: {{ operation: CreateKey, body: {{ Description: raw }} }}
  - id: described
    block: aws-kms.request
    with: {{ operation: DescribeKey, body: {{ KeyId: $.steps.key.output.KeyMetadata.KeyId }} }}
  - id: grant
    block: aws-kms.request
    on_error: continue
    with:
      operation: CreateGrant
      body: {{ KeyId: $.steps.key.output.KeyMetadata.KeyId, GranteePrincipal: "arn:aws:iam::111122223333:role/x", Operations: [Decrypt] }}
outputs:
  description: $.steps.described.output.KeyMetadata.Description
"#
    );
    let (code, report, ran) = run_flow(crate::sandbox::bare(), &flow, &["--sandbox"]);
    assert_eq!(code, 0, "{}", ran.stderr);
    assert_eq!(report["outputs"]["description"], "raw", "{report:#}");
    let error = &step(&report, "grant")["error"];
    assert_eq!(error["code"], "UnknownOperationException", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("TrentService.CreateGrant")),
        "{error}"
    );
}

#[test]
fn a_destructive_raw_operation_needs_confirm_when_the_operation_is_literal_or_an_expression() {
    let flow = |operation: &str, confirm: &str| {
        format!(
            "name: raw\nparams:\n  op: {{ type: string, default: DisableKey }}\n{KMS}steps:\n  - id: call\n    block: aws-kms.request\n{confirm}    with: {{ operation: {operation}, body: {{ KeyId: k }} }}\n"
        )
    };
    let refused = validate_yaml(&flow("ScheduleKeyDeletion", ""));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("error[missing-confirm]")
            && refused
                .stderr
                .contains("sets `operation: ScheduleKeyDeletion` of `aws-kms.request`"),
        "{}",
        refused.stderr
    );
    let unknown = validate_yaml(&flow("$.params.op", ""));
    assert_eq!(
        unknown.code, 2,
        "an operation known only at run time may be destructive"
    );
    assert!(
        unknown.stderr.contains("error[missing-confirm]"),
        "{}",
        unknown.stderr
    );
    for (operation, confirm) in [
        ("ScheduleKeyDeletion", "    confirm: true\n"),
        ("$.params.op", "    confirm: true\n"),
        ("GetPublicKey", ""),
        ("CreateGrant", ""),
    ] {
        let checked = validate_yaml(&flow(operation, confirm));
        assert_eq!(checked.code, 0, "{operation}: {}", checked.stderr);
    }
    let misspelt = validate_yaml(&flow("GetPublicKeys", ""));
    assert_eq!(misspelt.code, 2, "{}", misspelt.stderr);
    assert!(
        misspelt.stderr.contains("GetPublicKey"),
        "{}",
        misspelt.stderr
    );
}
