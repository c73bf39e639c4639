//! The OpenAPI 3.1 document of the API: the paths are written here, every body's schema is generated
//! from the Rust type the handler serializes (or parses), so the document cannot drift from what is
//! served. `keyflow schema --out schemas/` commits it as `schemas/openapi.json`; the daemon serves the
//! same at `/api/v1/openapi.json`.

use schemars::Schema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use super::error::{CODES, Code, ErrorBody};
use super::flows::{Accepted, FlowDocument, FlowsDocument, RunRequest, TriggerDocument};
use super::runs::{Cancelling, FiringsDocument, RerunRequest, ResumeRequest};
use crate::machine::documents::{RunDocument, RunsDocument};

/// The document, as served and committed.
pub fn document() -> Value {
    let mut out = generator(SchemaSettings::draft2020_12().for_serialize());
    let mut inputs = generator(SchemaSettings::draft2020_12().for_deserialize());
    let errors = out.subschema_for::<ErrorBody>();
    let error = |codes: &[Code]| -> Vec<(u16, Value)> {
        CODES
            .iter()
            .filter(|(code, _)| codes.contains(code))
            .fold(
                Vec::<(u16, Vec<Code>)>::new(),
                |mut by_status, (code, status)| {
                    match by_status.iter_mut().find(|(s, _)| s == status) {
                        Some((_, codes)) => codes.push(*code),
                        None => by_status.push((*status, vec![*code])),
                    }
                    by_status
                },
            )
            .into_iter()
            .map(|(status, codes)| {
                let names: Vec<String> = codes.iter().map(|c| format!("`{}`", name(*c))).collect();
                (
                    status,
                    json_body(&errors, &format!("Error {}.", names.join(" or "))),
                )
            })
            .collect()
    };
    let store = [Code::StoreUnavailable, Code::StoreFailed];
    let with = |codes: &[Code]| -> Vec<Code> {
        [Code::Unauthorized]
            .iter()
            .chain(codes)
            .chain(&store)
            .copied()
            .collect()
    };

    let mut paths = Map::new();
    paths.insert(
        "/healthz".into(),
        json!({ "get": {
            "operationId": "healthz",
            "summary": "Liveness: the process answers.",
            "security": [],
            "responses": { "200": text("`ok`.") },
        }}),
    );
    paths.insert(
        "/readyz".into(),
        json!({ "get": {
            "operationId": "readyz",
            "summary": "Readiness: the flows are loaded, the store answers and the daemon is not stopping.",
            "description": "The body says why not: `ready`, `worker`, `uptime_seconds`, `flows_loaded`, `stopping`, `store` (`ok` or the error) and `running` (the runs under way here).",
            "security": [],
            "responses": {
                "200": { "description": "Ready.", "content": { "application/json": { "schema": { "type": "object" } } } },
                "503": { "description": "Not ready.", "content": { "application/json": { "schema": { "type": "object" } } } },
            },
        }}),
    );
    paths.insert(
        "/metrics".into(),
        json!({ "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics: runs by flow and status, step durations, firings, missed fire times, throttled calls, runs under way, firings waiting.",
            "responses": responses(vec![(200, text("Prometheus' text format, version 0.0.4."))], error(&[Code::Unauthorized])),
        }}),
    );
    paths.insert(
        "/api/v1/openapi.json".into(),
        json!({ "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "responses": responses(vec![(200, json!({ "description": "The OpenAPI 3.1 document.", "content": { "application/json": { "schema": { "type": "object" } } } }))], error(&[Code::Unauthorized])),
        }}),
    );
    let next = json!({ "name": "next", "in": "query", "required": false,
        "description": "How many next fire times each trigger shows (1 to 100; default 3).",
        "schema": { "type": "integer", "minimum": 1, "maximum": 100 } });
    paths.insert(
        "/api/v1/flows".into(),
        json!({ "get": {
            "operationId": "listFlows",
            "summary": "Every flow served, with its params and its triggers' next fire times and state, and the files left out with their diagnostics.",
            "parameters": [next],
            "responses": responses(
                vec![(200, json_body(&out.subschema_for::<FlowsDocument>(), "The flows."))],
                error(&with(&[Code::BadRequest])),
            ),
        }}),
    );
    let flow = path_param("flow", "The flow's name (its `name:`).");
    paths.insert(
        "/api/v1/flows/{flow}".into(),
        json!({ "get": {
            "operationId": "getFlow",
            "summary": "One flow served.",
            "parameters": [flow, next],
            "responses": responses(
                vec![(200, json_body(&out.subschema_for::<FlowDocument>(), "The flow."))],
                error(&with(&[Code::BadRequest, Code::NotFound])),
            ),
        }}),
    );
    let accepted = out.subschema_for::<Accepted>();
    paths.insert(
        "/api/v1/flows/{flow}/runs".into(),
        json!({ "post": {
            "operationId": "startRun",
            "summary": "Start a run of the flow; its params are checked by the rules `keyflow run` checks its params by (typed JSON values, as in `--params-file`).",
            "description": "A daemon of the store starts it (this one at once when it has room). `Location` names the run; it shows once started (until then `GET` of it answers `not_started` with the firing).",
            "parameters": [flow],
            "requestBody": { "required": false, "content": { "application/json": { "schema": inputs.subschema_for::<RunRequest>() } } },
            "responses": responses(
                vec![(202, json_body(&accepted, "The run was asked for."))],
                error(&with(&[Code::BadRequest, Code::NotFound, Code::InvalidParams])),
            ),
        }}),
    );
    paths.insert(
        "/api/v1/flows/{flow}/triggers/{trigger}/resume".into(),
        json!({ "post": {
            "operationId": "resumeTrigger",
            "summary": "Un-pause a trigger paused after failures (`pause_after_failures`); its failure count starts again.",
            "parameters": [flow, path_param("trigger", "The trigger's id.")],
            "responses": responses(
                vec![(200, json_body(&out.subschema_for::<TriggerDocument>(), "The trigger, no longer paused."))],
                error(&with(&[Code::NotFound, Code::Conflict])),
            ),
        }}),
    );
    paths.insert(
        "/api/v1/runs".into(),
        json!({ "get": {
            "operationId": "listRuns",
            "summary": "Recorded runs, newest first, as `keyflow runs list --output json` gives them.",
            "parameters": [
                query_param("flow", "Only runs of this flow.", json!({ "type": "string" })),
                query_param("status", "Only runs in this state.", json!({ "enum": ["running", "succeeded", "failed", "cancelled", "interrupted"] })),
                query_param("since", "Only runs started since an age (`7d`, `12h`) or an RFC 3339 time.", json!({ "type": "string" })),
                query_param("limit", "At most this many runs (1 to 1000; default 20).", json!({ "type": "integer", "minimum": 1, "maximum": 1000 })),
            ],
            "responses": responses(
                vec![(200, json_body(&out.subschema_for::<RunsDocument>(), "The runs."))],
                error(&with(&[Code::BadRequest])),
            ),
        }}),
    );
    let run = path_param(
        "id",
        "The run's id, or the start of it when that names one run.",
    );
    paths.insert(
        "/api/v1/runs/{id}".into(),
        json!({ "get": {
            "operationId": "getRun",
            "summary": "One run's report, as `keyflow runs show --output json` gives it.",
            "parameters": [run],
            "responses": responses(
                vec![(200, json_body(&out.subschema_for::<RunDocument<'static>>(), "The run report."))],
                error(&with(&[Code::NotFound, Code::NotStarted])),
            ),
        }}),
    );
    paths.insert(
        "/api/v1/runs/{id}/cancel".into(),
        json!({ "post": {
            "operationId": "cancelRun",
            "summary": "Stop a run: at once when this daemon runs it, else at its daemon's next lease renewal; a run not started yet never starts.",
            "parameters": [run],
            "responses": responses(
                vec![(202, json_body(&out.subschema_for::<Cancelling>(), "The run is being stopped."))],
                error(&with(&[Code::NotFound, Code::Conflict])),
            ),
        }}),
    );
    paths.insert(
        "/api/v1/runs/{id}/resume".into(),
        json!({ "post": {
            "operationId": "resumeRun",
            "summary": "Resume a run that failed, was cancelled or was interrupted, as `keyflow resume` does: from the first step that did not succeed, with its params.",
            "description": "Refused (409) as `keyflow resume` refuses: a run that succeeded, one still running, a template's run, one whose flow changed since in steps that succeeded; and when this daemon does not serve its flow or the run already goes on.",
            "parameters": [run],
            "requestBody": { "required": false, "content": { "application/json": { "schema": inputs.subschema_for::<ResumeRequest>() } } },
            "responses": responses(
                vec![(202, json_body(&accepted, "The run was asked to go on."))],
                error(&with(&[Code::BadRequest, Code::NotFound, Code::NotStarted, Code::Conflict])),
            ),
        }}),
    );
    paths.insert(
        "/api/v1/runs/{id}/rerun".into(),
        json!({ "post": {
            "operationId": "rerunSteps",
            "summary": "Re-run steps of a run that ended, as `keyflow run FLOW --from RUN --rerun STEP` does: a new run of the flow served under its name, with the earlier run's params, that reuses the earlier run's results except those of the steps named and of every step that depends on them (and of steps that did not succeed).",
            "description": "Refused with 409 for a run still running or already going on again, a template's run, or a flow changed since the run in steps that would be reused; with 422 for a step the flow does not have, a flow this daemon does not serve, or params that no longer fit it. The firing carries `rerun`: the earlier run and the steps.",
            "parameters": [run],
            "requestBody": { "required": true, "content": { "application/json": { "schema": inputs.subschema_for::<RerunRequest>() } } },
            "responses": responses(
                vec![(202, json_body(&accepted, "The new run was asked for."))],
                error(&with(&[Code::BadRequest, Code::NotFound, Code::NotStarted, Code::Conflict, Code::Unprocessable])),
            ),
        }}),
    );
    paths.insert(
        "/api/v1/firings".into(),
        json!({ "get": {
            "operationId": "listFirings",
            "summary": "Recent firings, newest first: each fire time of a trigger and each run asked for through the API; a skipped one says why.",
            "parameters": [
                query_param("flow", "Only firings of this flow.", json!({ "type": "string" })),
                query_param("limit", "At most this many (1 to 1000; default 50).", json!({ "type": "integer", "minimum": 1, "maximum": 1000 })),
            ],
            "responses": responses(
                vec![(200, json_body(&out.subschema_for::<FiringsDocument>(), "The firings."))],
                error(&with(&[Code::BadRequest])),
            ),
        }}),
    );

    let mut schemas = out.take_definitions(true);
    for (name, schema) in inputs.take_definitions(true) {
        schemas.entry(name).or_insert(schema);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "keyflow serve",
            "version": "1",
            "description": "The HTTP API of `keyflow serve`: the flows it serves, their runs and firings. JSON under `/api/v1`; errors are `{\"error\": {\"code\", \"message\"}}` with a stable `code`. With a token (`--token-file` or KEYFLOW_API_TOKEN) every route but `/healthz` and `/readyz` needs `Authorization: Bearer <token>`.",
        },
        "servers": [{ "url": "http://127.0.0.1:7717", "description": "The default `--listen`." }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The daemon's token; needed only when the daemon has one.",
                },
            },
            "schemas": schemas,
        },
    })
}

