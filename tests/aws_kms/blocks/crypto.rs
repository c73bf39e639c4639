//! Envelope encryption: data keys, encrypt and decrypt with an encryption context; secrets stay out of
//! the report.

use crate::aws_kms::{flow, moto, refused};
use crate::harness::step;

/// `keyflow secret value` in base64: it must never appear in a report once it is a secret output.
const PLAINTEXT: &str = "a2V5ZmxvdyBzZWNyZXQgdmFsdWU=";

#[test]
fn data_keys_and_encrypted_data_round_trip_and_plaintexts_are_redacted() {
    let Some(moto) = moto() else { return };
    let yaml = flow(&format!(
        r#"steps:
  - id: key
    block: aws-kms.create-key
  - id: data_key
    block: aws-kms.generate-data-key
    with: {{ key_id: $.steps.key.output.KeyMetadata.KeyId, encryption_context: {{ TenantId: t-1 }} }}
  - id: short_key
    block: aws-kms.generate-data-key
    with: {{ key_id: $.steps.key.output.KeyMetadata.Arn, number_of_bytes: 16 }}
  - id: unwrap
    block: aws-kms.decrypt
    with: {{ ciphertext_blob: $.steps.data_key.output.CiphertextBlob, encryption_context: {{ TenantId: t-1 }} }}
  - id: same_key
    block: core.assert
    reveal: true
    with: {{ value: $.steps.unwrap.output.Plaintext, equals: $.steps.data_key.output.Plaintext }}
  - id: encrypt
    block: aws-kms.encrypt
    with: {{ key_id: $.steps.key.output.KeyMetadata.KeyId, plaintext: "{PLAINTEXT}", encryption_context: {{ purpose: test }} }}
  - id: decrypt
    block: aws-kms.decrypt
    with: {{ ciphertext_blob: $.steps.encrypt.output.CiphertextBlob, key_id: $.steps.key.output.KeyMetadata.Arn, encryption_context: {{ purpose: test }} }}
  - id: same_text
    block: core.assert
    reveal: true
    with: {{ value: $.steps.decrypt.output.Plaintext, equals: "{PLAINTEXT}" }}
"#
    ));
    let report = moto.succeed(&yaml);
    let arn = step(&report, "key")["output"]["KeyMetadata"]["Arn"].clone();
    let data_key = &step(&report, "data_key")["output"];
    assert_eq!(data_key["Plaintext"], "<redacted>");
    assert_eq!(data_key["KeyId"], arn);
    let ciphertext = data_key["CiphertextBlob"].as_str().unwrap_or_default();
    assert!(
        ciphertext.len() > 40
            && ciphertext
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)),
        "base64: {ciphertext}"
    );
    assert_eq!(
        step(&report, "short_key")["output"]["Plaintext"],
        "<redacted>"
    );
    assert_eq!(step(&report, "unwrap")["output"]["Plaintext"], "<redacted>");
    assert_eq!(step(&report, "same_key")["status"], "succeeded");
    let encrypted = &step(&report, "encrypt")["output"];
    assert_eq!(encrypted["KeyId"], arn);
    // moto leaves out EncryptionAlgorithm, which AWS returns (`SYMMETRIC_DEFAULT` here).
    assert_ne!(encrypted["CiphertextBlob"], PLAINTEXT);
    assert_eq!(step(&report, "decrypt")["output"]["KeyId"], arn);
    assert_eq!(step(&report, "same_text")["status"], "succeeded");
    assert!(
        !report.to_string().contains(PLAINTEXT),
        "a decrypted secret is in the report: {report:#}"
    );
}

#[test]
fn a_different_encryption_context_does_not_decrypt() {
    let Some(moto) = moto() else { return };
    let (code, report, _) = moto.run(
        &flow(
            r#"steps:
  - id: key
    block: aws-kms.create-key
  - id: encrypt
    block: aws-kms.encrypt
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, plaintext: aGVsbG8=, encryption_context: { TenantId: t-1 } }
  - id: decrypt
    block: aws-kms.decrypt
    with: { ciphertext_blob: $.steps.encrypt.output.CiphertextBlob, encryption_context: { TenantId: t-2 } }
"#,
        ),
        &[],
    );
    assert_eq!(code, 1);
    let error = &step(&report, "decrypt")["error"];
    assert_eq!(error["code"], "InvalidCiphertextException", "{error}");
    assert_eq!(error["retryable"], false);
}

#[test]
fn crypto_inputs_are_checked_before_any_call() {
    let Some(moto) = moto() else { return };
    let (code, report, _) = moto.run(
        &flow(
            r#"steps:
  - id: key
    block: aws-kms.create-key
  - id: both
    block: aws-kms.generate-data-key
    on_error: continue
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, key_spec: AES_128, number_of_bytes: 16 }
  - id: not_base64
    block: aws-kms.encrypt
    on_error: continue
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, plaintext: "not base64!" }
  - id: empty
    block: aws-kms.encrypt
    on_error: continue
    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, plaintext: "" }
"#,
        ),
        &[],
    );
    assert_eq!(code, 0, "{report:#}");
    let message = |id: &str| refused(&report, id);
    assert!(message("both").contains("not both"));
    assert!(message("not_base64").contains("`plaintext` is not base64"));
    assert!(message("empty").contains("Encrypt takes 1 to 4096"));
}
