//! Key policies: the default, the form checks, the lockout safety check, and evaluation for the twin's
//! own principals and for Qlik's proxy role of another account.

use aws_sdk_kms::primitives::Blob;

use super::*;

#[tokio::test]
async fn a_key_without_a_policy_gets_awss_default() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let got = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy_name(), Some("default"));
    let policy: serde_json::Value = serde_json::from_str(got.policy().unwrap()).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Sid"], "Enable IAM User Permissions");
    assert_eq!(
        statement["Principal"]["AWS"],
        "arn:aws:iam::111122223333:root"
    );
    assert_eq!(statement["Action"], "kms:*");
    let other_name = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("custom")
        .send()
        .await;
    assert_eq!(code(other_name), "ValidationException");
    // GetKeyPolicy takes a key id or key ARN, not an alias.
    kms.create_alias()
        .alias_name("alias/p")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let by_alias = kms.get_key_policy().key_id("alias/p").send().await;
    assert_eq!(code(by_alias), "NotFoundException");
}

#[tokio::test]
async fn a_statement_without_resource_is_accepted_and_has_no_effect() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let policy = serde_json::json!({
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": ["kms:PutKeyPolicy", "kms:DescribeKey"], "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "kms:Encrypt"}
        ]
    });
    let created = kms
        .create_key()
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let id = created.key_metadata().unwrap().key_id();
    kms.describe_key().key_id(id).send().await.unwrap();
    let refused = kms
        .encrypt()
        .key_id(id)
        .plaintext(Blob::new("x"))
        .send()
        .await;
    assert_eq!(code(refused), "AccessDeniedException");
}

#[tokio::test]
async fn malformed_and_oversized_policies_are_refused_saying_why() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let cases = [
        ("{not json", "not valid JSON"),
        (r#"{"Version":"2012-10-17"}"#, "no Statement"),
        (
            r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"kms:*"}]}"#,
            "Effect",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}"#,
            "Principal",
        ),
    ];
    for (policy, says) in cases {
        let refused = kms.put_key_policy().key_id(&id).policy(policy).send().await;
        let (code, message) = error(refused);
        assert_eq!(code, "MalformedPolicyDocumentException", "{policy}");
        assert!(message.contains(says), "{policy}: {message}");
    }
    let padded = qlik_policy("111122223333", &["kms:Decrypt"]).replacen(
        '{',
        &format!("{{\"Padding\":\"{}\",", "x".repeat(33_000)),
        1,
    );
    let (code_, message) = error(kms.put_key_policy().key_id(&id).policy(padded).send().await);
    assert_eq!(code_, "MalformedPolicyDocumentException");
    assert!(message.contains("at most 32768 bytes"), "{message}");
    let refused = kms.create_key().policy("[]").send().await;
    assert_eq!(code(refused), "MalformedPolicyDocumentException");
}

#[tokio::test]
async fn a_policy_that_locks_the_caller_out_needs_the_bypass() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let qlik_only = serde_json::json!({
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": QLIK_ROLE}, "Action": "kms:*"}]
    })
    .to_string();
    let refused = kms
        .put_key_policy()
        .key_id(&id)
        .policy(&qlik_only)
        .send()
        .await;
    let (code_, message) = error(refused);
    assert_eq!(code_, "MalformedPolicyDocumentException");
    assert_eq!(
        message,
        "The new key policy will not allow you to update the key policy in the future."
    );
    let refused = kms.create_key().policy(&qlik_only).send().await;
    assert_eq!(code(refused), "MalformedPolicyDocumentException");

    kms.put_key_policy()
        .key_id(&id)
        .policy(&qlik_only)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap();
    // Locked out indeed: the twin's own principal can no longer use or change the key.
    let (code_, message) = error(kms.describe_key().key_id(&id).send().await);
    assert_eq!(code_, "AccessDeniedException");
    assert_eq!(
        message,
        format!(
            "User: {DEFAULT_PRINCIPAL_ARN} is not authorized to perform: kms:DescribeKey on resource: \
             arn:aws:kms:{REGION}:111122223333:key/{id} because no resource-based policy allows the \
             kms:DescribeKey action"
        )
    );
    assert_eq!(twin.stats().access_denied, 1);
}

