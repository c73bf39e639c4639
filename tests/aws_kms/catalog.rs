//! The catalogue of AWS KMS blocks: every one described in full and run by a test against moto.

use crate::harness::{root, run};

/// Every `aws-kms.*` block id `keyflow blocks list` prints.
fn kms_blocks() -> Vec<String> {
    let listed = run(&["blocks", "list"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    listed
        .stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|id| id.starts_with("aws-kms."))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_kms_block_runs_in_a_flow_of_the_moto_tests() {
    let mut flows = String::new();
    for dir in ["tests/aws_kms", "tests/aws_kms/blocks"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("test sources") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                flows.push_str(&std::fs::read_to_string(&path).expect("read test source"));
            }
        }
    }
    let blocks = kms_blocks();
    assert_eq!(blocks.len(), 25, "{blocks:?}");
    let untested: Vec<&String> = blocks
        .iter()
        .filter(|id| !flows.contains(&format!("block: {id}\n")))
        .collect();
    assert!(
        untested.is_empty(),
        "no flow of the moto tests runs {untested:?}"
    );
}

#[test]
fn create_key_is_described_with_every_input_and_output_field() {
    let described = run(&["blocks", "describe", "aws-kms.create-key"]);
    assert_eq!(described.code, 0, "{}", described.stderr);
    let text = described.stdout;
    assert!(
        text.starts_with("aws-kms.create-key — Create Key\n"),
        "{text}"
    );
    assert!(
        text.contains("connector: aws-kms\neffect:    create\n"),
        "{text}"
    );
    for input in [
        "description",
        "key_spec",
        "key_usage",
        "multi_region",
        "policy",
        "tags",
    ] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(input)),
            "input {input} missing:\n{text}"
        );
    }
    assert!(
        text.contains("one of SYMMETRIC_DEFAULT, RSA_2048"),
        "{text}"
    );
    for output in [
        "KeyMetadata.KeyId",
        "KeyMetadata.Arn",
        "KeyMetadata.KeyState",
        "KeyMetadata.MultiRegionConfiguration.ReplicaKeys[].Region",
    ] {
        assert!(text.contains(output), "output {output} missing:\n{text}");
    }
    assert!(
        text.contains("\"Arn\": \"arn:aws:kms:eu-west-1:111122223333:key/"),
        "example output: {text}"
    );
}

#[test]
fn plaintext_outputs_are_declared_secret() {
    for id in ["aws-kms.generate-data-key", "aws-kms.decrypt"] {
        let described = run(&["blocks", "describe", id]);
        assert!(
            described
                .stdout
                .contains("secret outputs (redacted in reports and logs): Plaintext"),
            "{id}: {}",
            described.stdout
        );
    }
}

#[test]
fn encrypt_takes_its_plaintext_as_a_secret() {
    let described = run(&["blocks", "describe", "aws-kms.encrypt"]);
    assert!(
        described
            .stdout
            .contains("inputs that take secrets: plaintext"),
        "{}",
        described.stdout
    );
    let described = run(&["blocks", "describe", "aws-kms.create-key"]);
    assert!(
        described.stdout.contains(
            "inputs that take secrets: none: a step that passes one a secret needs `reveal: true`"
        ),
        "{}",
        described.stdout
    );
}

#[test]
fn plans_show_secret_outputs_as_secret_not_as_their_examples() {
    let planned = run(&["plan", "flows/kms-tenant-key.yaml"]);
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert!(
        planned.stdout.contains("value: \"<redacted>\""),
        "{}",
        planned.stdout
    );
    for example in [
        "aGVsbG8sIHdvcmxk",
        "VGhpcyBpcyBhbiBleGFtcGxlIGRhdGEga2V5ISEhISE=",
    ] {
        assert!(
            !planned.stdout.contains(example),
            "an example plaintext is shown: {}",
            planned.stdout
        );
    }
}
