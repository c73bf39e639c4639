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

const QLIK: &str = "connections:\n  qlik: { connector: qlik-cloud, tenant_url: { env: QLIK_TENANT_URL }, api_key: { env: QLIK_API_KEY } }\n";

#[test]
fn qlik_cloud_request_calls_the_twin_and_names_what_it_does_not_implement() {
    let flow = format!(
        r#"name: raw-qlik
{QLIK}steps:
  - id: me
    block: qlik-cloud.request
    with: {{ method: GET, path: /api/v1/tenants/me }}
  - id: providers
    block: qlik-cloud.request
    with: {{ method: GET, path: /api/v1/encryption/keyproviders, query: {{ limit: 5 }} }}
  - id: spaces
    block: qlik-cloud.request
    on_error: continue
    with: {{ method: GET, path: /api/v1/spaces }}
outputs:
  tenant: $.steps.me.output.body.id
  status: $.steps.providers.output.status
"#
    );
    let (code, report, ran) = run_flow(crate::sandbox::bare(), &flow, &["--sandbox"]);
    assert_eq!(code, 0, "{}", ran.stderr);
    assert!(report["outputs"]["tenant"].is_string(), "{report:#}");
    assert_eq!(report["outputs"]["status"], 200);
    let error = &step(&report, "spaces")["error"];
    assert_eq!(error["code"], "UnknownOperation", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("GET /api/v1/spaces")),
        "{error}"
    );
}

#[test]
fn a_qlik_delete_needs_confirm_and_a_path_must_stay_under_the_api() {
    let flow = |method: &str, path: &str, confirm: &str| {
        format!(
            "name: raw\n{QLIK}steps:\n  - id: call\n    block: qlik-cloud.request\n{confirm}    with: {{ method: {method}, path: {path} }}\n"
        )
    };
    let refused = validate_yaml(&flow("DELETE", "/api/v1/spaces/1", ""));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("sets `method: DELETE` of `qlik-cloud.request`"),
        "{}",
        refused.stderr
    );
    for (method, confirm) in [("DELETE", "    confirm: true\n"), ("GET", ""), ("POST", "")] {
        let checked = validate_yaml(&flow(method, "/api/v1/spaces", confirm));
        assert_eq!(checked.code, 0, "{method}: {}", checked.stderr);
    }
    let outside = validate_yaml(&flow("GET", "/api/v2/spaces", ""));
    assert_eq!(outside.code, 2, "{}", outside.stderr);
}
