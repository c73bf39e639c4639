//! The harness of the API tests: a `keyflow serve` on a temporary folder and store, a real HTTP client
//! for its API, and a check of a body against its schema in the committed OpenAPI document.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{path_str, root, run};
use crate::serve::{Daemon, write};

/// A `keyflow serve` on a temporary folder and store, and an HTTP client for its API.
pub struct Api {
    daemon: Daemon,
    dir: tempfile::TempDir,
    base: String,
    token: Option<String>,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

/// An answer: status, headers and body (JSON when it parses, else a string).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Api {
    /// Serves `flows` (file name, text); with `token`, given by `--token-file`.
    pub fn start(flows: &[(&str, &str)], token: Option<&str>) -> Api {
        Api::start_with(flows, token, &[])
    }

    /// [`Api::start`] with more arguments for `keyflow serve` (`--sandbox`).
    pub fn start_with(flows: &[(&str, &str)], token: Option<&str>, extra: &[&str]) -> Api {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = dir.path().join("flows");
        std::fs::create_dir(&folder).expect("flows folder");
        for (name, text) in flows {
            write(&folder, name, text);
        }
        Api::serve(dir, token, extra)
    }

    /// Serves `DIR/flows` with the store `DIR/runs.db`.
    pub fn start_in(dir: tempfile::TempDir, token: Option<&str>) -> Api {
        Api::serve(dir, token, &[])
    }

    fn serve(dir: tempfile::TempDir, token: Option<&str>, more: &[&str]) -> Api {
        let folder = dir.path().join("flows");
        let file = dir.path().join("token");
        let mut extra = vec!["--grace", "5s"];
        extra.extend(more);
        if let Some(token) = token {
            std::fs::write(&file, format!("{token}\n")).expect("token file");
            extra.extend(["--token-file", path_str(&file)]);
        }
        let store = dir.path().join("runs.db");
        let mut daemon = Daemon::start(&folder, path_str(&store), &extra);
        daemon.wait_for("the API's address", |l| l.contains("API at http://"));
        // `… API at http://127.0.0.1:PORT` (`; sandbox twins` may follow).
        let line = daemon.lines(|l| l.contains("API at http://")).remove(0);
        let address = line.split("API at ").nth(1).unwrap_or_default();
        let base = address
            .split([';', ' '])
            .next()
            .unwrap_or(address)
            .to_string();
        let api = Api {
            daemon,
            dir,
            base,
            token: token.map(str::to_string),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            client: reqwest::Client::new(),
        };
        api.poll("the flows loaded", || api.get("/readyz").status == 200);
        api
    }

    /// The daemon's address: `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Everything the daemon wrote on stderr so far.
    pub fn log(&self) -> String {
        self.daemon.log()
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("runs.db")
    }

    /// A request with the daemon's token (when it has one) unless `token` says otherwise (`""`: no
    /// `Authorization` header).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token.or(self.token.as_deref()).filter(|t| !t.is_empty()) {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        self.runtime.block_on(async {
            let response = request.send().await.expect("an answer");
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = response.text().await.expect("a body");
            let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
            Answer {
                status,
                headers,
                body,
            }
        })
    }

    /// A form posted as a browser posts it (no bearer token), with its `cookie` header; a redirect is
    /// answered, not followed.
    pub fn post_form(&self, path: &str, cookie: &str, form: &str) -> Answer {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client");
        let request = client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie)
            .body(form.to_string());
        self.runtime.block_on(async {
            let response = request.send().await.expect("an answer");
            Answer {
                status: response.status().as_u16(),
                headers: response.headers().clone(),
                body: Value::String(response.text().await.expect("a body")),
            }
        })
    }

    pub fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None, None)
    }

    pub fn post(&self, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(&body.to_string()), None)
    }

    /// Asks `done` every 50 ms, for up to 30 s.
    pub fn poll(&self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the daemon said:\n{}",
                self.daemon.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts a run of `flow` and gives its id.
    pub fn start_run(&self, flow: &str, body: Value) -> String {
        let answer = self.post(&format!("/api/v1/flows/{flow}/runs"), body);
        assert_eq!(answer.status, 202, "{}", answer.body);
        answer.body["run_id"].as_str().expect("run id").to_string()
    }

    /// The folder of flows the daemon serves.
    pub fn folder(&self) -> std::path::PathBuf {
        self.dir.path().join("flows")
    }

    /// Waits for run `id` to be `status` and gives its report.
    pub fn run_ends(&self, id: &str, status: &str) -> Value {
        let mut report = Value::Null;
        self.poll(&format!("run {id} to be {status}"), || {
            report = self.get(&format!("/api/v1/runs/{id}")).body;
            report["status"] == status
        });
        report
    }

    /// Stops the daemon with SIGTERM (it exits 0) and gives its log.
    pub fn stop(mut self) -> String {
        let code = self.daemon.terminate();
        assert_eq!(code, Some(0), "{}", self.daemon.log());
        self.daemon.log()
    }
}

/// Panics with every error when `instance` does not match the component `name` of the committed
/// OpenAPI document.
pub fn assert_fits(name: &str, instance: &Value) {
    let text = std::fs::read_to_string(root().join("schemas/openapi.json")).expect("openapi.json");
    let document: Value = serde_json::from_str(&text).expect("openapi JSON");
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{name}"),
        "components": document["components"],
    });
    let validator = jsonschema::validator_for(&schema).expect("a schema");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "does not fit {name}:\n{}\n{instance:#}",
        errors.join("\n")
    );
}

pub fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

pub fn keyflow_json(args: &[&str], store: &Path) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json", "--store", path_str(store)]);
    let ran = run(&all);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    json_of(&ran.stdout)
}
