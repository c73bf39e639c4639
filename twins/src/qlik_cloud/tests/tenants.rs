//! Tenants provisioned on first use: each its own id, datacenter, providers and rate limits; hosted once
//! under concurrent first calls; kept by a snapshot and served again by a twin restored from it.

use std::sync::Arc;

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::*;

/// What the API keys of provisioned tenants start with.
const PREFIX: &str = "tenant:";
/// The ARN of Qlik's own provider.
const QLIK: &str = "#QLIK_MANAGED_KEY_PROVIDER#";

/// [`config`] that also provisions tenants, in eu-west-1 when their hostname names no region.
fn provisioning() -> EmulatorConfig {
    EmulatorConfig {
        provisioning: Some(Provisioning {
            api_key_prefix: PREFIX.into(),
            region: "eu".into(),
            datacenter: "eu-west-1".into(),
        }),
        ..config()
    }
}

/// The API key of the tenant named `name`.
fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

/// A request to `api`'s twin with `token` instead of its own.
async fn call_as(
    api: &Api,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let mut request = api
        .http
        .request(method, format!("{}{path}", api.twin.url))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.unwrap()).await
}

/// The tenant `token` acts in, through `me` and its redirect.
async fn tenant_of(api: &Api, token: &str) -> Value {
    let me = call_as(api, token, Method::GET, "/api/v1/tenants/me", None).await;
    assert_eq!(me.status, StatusCode::FOUND, "{token}: {}", me.text);
    let location = me.headers[LOCATION].to_str().unwrap().to_string();
    let tenant = call_as(api, token, Method::GET, &location, None).await;
    assert_eq!(tenant.status, StatusCode::OK, "{token}: {}", tenant.text);
    tenant.body
}

/// The ARNs of every provider of the tenant of `token`.
async fn arns(api: &Api, token: &str) -> Vec<String> {
    let path = format!("{PROVIDERS}/actions/list");
    let all = call_as(api, token, Method::GET, &path, None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    all.body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["arn"].as_str().unwrap().to_string())
        .collect()
}

/// Registers `arn` in the tenant of `token`.
async fn register(api: &Api, token: &str, arn: &str) -> Answer {
    let body = json!({"name": "n", "arn": arn, "keyprovider": "AWS-KMS"});
    call_as(api, token, Method::POST, PROVIDERS, Some(body)).await
}

#[tokio::test]
async fn provisioned_tenants_have_their_own_ids_datacenters_and_providers() {
    let api = Api::start(provisioning()).await;
    let a = tenant_of(&api, &key("a.eu.qlikcloud.com")).await;
    let b = tenant_of(&api, &key("b.us.qlikcloud.com")).await;
    assert_eq!(a["datacenter"], "eu-west-1", "{a}");
    assert_eq!(b["datacenter"], "us-east-1", "{b}");
    assert_eq!((&a["region"], &b["region"]), (&json!("eu"), &json!("us")));
    assert_eq!(a["hostnames"], json!(["a.eu.qlikcloud.com"]));
    assert_eq!(a["name"], "a");
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    assert_ne!(a_id, b_id);
    assert_ne!(a_id, TENANT);
    for id in [a_id, b_id] {
        assert_eq!(id.len(), 32, "{id}");
        assert!(
            id.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{id}"
        );
    }
    // The same key finds the same tenant; a bare name lives in the default region.
    assert_eq!(
        tenant_of(&api, &key("a.eu.qlikcloud.com")).await["id"],
        a_id
    );
    let bare = tenant_of(&api, &key("acme")).await;
    assert_eq!(bare["hostnames"], json!(["acme.eu.qlikcloud.com"]));

    // A provider registered in one tenant is not in the others, and starts like a seeded one.
    let created = register(&api, &key("a.eu.qlikcloud.com"), ARN).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["tenantId"], a_id);
    assert_eq!(arns(&api, &key("a.eu.qlikcloud.com")).await, [QLIK, ARN]);
    assert_eq!(arns(&api, &key("b.us.qlikcloud.com")).await, [QLIK]);
    assert_eq!(arns(&api, API_KEY).await, [QLIK]);
    let details = call_as(
        &api,
        &key("b.us.qlikcloud.com"),
        Method::GET,
        &format!("{PROVIDERS}/migration/actions/details"),
        None,
    )
    .await;
    assert_eq!(details.status, StatusCode::NOT_FOUND, "{}", details.text);
}

