//! The UI's actions over real HTTP: the daemon's whole app (API and UI behind their gates) on a loopback
//! port, a SQLite store in a temporary folder, the daemon's own runner taking the runs the forms ask for,
//! and the twins for the flows that call AWS KMS. A [`Client`] is a browser: it keeps the cookies it is
//! given and sends the forms of the pages it read.
//!
//! - [`auth`]: logging in with the token, sessions, and the CSRF checks of every form;
//! - [`runs`]: cancel, resume and re-run from a step, with their refusals;
//! - [`flows`]: the flow page's form, the plan view, files not served, typed confirmation, escaping.
#![allow(clippy::unwrap_used)]

mod auth;
mod flows;
mod runs;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use keyflow_store::{Location, RunState, Store, StoredRun};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::serve::catalog::{self, Catalog};
use crate::serve::metrics::Metrics;
use crate::serve::{Daemon, Settings};

/// A token of the length the daemon asks for.
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// Params of every kind the form generates fields for.
const GREET: &str = "name: greet\ndescription: Greets <b>someone</b>.\nparams:\n  who: { type: string, pattern: \"^[a-z]+$\", description: \"whom to <greet>\" }\n  times: { type: integer, default: 1, enum: [1, 2, 3] }\n  loud: { type: boolean, default: false }\n  extra: { type: object, default: { tag: x } }\nsteps:\n  - id: say\n    block: core.set\n    with: { text: \"hello {{params.who}}\", times: $.params.times, extra: $.params.extra }\n  - id: shout\n    block: core.set\n    after: say\n    if: { path: $.params.loud, equals: true }\n    with: { text: HELLO }\noutputs:\n  text: $.steps.say.output.text\n";

/// Three steps, the second reading the first.
const CHAIN: &str = "name: chain\nsteps:\n  - id: a\n    block: core.set\n    with: { n: 1 }\n  - id: b\n    block: core.set\n    with: { m: $.steps.a.output.n }\n  - id: c\n    block: core.set\n    after: b\n    with: { k: 3 }\n";

/// A run that lasts a minute unless stopped.
const NAP: &str =
    "name: nap\nsteps:\n  - id: sleep\n    block: core.sleep\n    with: { duration: 60s }\n";

/// A key made, then disabled: a destructive step, confirmed.
const RETIRE: &str = "name: retire\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n  - id: key\n    block: aws-kms.create-key\n    with: { description: ui actions test }\n  - id: disable\n    block: aws-kms.disable-key\n    confirm: true\n    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }\n";

/// Markup wherever a flow lets text be written.
const HOSTILE: &str = "name: hostile\ndescription: \"<script>alert('d')</script>\"\nparams:\n  pick: { type: string, default: \"\\\"><script>alert(1)</script>\", enum: [\"\\\"><script>alert(1)</script>\", \"<img src=x onerror=alert(2)>\"], description: \"<script>alert(3)</script>\" }\nsteps:\n  - id: show\n    block: core.set\n    with: { v: $.params.pick }\n";

const BROKEN: &str = "name: broken\nsteps:\n  - id: a\n    block: core.nope\n";