#[tokio::test]
async fn qlik_gets_in_only_with_its_tenants_encryption_context() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let created = kms
        .create_key()
        .policy(qlik_policy(
            "111122223333",
            &["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
        ))
        .send()
        .await
        .unwrap();
    let id = created.key_metadata().unwrap().key_id().to_string();
    let qlik = qlik(&twin);
    let sealed = qlik
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("tenant key"))
        .encryption_context("TenantId", TENANT)
        .send()
        .await
        .unwrap();
    let opened = qlik
        .decrypt()
        .ciphertext_blob(sealed.ciphertext_blob().unwrap().clone())
        .encryption_context("TenantId", TENANT)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.plaintext().unwrap().as_ref(), b"tenant key");

    let other_tenant = qlik
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .encryption_context("TenantId", "someone-else")
        .send()
        .await;
    let (code_, message) = error(other_tenant);
    assert_eq!(code_, "AccessDeniedException");
    assert!(message.starts_with(&format!(
        "User: {QLIK_ROLE} is not authorized to perform: kms:Encrypt"
    )));
    let no_context = qlik
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .send()
        .await;
    assert_eq!(code(no_context), "AccessDeniedException");
    // Not granted at all, and IAM-only operations are the twin account's alone.
    let not_granted = qlik.get_key_policy().key_id(&id).send().await;
    assert_eq!(code(not_granted), "AccessDeniedException");
    assert_eq!(
        code(qlik.create_key().send().await),
        "AccessDeniedException"
    );
    assert_eq!(code(qlik.list_keys().send().await), "AccessDeniedException");
    // A key with the default policy does not let Qlik in.
    let default_key = create_key(&kms).await;
    let refused = qlik
        .encrypt()
        .key_id(&default_key)
        .plaintext(Blob::new("x"))
        .encryption_context("TenantId", TENANT)
        .send()
        .await;
    assert_eq!(code(refused), "AccessDeniedException");
}

#[tokio::test]
async fn an_explicit_deny_wins_over_any_allow() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let policy = serde_json::json!({
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt*", "Resource": "*",
             "Condition": {"ForAnyValue:StringLike": {"kms:EncryptionContextKeys": ["Forbidden*"]}}}
        ]
    });
    let created = kms
        .create_key()
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let id = created.key_metadata().unwrap().key_id();
    kms.encrypt()
        .key_id(id)
        .plaintext(Blob::new("x"))
        .encryption_context("Allowed", "1")
        .send()
        .await
        .unwrap();
    let (code_, message) = error(
        kms.encrypt()
            .key_id(id)
            .plaintext(Blob::new("x"))
            .encryption_context("ForbiddenKey", "1")
            .send()
            .await,
    );
    assert_eq!(code_, "AccessDeniedException");
    assert!(
        message.ends_with("with an explicit deny in a resource-based policy"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unknown_condition_operator_fails_closed() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let policy = serde_json::json!({
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "111122223333"},
             "Action": ["kms:PutKeyPolicy", "kms:DescribeKey"], "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "kms:Encrypt", "Resource": "*",
             "Condition": {"NumericLessThan": {"kms:EncryptionContext:n": "3"}}}
        ]
    });
    let created = kms
        .create_key()
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let id = created.key_metadata().unwrap().key_id();
    kms.describe_key().key_id(id).send().await.unwrap();
    let refused = kms
        .encrypt()
        .key_id(id)
        .plaintext(Blob::new("x"))
        .encryption_context("n", "1")
        .send()
        .await;
    assert_eq!(code(refused), "AccessDeniedException");
}
