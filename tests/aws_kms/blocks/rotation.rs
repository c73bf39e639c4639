//! Automatic rotation: enable with a period, read the status, disable.

use serde_json::json;

use crate::aws_kms::{flow, moto};
use crate::harness::step;

#[test]
fn rotation_is_enabled_with_a_period_read_and_disabled() {
    let Some(moto) = moto() else { return };
    let report = moto.succeed(&flow(
        r#"steps:
  - id: key
    block: aws-kms.create-key
  - id: initially
    block: aws-kms.get-key-rotation-status
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: enable
    block: aws-kms.enable-key-rotation
    after: initially
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, rotation_period_in_days: 180 }
  - id: enabled
    block: aws-kms.get-key-rotation-status
    after: enable
    with: { key_id: $.steps.key.output.KeyMetadata.Arn }
  - id: disable
    block: aws-kms.disable-key-rotation
    after: enabled
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
  - id: disabled
    block: aws-kms.get-key-rotation-status
    after: disable
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }
"#,
    ));
    assert_eq!(
        step(&report, "initially")["output"]["KeyRotationEnabled"],
        false
    );
    assert_eq!(step(&report, "enable")["output"], json!({}));
    let enabled = &step(&report, "enabled")["output"];
    assert_eq!(enabled["KeyRotationEnabled"], true);
    // moto answers KeyRotationEnabled only; AWS adds RotationPeriodInDays (180) and NextRotationDate.
    assert_eq!(
        step(&report, "disabled")["output"]["KeyRotationEnabled"],
        false
    );
}
