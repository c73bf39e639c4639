//! Requests checked against the KMS API model before anything is looked up, with AWS's code and words,
//! through the SDK; a request the SDK would not send as it stands goes through [`raw`].

use aws_sdk_kms::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_kms::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, Tag};
use serde_json::{Value, json};

use super::*;

/// Sends `body` to operation `target` in place of what the SDK serialized, signed as usual.
#[derive(Debug)]
struct Raw {
    target: String,
    body: String,
}

impl Intercept for Raw {
    fn name(&self) -> &'static str {
        "raw request"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let request = context.request_mut();
        let headers = request.headers_mut();
        headers.insert("x-amz-target", format!("TrentService.{}", self.target));
        headers.insert("content-length", self.body.len().to_string());
        *request.body_mut() = self.body.clone().into();
        Ok(())
    }
}

/// The error code and message of `body` sent to `operation`, which must fail.
async fn raw(kms: &Client, operation: &str, body: Value) -> (String, String) {
    let raw = Raw {
        target: operation.into(),
        body: body.to_string(),
    };
    error(kms.list_keys().customize().interceptor(raw).send().await)
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder()
        .tag_key(key)
        .tag_value(value)
        .build()
        .unwrap()
}

/// `1 validation error detected: <violation>`.
fn one(violation: &str) -> (String, String) {
    (
        "ValidationException".into(),
        format!("1 validation error detected: {violation}"),
    )
}

#[tokio::test]
async fn malformed_requests_are_refused_with_awss_validation_errors() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let long_alias = format!("alias/{}", "a".repeat(251));
    let long_tag_key = "k".repeat(129);
    let cases = [
        (
            "an alias name too long",
            error(
                kms.create_alias()
                    .alias_name(&long_alias)
                    .target_key_id(&id)
                    .send()
                    .await,
            ),
            one(&format!(
                "Value '{long_alias}' at 'aliasName' failed to satisfy constraint: Member must have \
                 length less than or equal to 256"
            )),
        ),
        (
            "an alias name off its pattern",
            error(
                kms.create_alias()
                    .alias_name("alias/has space")
                    .target_key_id(&id)
                    .send()
                    .await,
            ),
            one(
                "Value 'alias/has space' at 'aliasName' failed to satisfy constraint: Member must \
                 satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
            ),
        ),
        (
            "a deletion window out of the API's range",
            error(
                kms.schedule_key_deletion()
                    .key_id(&id)
                    .pending_window_in_days(400)
                    .send()
                    .await,
            ),
            one(
                "Value '400' at 'pendingWindowInDays' failed to satisfy constraint: Member must have \
                 value less than or equal to 365",
            ),
        ),
        (
            "a rotation period too short",
            error(
                kms.enable_key_rotation()
                    .key_id(&id)
                    .rotation_period_in_days(10)
                    .send()
                    .await,
            ),
            one(
                "Value '10' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have \
                 value greater than or equal to 90",
            ),
        ),
        (
            "a missing required member",
            raw(&kms, "DescribeKey", json!({})).await,
            one("Value null at 'keyId' failed to satisfy constraint: Member must not be null"),
        ),
        (
            "a tag key too long",
            error(
                kms.tag_resource()
                    .key_id(&id)
                    .tags(tag("team", "a"))
                    .tags(tag(&long_tag_key, "b"))
                    .send()
                    .await,
            ),
            one(&format!(
                "Value '{long_tag_key}' at 'tags.2.member.tagKey' failed to satisfy constraint: \
                 Member must have length less than or equal to 128"
            )),
        ),
        (
            "a tag without a value",
            raw(
                &kms,
                "TagResource",
                json!({"KeyId": id, "Tags": [{"TagKey": "team"}]}),
            )
            .await,
            one(
                "Value null at 'tags.1.member.tagValue' failed to satisfy constraint: Member must \
                 not be null",
            ),
        ),
        (
            "a data key of too many bytes",
            error(
                kms.generate_data_key()
                    .key_id(&id)
                    .number_of_bytes(1025)
                    .send()
                    .await,
            ),
            one(
                "Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value \
                 less than or equal to 1024",
            ),
        ),
    ];
    for (case, refused, expected) in cases {
        assert_eq!(refused, expected, "{case}");
    }
    // Nothing was made or changed.
    assert!(
        kms.list_aliases()
            .send()
            .await
            .unwrap()
            .aliases()
            .is_empty()
    );
    let key = kms.describe_key().key_id(&id).send().await.unwrap();
    assert!(key.key_metadata().unwrap().enabled());
    assert!(
        kms.list_resource_tags()
            .key_id(&id)
            .send()
            .await
            .unwrap()
            .tags()
            .is_empty()
    );
}

