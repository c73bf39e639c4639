//! `qlik-cloud.request`: any Qlik Cloud REST call under `/api/v1` — the "raw API request" block for the
//! endpoints the other blocks do not cover (spaces, users, apps, webhooks…).
//!
//! It goes through the connection's client: its tenant, its authentication (API key or OAuth, a token
//! renewed once on 401) and its rate tiers (GET counts as a read, the rest as writes), errors mapped as the
//! other blocks' are. Its effect is the method's — GET read, POST create, PUT and PATCH update, DELETE
//! destructive (`confirm: true`, refused by `validate` when the method is literal) — and so is how a call
//! whose answer was lost is settled ([`METHODS`]). The output is the status and Qlik's JSON body as it
//! is: free-form, unchecked before the run (`validate` warns at a reference into the body).

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, EffectBy, Recovery,
};
use reqwest::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{CONNECTOR, client};

/// The methods, what a call with each does, and how a call whose answer was lost is settled when it is
/// made again: a GET is repeated; a PUT or PATCH reapplied (it sets what it names: Qlik's PATCH bodies are
/// JSON Patch `replace` operations); a POST may create twice and a DELETE repeated is refused (404) once
/// the first took effect, so neither can be settled by the raw call.
pub const METHODS: &[(&str, Effect, Recovery)] = &[
    ("GET", Effect::Read, Recovery::Repeat),
    ("POST", Effect::Create, Recovery::AtLeastOnce),
    ("PUT", Effect::Update, Recovery::Reapply),
    ("PATCH", Effect::Update, Recovery::Reapply),
    ("DELETE", Effect::Destructive, Recovery::AtLeastOnce),
];

/// The input that decides a call's effect and recovery, and how.
const EFFECT_BY: EffectBy = EffectBy {
    input: "method",
    table: METHODS,
};

/// Input of `qlik-cloud.request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    /// The HTTP method: it decides the call's effect (DELETE is destructive).
    #[schemars(schema_with = "method_schema")]
    pub method: String,
    /// The path under the tenant, starting `/api/v1/` (`/api/v1/spaces`).
    #[schemars(schema_with = "path_schema")]
    pub path: String,
    /// Query parameters (`{ limit: 10, filter: 'name eq "x"' }`), encoded for the URL.
    #[serde(default)]
    pub query: Map<String, Value>,
    /// The JSON body, for POST, PUT and PATCH.
    #[serde(default)]
    pub body: Option<Value>,
}

fn method_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    json!({
        "type": "string",
        "enum": EFFECT_BY.names(),
        "description": "The HTTP method: it decides the call's effect (DELETE is destructive).",
    })
    .try_into()
    .unwrap_or_default()
}

fn path_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    json!({
        "type": "string",
        "pattern": "^/api/v1/",
        "description": "The path under the tenant, starting `/api/v1/` (`/api/v1/spaces`).",
    })
    .try_into()
    .unwrap_or_default()
}

/// Output of `qlik-cloud.request`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RequestOutput {
    /// The HTTP status (200, 201, 204…).
    pub status: u16,
    /// Qlik's JSON body as it is (`null` when it sent none): free-form.
    pub body: Value,
}

/// Calls any Qlik Cloud REST endpoint under `/api/v1`.
pub struct Request;

impl Block for Request {
    type Input = RequestInput;
    type Output = RequestOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.request",
            title: "Qlik Cloud API Request",
            connector: Some(CONNECTOR),
            description: "Calls any Qlik Cloud REST endpoint under `/api/v1` with the connection's tenant, \
                          authentication and rate tiers. Its effect is the method's (GET read, POST create, \
                          PUT and PATCH update, DELETE destructive: it needs `confirm: true`); so is its \
                          recovery (a lost GET is repeated, a PUT or PATCH reapplied, a POST or DELETE \
                          at-least-once); its output is the status and Qlik's body, free-form: a reference into the body is checked only \
                          by the run, and `validate` warns where one is written.",
            effect: Effect::Destructive,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::AtLeastOnce,
        }
    }

    fn effect_by(&self) -> Option<EffectBy> {
        Some(EFFECT_BY)
    }

    fn example_output(&self) -> RequestOutput {
        RequestOutput {
            status: 200,
            body: json!({ "data": [{ "id": "6502e1c8d2b4c8b2b4c8b2b4", "name": "Finance", "type": "shared" }] }),
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: RequestInput,
    ) -> Result<RequestOutput, BlockError> {
        let path = path_with_query(&input.path, &input.query)?;
        let method = Method::from_bytes(input.method.as_bytes()).map_err(|_| {
            BlockError::invalid_input(format!("`{}` is not an HTTP method", input.method))
        })?;
        let operation = format!("{} {}", input.method, input.path);
        let answer = client(ctx)?
            .call(&operation, method, &path, input.body.as_ref())
            .await?;
        Ok(RequestOutput {
            status: answer.status,
            body: answer.body.unwrap_or(Value::Null),
        })
    }
}

/// `path` with `query` encoded, refused unless it stays under `/api/v1/`.
fn path_with_query(path: &str, query: &Map<String, Value>) -> Result<String, BlockError> {
    let inside = path.starts_with("/api/v1/")
        && !path
            .split('/')
            .any(|segment| segment == ".." || segment == ".")
        && !path.contains(['?', '#']);
    if !inside {
        return Err(BlockError::invalid_input(format!(
            "path `{path}`: give a path under `/api/v1/` without `..`, `?` or `#` (the query goes in `query`)"
        )));
    }
    if query.is_empty() {
        return Ok(path.to_string());
    }
    let mut url = reqwest::Url::parse("http://tenant")
        .map_err(|e| BlockError::fatal("InvalidUrl", e.to_string()))?;
    {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in query {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            pairs.append_pair(name, &value);
        }
    }
    Ok(format!("{path}?{}", url.query().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_stays_under_the_api_and_its_query_is_encoded() {
        let query = json!({ "limit": 10, "filter": "name eq \"a b\"" });
        let query = query.as_object().cloned().unwrap_or_default();
        let with_query = path_with_query("/api/v1/spaces", &query).unwrap_or_default();
        assert!(
            with_query.starts_with("/api/v1/spaces?")
                && with_query.contains("limit=10")
                && with_query.contains("filter=name+eq+%22a+b%22"),
            "{with_query}"
        );
        for bad in [
            "/api/v2/x",
            "/api/v1/../v2/x",
            "/api/v1/x?y=1",
            "https://evil/api/v1/x",
        ] {
            assert!(path_with_query(bad, &Map::new()).is_err(), "{bad}");
        }
        assert_eq!(EFFECT_BY.effect(&json!("DELETE")), Effect::Destructive);
        assert_eq!(EFFECT_BY.effect(&json!("GET")), Effect::Read);
        assert_eq!(EFFECT_BY.effect(&json!("POST")), Effect::Create);
        assert_eq!(EFFECT_BY.recovery(&json!("GET")), Recovery::Repeat);
        assert_eq!(EFFECT_BY.recovery(&json!("PATCH")), Recovery::Reapply);
        assert_eq!(EFFECT_BY.recovery(&json!("POST")), Recovery::AtLeastOnce);
    }
}
