//! The twin over real HTTP: reqwest against [`start`], one fresh twin per test.

mod access;
mod kms;
mod migrations;
mod probe;
mod providers;
mod tenants;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::*;

/// The tenant id of Qlik's own examples.
pub const TENANT: &str = "ImTRa-bkJTD-NZRYjNBa_rDhwSVA6Qo8";
/// Its API key.
pub const API_KEY: &str = "api-key-of-acme";
/// A key ARN of the tenant's region.
pub const ARN: &str = "arn:aws:kms:eu-west-1:111222334455:key/mrk-1237c011a37erft67ei987c7612q456";
/// Another one.
pub const OTHER_ARN: &str =
    "arn:aws:kms:eu-west-1:111222334455:key/mrk-2678f8123w236c3123469387dc2ce561";
/// The path of the key providers.
pub const PROVIDERS: &str = "/api/v1/encryption/keyproviders";

/// A tenant in `datacenter`.
pub fn seed(id: &str, datacenter: &str) -> TenantSeed {
    TenantSeed {
        id: id.into(),
        name: format!("{id} name"),
        hostname: format!("{}.eu.qlikcloud.com", id.to_lowercase()),
        region: "eu".into(),
        datacenter: datacenter.into(),
    }
}

/// One tenant in eu-west-1 reachable with [`API_KEY`].
pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        tenants: vec![seed(TENANT, "eu-west-1")],
        api_keys: vec![(API_KEY.into(), TENANT.into())],
        ..EmulatorConfig::default()
    }
}

/// A client of a running twin with one bearer token.
pub struct Api {
    /// The twin (dropped with the client).
    pub twin: Running,
    /// The bearer token sent.
    pub token: String,
    http: reqwest::Client,
}

/// An answer: status, headers and the body as JSON (`Null` when empty).
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Api {
    /// Starts a twin with `config` and calls it with [`API_KEY`].
    pub async fn start(config: EmulatorConfig) -> Api {
        let twin = start(config).await.unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Api {
            twin,
            token: API_KEY.into(),
            http,
        }
    }

    /// The same twin with another token.
    pub fn with_token(mut self, token: &str) -> Api {
        self.token = token.into();
        self
    }

    /// A request with the token, and a JSON body when given.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.twin.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.unwrap()).await
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    /// POST with a body.
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    /// POST without a body or content type, as Qlik's own client sends migrate, test and reset.
    pub async fn post_empty(&self, path: &str) -> Answer {
        self.call(Method::POST, path, None).await
    }

    /// Registers `arn` as `name`, expecting 201; gives its fingerprint.
    pub async fn create(&self, arn: &str, name: &str) -> String {
        let created = self
            .post(
                PROVIDERS,
                serde_json::json!({"name": name, "arn": arn, "keyprovider": "AWS-KMS"}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        created.body["arnFingerPrint"].as_str().unwrap().to_string()
    }

    /// The provider with fingerprint `fp`.
    pub async fn provider(&self, fp: &str) -> Value {
        let got = self.get(&format!("{PROVIDERS}/{fp}")).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.text);
        got.body
    }

    /// Polls migration details until `Completed`, returning every answer seen.
    pub async fn until_completed(&self) -> Vec<Value> {
        let mut seen = Vec::new();
        for _ in 0..200 {
            let details = self
                .get(&format!("{PROVIDERS}/migration/actions/details"))
                .await;
            assert_eq!(details.status, StatusCode::OK, "{}", details.text);
            let done = details.body["state"] == "Completed";
            seen.push(details.body);
            if done {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        panic!("the migration did not complete: {seen:?}");
    }
}

/// Reads an answer whole.
pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

/// Asserts the standard error envelope with `code`.
pub fn assert_error(answer: &Answer, status: StatusCode, title: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    let error = &answer.body["errors"][0];
    assert_eq!(error["title"], title, "{}", answer.text);
    assert!(
        error["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{}",
        answer.text
    );
}