#[tokio::test]
async fn each_provisioned_tenant_has_its_own_rate_limits() {
    let api = Api::start(EmulatorConfig {
        rates: Tiers {
            reads_per_minute: 0,
            writes_per_minute: 1,
        },
        ..provisioning()
    })
    .await;
    let (a, b) = (key("a.eu.qlikcloud.com"), key("b.us.qlikcloud.com"));
    assert_eq!(register(&api, &a, ARN).await.status, StatusCode::CREATED);
    let refused = register(&api, &a, OTHER_ARN).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    let arn = "arn:aws:kms:us-east-1:111222334455:key/mrk-1237c011a37erft67ei987c7612q456";
    assert_eq!(register(&api, &b, arn).await.status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_first_calls_host_each_tenant_once() {
    let api = Arc::new(Api::start(provisioning()).await);
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..200 {
        let api = api.clone();
        // Half the calls for one tenant, the others for a hundred distinct ones.
        let name = if n % 2 == 0 {
            "same.us.qlikcloud.com".to_string()
        } else {
            format!("t{n}.eu.qlikcloud.com")
        };
        calls.spawn(async move { (name.clone(), tenant_of(&api, &key(&name)).await) });
    }
    let mut ids = std::collections::HashMap::new();
    while let Some(done) = calls.join_next().await {
        let (name, tenant) = done.unwrap();
        let id = tenant["id"].as_str().unwrap().to_string();
        let first = ids.entry(name.clone()).or_insert_with(|| id.clone());
        assert_eq!(*first, id, "{name} is one tenant");
    }
    assert_eq!(ids.len(), 101);
    assert_eq!(
        api.twin.state().tenants_provisioned,
        101,
        "each hosted once"
    );
    let hosted = api.twin.snapshot().tenants;
    assert_eq!(hosted.len(), 102, "the seeded tenant and 101 provisioned");
    let distinct: std::collections::HashSet<&String> = ids.values().collect();
    assert_eq!(distinct.len(), 101);
}

#[tokio::test]
async fn provisioning_is_off_by_default_and_needs_the_prefix_and_a_hostname() {
    let off = Api::start(config()).await;
    let refused = call_as(
        &off,
        &key("a.eu.qlikcloud.com"),
        Method::GET,
        "/api/v1/tenants/me",
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let on = Api::start(provisioning()).await;
    for token in [
        "a.eu.qlikcloud.com",
        "tenant:",
        "tenant:A.EU.qlikcloud.com",
        "tenant:a_b",
    ] {
        let refused = call_as(&on, token, Method::GET, "/api/v1/tenants/me", None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{token}");
    }
    assert_eq!(on.twin.snapshot().tenants.len(), 1);
    // An empty prefix would hand a tenant to any token: refused.
    let mut config = provisioning();
    if let Some(provisioning) = config.provisioning.as_mut() {
        provisioning.api_key_prefix.clear();
    }
    assert!(start(config).await.is_err());
}

#[tokio::test]
async fn a_hostname_already_hosted_is_that_tenant() {
    let mut config = provisioning();
    config.tenants[0].hostname = "acme.eu.qlikcloud.com".into();
    let api = Api::start(config).await;
    assert_eq!(
        tenant_of(&api, &key("acme.eu.qlikcloud.com")).await["id"],
        TENANT
    );
    assert_eq!(tenant_of(&api, &key("acme")).await["id"], TENANT);
    assert_eq!(api.twin.snapshot().tenants.len(), 1);
}

#[tokio::test]
async fn a_restored_twin_serves_provisioned_tenants_under_the_same_key() {
    let first = Api::start(provisioning()).await;
    let a = key("a.eu.qlikcloud.com");
    let id = tenant_of(&first, &a).await["id"].clone();
    assert_eq!(register(&first, &a, ARN).await.status, StatusCode::CREATED);
    let saved = first.twin.snapshot();
    let provisioned = saved.tenants.iter().find(|t| t.id == id).unwrap();
    assert_eq!(
        provisioned
            .provisioned
            .as_ref()
            .map(|s| s.hostname.as_str()),
        Some("a.eu.qlikcloud.com")
    );
    // Through a state file's JSON, as the CLI keeps it.
    let saved: SavedState = serde_json::from_value(serde_json::to_value(&saved).unwrap()).unwrap();

    let restored = Api::start(EmulatorConfig {
        state: Some(saved.clone()),
        ..provisioning()
    })
    .await;
    assert_eq!(tenant_of(&restored, &a).await["id"], id);
    assert_eq!(arns(&restored, &a).await, [QLIK, ARN]);
    // Restored without provisioning, it is still hosted (and saved again), reachable by no key.
    let quiet = start(EmulatorConfig {
        state: Some(saved),
        ..config()
    })
    .await
    .unwrap();
    assert!(quiet.snapshot().tenants.iter().any(|t| t.id == id));
}

#[test]
fn a_state_saved_before_provisioning_still_loads() {
    let old = json!({"tenants": [{
        "id": TENANT,
        "providers": [],
        "current": TENANT,
        "migration": null,
    }]});
    let saved: SavedState = serde_json::from_value(old).unwrap();
    assert_eq!(saved.tenants[0].provisioned, None);
    let written = serde_json::to_value(&saved).unwrap();
    assert!(
        written["tenants"][0].get("provisioned").is_none(),
        "{written}"
    );
}