#[tokio::test]
async fn an_unknown_enum_value_is_refused_with_the_values_the_api_takes() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let (code, message) = error(
        kms.create_key()
            .key_spec(KeySpec::from("RSA_1024"))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with(
            "1 validation error detected: Value 'RSA_1024' at 'keySpec' failed to satisfy \
             constraint: Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, "
        ),
        "{message}"
    );
    assert!(message.contains("SYMMETRIC_DEFAULT"), "{message}");
}

#[tokio::test]
async fn every_violation_is_reported_at_once_in_the_models_order() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let name = format!("alias/{} x", "a".repeat(260));
    let (code, message) = raw(&kms, "CreateAlias", json!({ "AliasName": name })).await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        format!(
            "3 validation errors detected: \
             Value '{name}' at 'aliasName' failed to satisfy constraint: Member must have length less \
             than or equal to 256; \
             Value '{name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular \
             expression pattern: ^[a-zA-Z0-9:/_-]+$; \
             Value null at 'targetKeyId' failed to satisfy constraint: Member must not be null"
        )
    );
}

#[tokio::test]
async fn the_model_is_checked_before_the_key_is_looked_up_and_secrets_are_not_repeated() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let refused = kms
        .encrypt()
        .key_id("alias/no-such-key")
        .plaintext(Blob::new(vec![b's'; 4097]))
        .send()
        .await;
    assert_eq!(
        error(refused),
        one(
            "Value at 'plaintext' failed to satisfy constraint: Member must have length less than or \
             equal to 4096"
        )
    );
    let too_long = "k".repeat(2049);
    let refused = kms.describe_key().key_id(&too_long).send().await;
    assert_eq!(
        error(refused),
        one(&format!(
            "Value '{too_long}' at 'keyId' failed to satisfy constraint: Member must have length \
             less than or equal to 2048"
        ))
    );
}

#[tokio::test]
async fn every_operation_checks_its_members_whatever_the_operation() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let too_long = "k".repeat(2049);
    let violation = format!(
        "Value '{too_long}' at 'keyId' failed to satisfy constraint: Member must have length less \
         than or equal to 2048"
    );
    for operation in [
        "DescribeKey",
        "EnableKey",
        "DisableKey",
        "ScheduleKeyDeletion",
        "CancelKeyDeletion",
        "PutKeyPolicy",
        "GetKeyPolicy",
        "UpdateKeyDescription",
        "EnableKeyRotation",
        "DisableKeyRotation",
        "GetKeyRotationStatus",
        "ListAliases",
        "TagResource",
        "UntagResource",
        "ListResourceTags",
        "Encrypt",
        "Decrypt",
        "GenerateDataKey",
        "ReplicateKey",
    ] {
        let (code, message) = raw(&kms, operation, json!({ "KeyId": too_long })).await;
        assert_eq!(code, "ValidationException", "{operation}: {message}");
        assert!(message.contains(&violation), "{operation}: {message}");
    }
}

#[tokio::test]
async fn a_member_of_the_wrong_type_does_not_deserialize() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let (code, message) = raw(
        &kms,
        "ScheduleKeyDeletion",
        json!({"KeyId": id, "PendingWindowInDays": "seven"}),
    )
    .await;
    assert_eq!(code, "SerializationException");
    assert!(message.contains("'pendingWindowInDays'"), "{message}");
    let (code, _) = raw(
        &kms,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": "not base64!"}),
    )
    .await;
    assert_eq!(code, "SerializationException");
}
