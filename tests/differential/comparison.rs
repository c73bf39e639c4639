//! The comparison itself, on reports written here: it must let through what legitimately differs and
//! catch, with a readable line, everything else. No peer needed.

use serde_json::{Value, json};

use super::compare::{Findings, compare};

/// A report of `status` with one step per `(id, status, output, error code)`, of block `core.set`, and
/// `outputs`.
fn report(status: &str, steps: &[(&str, &str, Value, Option<&str>)], outputs: Value) -> Value {
    let steps: Vec<Value> = steps
        .iter()
        .map(|(id, status, output, code)| {
            let error = code.map(|code| json!({ "code": code, "message": "any", "retryable": false }));
            json!({ "id": id, "block": "core.set", "status": status, "output": output, "error": error })
        })
        .collect();
    json!({ "run_id": "r", "status": status, "steps": steps, "outputs": outputs })
}

/// The reports of one step of `block` answering `moto` and `twin`.
fn answers_of(block: &str, moto: Value, twin: Value) -> Findings {
    let [moto, twin] = [moto, twin].map(|output| {
        let mut report = report("succeeded", &[("s", "succeeded", output, None)], json!({}));
        report["steps"][0]["block"] = json!(block);
        report
    });
    compare(&moto, &twin)
}

/// The differences of one `core.set` step answering `moto` and `twin`.
fn answers(moto: Value, twin: Value) -> Vec<String> {
    answers_of("core.set", moto, twin).differences
}