/// A daemon serving the flows above with its runner, its whole app on a loopback port.
pub struct Fixture {
    pub daemon: Arc<Daemon>,
    pub addr: SocketAddr,
    _twins: keyflow_twins::sandbox::Twins,
    _dir: tempfile::TempDir,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.daemon.stopping.cancel();
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// The fixture; with `token`, browsers log in with it.
pub async fn fixture(token: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    for (name, text) in [
        ("greet.yaml", GREET),
        ("chain.yaml", CHAIN),
        ("nap.yaml", NAP),
        ("retire.yaml", RETIRE),
        ("hostile.yaml", HOSTILE),
        ("broken.yaml", BROKEN),
    ] {
        write(&flows, name, text);
    }
    let store = Arc::new(
        Store::open(&Location::Sqlite(dir.path().join("runs.db")))
            .await
            .unwrap(),
    );
    let twins = keyflow_twins::sandbox::Twins::start(keyflow_twins::sandbox::Options::default())
        .await
        .unwrap();
    let worker = "ui-actions-test".to_string();
    store.hold(&worker, Duration::from_secs(60)).await.unwrap();
    store.join(&worker, None).await.unwrap();
    let daemon = Arc::new(Daemon {
        store,
        worker,
        catalog: RwLock::new(Arc::new(Catalog::default())),
        running: Mutex::new(HashMap::new()),
        settings: Settings {
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(100),
            reload: Duration::from_secs(60),
            max_runs: 4,
            parallelism: 4,
            sandbox: Some(twins.sandbox()),
            plugins_outside_sandbox: false,
            grace: Duration::from_secs(1),
            quiet: true,
            color: false,
        },
        metrics: Metrics::default(),
        wake: Notify::new(),
        stopping: CancellationToken::new(),
        started: Instant::now(),
        ready: std::sync::atomic::AtomicBool::new(true),
        twins: Some(twins.snapshots()),
        streams: Arc::new(tokio::sync::Semaphore::new(crate::serve::MAX_STREAMS)),
    });
    catalog::load(&daemon, &[flows]).await;
    tokio::spawn(crate::serve::runner::run(daemon.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = crate::serve::api::app(daemon.clone(), token.map(str::to_string), addr).unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    Fixture {
        daemon,
        addr,
        _twins: twins,
        _dir: dir,
    }
}

impl Fixture {
    /// A browser with no cookies yet.
    pub fn browser(&self) -> Client {
        Client {
            base: format!("http://{}", self.addr),
            host: self.addr.to_string(),
            cookies: HashMap::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// The run `id` once it has ended (asking the store every 50 ms, for up to 30 s).
    pub async fn ended(&self, id: &str) -> StoredRun {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(run) = self.daemon.store.show(id).await
                && run.summary.status != RunState::Running
            {
                return run;
            }
            assert!(Instant::now() < deadline, "run {id} did not end");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The run `id` once it is recorded as running.
    pub async fn running(&self, id: &str) -> StoredRun {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(run) = self.daemon.store.show(id).await
                && run.summary.status == RunState::Running
            {
                return run;
            }
            assert!(Instant::now() < deadline, "run {id} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A browser: its cookies, and an HTTP client that does not follow redirects.
pub struct Client {
    base: String,
    host: String,
    pub cookies: HashMap<String, String>,
    http: reqwest::Client,
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    /// The `Location` header.
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The `Set-Cookie` headers.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// The value of the first `csrf` field on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field: {}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

impl Client {
    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// `GET path` with a bearer token (and the browser's cookies).
    pub async fn get_with_bearer(&mut self, path: &str, token: &str) -> Answer {
        let request = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token);
        self.send(request).await
    }

    /// A form sent as a browser sends it from the daemon's own page.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let origin = format!("http://{}", self.host);
        self.post_with(path, fields, &[("origin", &origin)]).await
    }

    /// A form sent with `headers` besides the cookies.
    pub async fn post_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Answer {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        if !headers.iter().any(|(name, _)| *name == "content-type") {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    async fn send(&mut self, mut request: reqwest::RequestBuilder) -> Answer {
        if !self.cookies.is_empty() {
            let cookie: Vec<String> = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            request = request.header("cookie", cookie.join("; "));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        let answer = Answer {
            status,
            headers,
            body,
        };
        for cookie in answer.set_cookies() {
            let pair = cookie.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || cookie.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        answer
    }
}

/// The run id a `303` to a run's page names.
pub fn run_of(answer: &Answer) -> String {
    assert_eq!(answer.status, 303, "{}", answer.body);
    answer
        .location()
        .strip_prefix("/ui/runs/")
        .unwrap_or_else(|| panic!("not a run's page: {}", answer.location()))
        .to_string()
}