/// Generates `$ref`s into `#/components/schemas`.
fn generator(settings: SchemaSettings) -> SchemaGenerator {
    settings
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator()
}

/// The name of a code as it is written.
fn name(code: Code) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn json_body(schema: &Schema, description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn text(description: &str) -> Value {
    json!({ "description": description, "content": { "text/plain": { "schema": { "type": "string" } } } })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// The `responses` object: the successes, then the errors, by status.
fn responses(ok: Vec<(u16, Value)>, errors: Vec<(u16, Value)>) -> Value {
    let mut all: Vec<(u16, Value)> = ok.into_iter().chain(errors).collect();
    all.sort_by_key(|(status, _)| *status);
    Value::Object(
        all.into_iter()
            .map(|(status, body)| (status.to_string(), body))
            .collect(),
    )
}

/// The schema of a type, for tests.
#[cfg(test)]
fn schema_of<T: schemars::JsonSchema>() -> Value {
    generator(SchemaSettings::draft2020_12().for_serialize())
        .into_root_schema_for::<T>()
        .to_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves_to_a_component() {
        let document = document();
        let text = document.to_string();
        let schemas = document["components"]["schemas"]
            .as_object()
            .expect("schemas");
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap_or_default();
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a reference outside the components: {target}"));
            assert!(schemas.contains_key(name), "no component {name}");
        }
    }

    #[test]
    fn the_error_codes_are_the_ones_the_schema_lists() {
        let schema = schema_of::<Code>();
        let listed: Vec<String> = schema["oneOf"]
            .as_array()
            .expect("oneOf")
            .iter()
            .filter_map(|v| v["const"].as_str().map(str::to_string))
            .collect();
        let names: Vec<String> = CODES.iter().map(|(c, _)| name(*c)).collect();
        assert_eq!(listed, names);
    }
}
