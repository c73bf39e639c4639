//! Key providers: the default Qlik provider, create and its refusals, get, patch, delete, test.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::*;

#[tokio::test]
async fn a_new_tenant_lists_only_the_qlik_provider_as_a_bare_array() {
    let api = Api::start(config()).await;
    let all = api.get(&format!("{PROVIDERS}/actions/list")).await;
    assert_eq!(all.status, StatusCode::OK);
    let qlik = &all.body.as_array().unwrap()[0];
    assert_eq!(all.body.as_array().unwrap().len(), 1);
    assert_eq!(qlik["arn"], "#QLIK_MANAGED_KEY_PROVIDER#");
    assert_eq!(qlik["keyprovider"], "Qlik");
    assert_eq!(qlik["createdAt"], "Qlik managed");
    assert_eq!(qlik["arnFingerPrint"], TENANT);
    assert_eq!(qlik["tenantId"], TENANT);
    assert_eq!(qlik["current"], true);
    assert_eq!(qlik["demotedFromCurrentAt"], "0001-01-01T00:00:00Z");

    let aws = api.get(PROVIDERS).await;
    assert_eq!(aws.status, StatusCode::OK);
    assert_eq!(aws.body, json!([]));
}

#[tokio::test]
async fn create_answers_201_with_the_tutorial_shape_and_a_stable_fingerprint() {
    let api = Api::start(config()).await;
    let created = api
        .post(
            PROVIDERS,
            json!({"name": "CMK - 01", "arn": ARN, "description": "first", "keyprovider": "AWS-KMS"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = &created.body;
    let fp = body["arnFingerPrint"].as_str().unwrap();
    assert_eq!(fp.len(), 32);
    assert!(
        fp.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(fp, super::super::model::fingerprint(TENANT, ARN));
    assert_eq!(body["keyprovider"], "AWS-KMS");
    assert_eq!(body["tenantId"], TENANT);
    assert_eq!(body["description"], "first");
    assert_eq!(body["promotedToCurrentAt"], "0001-01-01T00:00:00Z");
    assert_eq!(body["demotedFromCurrentAt"], "0001-01-01T00:00:00Z");
    assert!(
        body.get("current").is_none(),
        "`current` is left out when false"
    );
    assert!(body["createdAt"].as_str().unwrap().ends_with('Z'));

    assert_eq!(api.provider(fp).await, *body);
    let listed = api.get(PROVIDERS).await;
    assert_eq!(listed.body, json!([body]));
    assert_eq!(
        api.get(&format!("{PROVIDERS}/actions/list"))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn create_ignores_read_only_fields_and_accepts_the_old_spelling() {
    let api = Api::start(config()).await;
    let created = api
        .post(
            PROVIDERS,
            json!({"name": "n", "arn": ARN, "keyProvider": "AWS-KMS", "current": true,
                   "multiRegion": true, "drCompliant": true, "arnFingerPrint": "mine", "whatever": 1}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_ne!(created.body["arnFingerPrint"], "mine");
    assert!(created.body.get("current").is_none());
    assert!(created.body.get("whatever").is_none());
}

#[tokio::test]
async fn create_refuses_a_body_without_arn_or_name_with_400() {
    let api = Api::start(config()).await;
    for body in [
        json!({"name": "n"}),
        json!({"arn": ARN}),
        json!([1]),
        json!({"name": "n", "arn": ARN, "keyprovider": "Vault"}),
    ] {
        let refused = api.post(PROVIDERS, body.clone()).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "Bad Request");
        assert!(
            refused.body["errors"][0]["detail"].as_str().is_some(),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_malformed_arn_is_417_and_a_duplicate_409() {
    let api = Api::start(config()).await;
    let bad = api
        .post(
            PROVIDERS,
            json!({"name": "n", "arn": "arn:aws:kms:eu-west-1:123:key/x"}),
        )
        .await;
    assert_error(
        &bad,
        StatusCode::EXPECTATION_FAILED,
        "Failed to validate AWS-KMS ARN structure",
    );
    assert!(
        bad.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("12-digit")
    );

    api.create(ARN, "first").await;
    let again = api
        .post(PROVIDERS, json!({"name": "second", "arn": ARN}))
        .await;
    assert_error(
        &again,
        StatusCode::CONFLICT,
        "The provided key is already registered",
    );
}

#[tokio::test]
async fn unknown_fingerprints_are_404_and_overlong_ones_414() {
    let api = Api::start(config()).await;
    let unknown = format!("{PROVIDERS}/0123456789abcdef0123456789abcdef");
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH)
            .then(|| json!([{"op": "replace", "path": "/name", "value": "x"}]));
        let answer = api.call(method.clone(), &unknown, body).await;
        assert_error(
            &answer,
            StatusCode::NOT_FOUND,
            "No entry match for the fingerprint was found",
        );
    }
    for action in ["migrate", "test"] {
        let answer = api.post_empty(&format!("{unknown}/actions/{action}")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{action}");
    }
    let long = "a".repeat(65);
    let answer = api.get(&format!("{PROVIDERS}/{long}")).await;
    assert_error(
        &answer,
        StatusCode::URI_TOO_LONG,
        "Requested fingerprint length is too large",
    );
}

#[tokio::test]
async fn patch_replaces_name_and_description_with_204() {
    let api = Api::start(config()).await;
    let fp = api.create(ARN, "before").await;
    let patched = api
        .call(
            Method::PATCH,
            &format!("{PROVIDERS}/{fp}"),
            Some(json!([{"op": "replace", "path": "/name", "value": "after"},
                        {"op": "replace", "path": "/description", "value": "described"}])),
        )
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT);
    assert_eq!(patched.text, "");
    let provider = api.provider(&fp).await;
    assert_eq!(
        (provider["name"].as_str(), provider["description"].as_str()),
        (Some("after"), Some("described"))
    );
}

#[tokio::test]
async fn a_patch_other_than_replace_of_name_or_description_is_400() {
    let api = Api::start(config()).await;
    let fp = api.create(ARN, "n").await;
    for body in [
        json!({"op": "replace", "path": "/name", "value": "x"}),
        json!([]),
        json!([{"op": "add", "path": "/name", "value": "x"}]),
        json!([{"op": "replace", "path": "/arn", "value": "x"}]),
        json!([{"op": "replace", "path": "/name", "value": 3}]),
    ] {
        let answer = api
            .call(
                Method::PATCH,
                &format!("{PROVIDERS}/{fp}"),
                Some(body.clone()),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "Failed to decode key provider patch request payload",
        );
    }
    assert_eq!(api.provider(&fp).await["name"], "n");
}

#[tokio::test]
async fn the_default_and_the_current_provider_cannot_be_deleted() {
    let api = Api::start(EmulatorConfig {
        migration_duration: Duration::ZERO,
        ..config()
    })
    .await;
    let default = api
        .call(Method::DELETE, &format!("{PROVIDERS}/{TENANT}"), None)
        .await;
    assert_error(
        &default,
        StatusCode::FAILED_DEPENDENCY,
        "The requested key is being used and cannot be deleted",
    );

    let fp = api.create(ARN, "current").await;
    let migrated = api
        .post_empty(&format!("{PROVIDERS}/{fp}/actions/migrate"))
        .await;
    assert_eq!(migrated.status, StatusCode::OK, "{}", migrated.text);
    assert_eq!(api.provider(&fp).await["current"], true);
    let current = api
        .call(Method::DELETE, &format!("{PROVIDERS}/{fp}"), None)
        .await;
    assert_error(
        &current,
        StatusCode::FAILED_DEPENDENCY,
        "The requested key is being used and cannot be deleted",
    );
    assert!(
        current.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("current")
    );
}

#[tokio::test]
async fn an_inactive_provider_is_deleted_with_204() {
    let api = Api::start(config()).await;
    let fp = api.create(ARN, "spare").await;
    let deleted = api
        .call(Method::DELETE, &format!("{PROVIDERS}/{fp}"), None)
        .await;
    // Qlik documents `{"message":…}` with this 204, but HTTP forbids a body in a 204: none arrives.
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        api.get(&format!("{PROVIDERS}/{fp}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.get(PROVIDERS).await.body, json!([]));
}

#[tokio::test]
async fn test_answers_201_with_the_provider() {
    let api = Api::start(config()).await;
    let fp = api.create(ARN, "n").await;
    let tested = api
        .post_empty(&format!("{PROVIDERS}/{fp}/actions/test"))
        .await;
    assert_eq!(tested.status, StatusCode::CREATED, "{}", tested.text);
    assert_eq!(tested.body["arnFingerPrint"], fp.as_str());
    let qlik = api
        .post(&format!("{PROVIDERS}/{TENANT}/actions/test"), json!({}))
        .await;
    assert_eq!(qlik.status, StatusCode::CREATED);
    assert_eq!(qlik.body["keyprovider"], "Qlik");
}

#[tokio::test]
async fn a_second_key_gets_another_fingerprint_and_tenants_do_not_share_them() {
    let api = Api::start(config()).await;
    let first = api.create(ARN, "a").await;
    let second = api.create(OTHER_ARN, "b").await;
    assert_ne!(first, second);
    assert_ne!(
        first,
        super::super::model::fingerprint("another-tenant", ARN)
    );
}
