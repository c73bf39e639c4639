//! The protocol around the operations: credentials, signatures, unknown operations, the request id.

use super::*;

#[tokio::test]
async fn an_unknown_access_key_or_a_wrong_secret_is_refused() {
    let twin = twin().await;
    let stranger = client_as(&twin, REGION, "AKIAUNKNOWN000000000", "whatever");
    let (code_, message) = error(stranger.list_keys().send().await);
    assert_eq!(code_, "UnrecognizedClientException");
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
    let wrong_secret = client_as(&twin, REGION, DEFAULT_ACCESS_KEY_ID, "not-the-secret");
    assert_eq!(
        code(wrong_secret.list_keys().send().await),
        "InvalidSignatureException"
    );
    assert!(client(&twin, REGION).list_keys().send().await.is_ok());
}

#[tokio::test]
async fn the_wire_answers_like_aws_without_a_token_or_an_operation() {
    let twin = twin().await;
    let http = reqwest::Client::new();
    let unsigned = http
        .post(format!("{}/", twin.url))
        .header("X-Amz-Target", "TrentService.ListKeys")
        .header("Content-Type", "application/x-amz-json-1.1")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 400);
    assert!(unsigned.headers().contains_key("x-amzn-requestid"));
    assert_eq!(
        unsigned.headers()["content-type"],
        "application/x-amz-json-1.1"
    );
    let body: serde_json::Value = unsigned.json().await.unwrap();
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");

    let unknown = http
        .post(format!("{}/", twin.url))
        .header("X-Amz-Target", "TrentService.Sign")
        .body("{}")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["__type"], "UnknownOperationException");
    assert_eq!(twin.stats().requests, 2);
}

#[tokio::test]
async fn one_url_serves_every_region_from_the_signatures_scope() {
    let twin = twin().await;
    let west = client(&twin, REGION);
    let paris = client(&twin, DR);
    let id = create_key(&west).await;
    create_key(&paris).await;
    create_key(&paris).await;
    assert_eq!(west.list_keys().send().await.unwrap().keys().len(), 1);
    assert_eq!(paris.list_keys().send().await.unwrap().keys().len(), 2);
    let arn = west
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    assert!(
        arn.starts_with("arn:aws:kms:eu-west-1:111122223333:key/"),
        "{arn}"
    );
}

#[tokio::test]
async fn an_inconsistent_config_does_not_start() {
    let mut config = config();
    config.principals.push(Principal::new(
        DEFAULT_ACCESS_KEY_ID,
        "x",
        "arn:aws:iam::111122223333:user/again",
    ));
    config
        .principals
        .push(Principal::new("AKIAOTHER", "x", "bob"));
    let refused = start(config).await.err().unwrap();
    let message = refused.to_string();
    assert!(message.contains("listed twice"), "{message}");
    assert!(message.contains("`bob`"), "{message}");
}