#[test]
fn ids_arns_dates_accounts_and_ciphertexts_are_masked_and_the_rest_compared() {
    let moto = json!({ "KeyMetadata": {
        "KeyId": "mrk-5fffa7e9-6868-4c08-99bc-749ddda719b6",
        "Arn": "arn:aws:kms:eu-west-1:123456789012:key/mrk-5fffa7e9-6868-4c08-99bc-749ddda719b6",
        "AWSAccountId": "123456789012",
        "CreationDate": "2026-01-31T10:44:00.974999Z",
        "KeyState": "Enabled",
    }, "CiphertextBlob": "AAAA" });
    let twin = json!({ "KeyMetadata": {
        "KeyId": "mrk-aaf97af1667d42faba11d3b313c8a864",
        "Arn": "arn:aws:kms:eu-west-1:111122223333:key/mrk-aaf97af1667d42faba11d3b313c8a864",
        "AWSAccountId": "111122223333",
        "CreationDate": "2026-01-31T10:44:03+01:00",
        "KeyState": "Disabled",
    }, "CiphertextBlob": "QkJCQkJCQkI=" });
    assert_eq!(
        answers(moto, twin),
        [r#"steps.s.output.KeyMetadata.KeyState: moto "Enabled", twin "Disabled""#]
    );
}

#[test]
fn every_kind_of_difference_is_listed_with_its_path_and_both_sides() {
    let moto = report(
        "failed",
        &[
            (
                "a",
                "succeeded",
                json!({ "Tags": [{ "TagKey": "k" }], "Enabled": true }),
                None,
            ),
            ("b", "failed", Value::Null, Some("NotFoundException")),
            (
                "c",
                "succeeded",
                json!({ "KeyId": "d8352c65-c22d-4c52-8656-cfc1ff949587" }),
                None,
            ),
        ],
        json!({ "alias": "alias/a" }),
    );
    let twin = report(
        "succeeded",
        &[
            (
                "a",
                "skipped",
                json!({ "Tags": [], "Enabled": "true", "Extra": 1 }),
                None,
            ),
            ("b", "failed", Value::Null, Some("DisabledException")),
            (
                "c",
                "succeeded",
                json!({ "KeyId": "arn:aws:kms:eu-west-1:111122223333:key/d8352c65-c22d-4c52-8656-cfc1ff949587" }),
                None,
            ),
        ],
        json!({}),
    );
    assert_eq!(
        compare(&moto, &twin).differences,
        [
            r#"status: moto "failed", twin "succeeded""#,
            r#"steps.a.status: moto "succeeded", twin "skipped""#,
            r#"steps.a.output.Enabled: moto true, twin "true""#,
            "steps.a.output.Extra: moto absent, twin 1",
            "steps.a.output.Tags: moto 1 items, twin 0",
            r#"steps.b.error.code: moto "NotFoundException", twin "DisabledException""#,
            r#"steps.c.output.KeyId: moto "<id>", twin "arn:aws:kms:eu-west-1:<account>:key/<id>""#,
            r#"outputs.alias: moto "alias/a", twin absent"#,
        ]
    );
}

#[test]
fn a_multi_region_key_id_is_not_a_single_region_one() {
    let moto = json!({ "KeyId": "mrk-5fffa7e9-6868-4c08-99bc-749ddda719b6" });
    let twin = json!({ "KeyId": "5fffa7e9-6868-4c08-99bc-749ddda719b6" });
    assert_eq!(
        answers(moto, twin),
        [r#"steps.s.output.KeyId: moto "mrk-<id>", twin "<id>""#]
    );
}

#[test]
fn an_allowed_asymmetry_holds_only_in_its_shape_and_for_its_side() {
    let decrypted = json!({ "KeyId": "k", "Plaintext": "<redacted>" });
    let mut with_algorithm = decrypted.clone();
    with_algorithm["EncryptionAlgorithm"] = json!("SYMMETRIC_DEFAULT");
    let found = answers_of("aws-kms.decrypt", decrypted.clone(), with_algorithm.clone());
    assert_eq!(found.differences, Vec::<String>::new());
    let accepted: Vec<&String> = found.accepted.iter().collect();
    assert_eq!(
        accepted,
        [
            "DecryptResponse.EncryptionAlgorithm: AWS answers the algorithm Decrypt used; moto leaves it out"
        ]
    );

    // moto answering it and the twin not is no asymmetry AWS explains.
    let found = answers_of("aws-kms.decrypt", with_algorithm.clone(), decrypted.clone());
    assert_eq!(
        found.differences,
        [r#"steps.s.output.EncryptionAlgorithm: moto "SYMMETRIC_DEFAULT", twin absent"#]
    );
    // Nor is the field in another block's output, or in an object of another shape.
    let missing = r#"steps.s.output.EncryptionAlgorithm: moto absent, twin "SYMMETRIC_DEFAULT""#;
    let found = answers_of("core.set", decrypted.clone(), with_algorithm.clone());
    assert_eq!(found.differences, [missing]);
    let mut other = with_algorithm;
    other["KeyState"] = json!("Enabled");
    let mut other_moto = decrypted;
    other_moto["KeyState"] = json!("Enabled");
    let found = answers_of("aws-kms.decrypt", other_moto, other);
    assert_eq!(found.differences, [missing]);
}

#[test]
fn a_value_moto_gets_wrong_is_compared_by_presence_only() {
    let replica = |description: &str, state: &str| {
        json!({ "ReplicaKeyMetadata": { "KeyId": "k", "Description": description, "KeyState": state },
                "ReplicaPolicy": "{\"Version\": \"2012-10-17\"}" })
    };
    let replicated = |moto, twin| answers_of("aws-kms.replicate-key", moto, twin).differences;
    assert_eq!(
        replicated(replica("primary", "Enabled"), replica("dr", "Enabled")),
        Vec::<String>::new()
    );
    assert_eq!(
        replicated(replica("primary", "Enabled"), replica("dr", "Creating")),
        [r#"steps.s.output.ReplicaKeyMetadata.KeyState: moto "Enabled", twin "Creating""#]
    );
    let mut no_policy = replica("dr", "Enabled");
    no_policy.as_object_mut().map(|o| o.remove("ReplicaPolicy"));
    assert_eq!(
        replicated(replica("dr", "Enabled"), no_policy),
        [r#"steps.s.output.ReplicaPolicy: moto {"Version":"2012-10-17"}, twin absent"#]
    );
    // The same answer elsewhere than ReplicateKey's output is compared in full.
    assert_eq!(
        answers(replica("primary", "Enabled"), replica("dr", "Enabled")),
        [r#"steps.s.output.ReplicaKeyMetadata.Description: moto "primary", twin "dr""#]
    );
}

#[test]
fn array_items_compare_whatever_their_order() {
    let tags = |pairs: &[(&str, &str)]| {
        let tags: Vec<Value> = pairs
            .iter()
            .map(|(k, v)| json!({ "TagKey": k, "TagValue": v }))
            .collect();
        json!({ "Tags": tags })
    };
    let (a, b) = (("team", "data"), ("env", "test"));
    assert_eq!(answers(tags(&[a, b]), tags(&[b, a])), Vec::<String>::new());
    assert_eq!(
        answers(tags(&[a, b]), tags(&[a, ("env", "prod")])),
        [r#"steps.s.output.Tags[0].TagValue: moto "test", twin "prod""#]
    );
}

#[test]
fn key_policies_compare_by_content_not_formatting() {
    let policy = |account: &str, sid: &str, pretty: bool| {
        let document = json!({ "Version": "2012-10-17", "Statement": [{ "Sid": sid, "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account}:root") }, "Action": "kms:*", "Resource": "*" }] });
        let text = if pretty {
            serde_json::to_string_pretty(&document)
        } else {
            serde_json::to_string(&document)
        };
        json!({ "Policy": text.expect("policy") })
    };
    assert_eq!(
        answers(
            policy("123456789012", "a", true),
            policy("111122223333", "a", false)
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        answers(
            policy("123456789012", "a", true),
            policy("111122223333", "b", false)
        ),
        [r#"steps.s.output.Policy.Statement[0].Sid: moto "a", twin "b""#]
    );
}
