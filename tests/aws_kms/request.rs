//! `aws-kms.request` against moto: operations no other block covers (CreateKey with a signing key spec,
//! GetPublicKey, Sign, Verify), a KMS error kept as KMS gave it, and a destructive raw operation that runs
//! only when confirmed and allowed.

use super::{KMS, moto};
use crate::harness::step;

#[test]
fn aws_kms_request_calls_operations_no_other_block_covers_on_moto() {
    let Some(moto) = moto() else { return };
    let flow = format!(
        r#"name: raw-sign
{KMS}steps:
  - id: key
    block: aws-kms.request
    with:
      operation: CreateKey
      body: {{ KeySpec: RSA_2048, KeyUsage: SIGN_VERIFY, Description: raw }}
  - id: public
    block: aws-kms.request
    with: {{ operation: GetPublicKey, body: {{ KeyId: $.steps.key.output.KeyMetadata.KeyId }} }}
  - id: signed
    block: aws-kms.request
    with:
      operation: Sign
      body:
        KeyId: $.steps.key.output.KeyMetadata.KeyId
        Message: aGVsbG8=
        MessageType: RAW
        SigningAlgorithm: RSASSA_PSS_SHA_256
  - id: checked
    block: aws-kms.request
    with:
      operation: Verify
      body:
        KeyId: $.steps.key.output.KeyMetadata.KeyId
        Message: aGVsbG8=
        MessageType: RAW
        Signature: $.steps.signed.output.Signature
        SigningAlgorithm: RSASSA_PSS_SHA_256
  - id: missing
    block: aws-kms.request
    on_error: continue
    after: checked
    with: {{ operation: DescribeKey, body: {{ KeyId: 11111111-2222-3333-4444-555555555555 }} }}
  - id: gone
    block: aws-kms.request
    confirm: true
    after: missing
    with:
      operation: ScheduleKeyDeletion
      body: {{ KeyId: $.steps.key.output.KeyMetadata.KeyId, PendingWindowInDays: 7 }}
outputs:
  usage: $.steps.public.output.KeyUsage
  valid: $.steps.checked.output.SignatureValid
"#
    );
    let report = moto.succeed(&flow);
    assert_eq!(report["outputs"]["usage"], "SIGN_VERIFY", "{report:#}");
    assert_eq!(report["outputs"]["valid"], true);
    let error = &step(&report, "missing")["error"];
    assert_eq!(error["code"], "NotFoundException", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("DescribeKey: ")),
        "{error}"
    );
    let key = report["steps"][0]["output"]["KeyMetadata"]["KeyId"].clone();
    assert_eq!(
        step(&report, "gone")["output"]["KeyId"]
            .as_str()
            .map(|arn| arn.ends_with(key.as_str().unwrap_or("?"))),
        Some(true)
    );
    // Without --allow-destructive the destructive raw step is refused before it is sent.
    let (code, report, stderr) = moto.run(&flow, &[]);
    assert_eq!(code, 1, "{stderr}");
    let gone = step(&report, "gone");
    assert_eq!(gone["error"]["code"], "DestructiveNotAllowed", "{report:#}");
    assert_eq!(gone["attempts"], 0);
}
