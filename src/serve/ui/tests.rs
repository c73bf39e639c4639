//! The pages served over real HTTP by the router, on a daemon whose SQLite store (in a temporary folder)
//! holds runs recorded by the real executor: flows of core blocks, and one that calls the KMS twin for a
//! data key, whose plaintext is a secret output.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use keyflow_engine::exec::report::{RunReport, Status};
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_store::{Location, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::serve::catalog::{self, Catalog};
use crate::serve::metrics::Metrics;
use crate::serve::{Daemon, Settings};

const SHOWN: &str = "name: shown\ndescription: Steps whose records the pages show.\ntriggers:\n  - id: monthly\n    cron: \"0 3 1 * *\"\n    timezone: Europe/Paris\nsteps:\n  - id: greet\n    block: core.set\n    with: { text: \"<script>alert('x')</script>\", items: [a, b, c] }\n  - id: each\n    block: core.set\n    for_each: $.steps.greet.output.items\n    with: { letter: $.item }\n  - id: last\n    block: core.set\n    after: each\n    with: { n: 1 }\n";

const FAILS: &str = "name: fails\nsteps:\n  - id: first\n    block: core.set\n    with: { n: 1 }\n  - id: poll\n    block: core.set\n    with: { state: Pending }\n    until: { condition: { path: $.output.state, equals: Completed }, every: 20ms, timeout: 90ms }\n    on_error: continue\n  - id: boom\n    block: core.fail\n    after: first\n    with: { message: the sky fell }\n  - id: never\n    block: core.set\n    after: boom\n    with: { n: 2 }\n";

const DATA_KEY: &str = "name: data-key\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n  - id: key\n    block: aws-kms.create-key\n    with: { description: ui test }\n  - id: data\n    block: aws-kms.generate-data-key\n    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, key_spec: AES_256 }\n  - id: alias\n    block: aws-kms.create-alias\n    with: { alias_name: alias/ui-test, target_key_id: $.steps.key.output.KeyMetadata.KeyId }\n";

/// Steps that take a moment, for live updates to follow (run by those tests, not by the fixture).
pub(super) const SLOW: &str = "name: slow\nsteps:\n  - id: first\n    block: core.set\n    with: { n: 1 }\n  - id: wait\n    block: core.sleep\n    after: first\n    with: { duration: 700ms }\n  - id: last\n    block: core.set\n    after: wait\n    with: { n: $.steps.first.output.n }\n";

const TEMPLATE: &str = "name: tenant\nversion: \"1.0\"\nparams:\n  tenant: { type: string }\nsteps:\n  - id: name\n    block: core.set\n    with: { alias: \"alias/{{params.tenant}}\" }\noutputs:\n  alias: $.steps.name.output.alias\n";

const ONBOARD: &str = "name: onboard\nsteps:\n  - id: each\n    uses: ./templates/tenant.yaml\n    for_each: [acme, globex]\n    with: { tenant: $.item }\n";

const BROKEN: &str = "name: broken\nsteps:\n  - id: a\n    block: core.nope\n";

/// A daemon over a fresh SQLite store with the flows above loaded, and the runs it recorded.
pub(super) struct Fixture {
    pub daemon: Arc<Daemon>,
    pub runs: HashMap<&'static str, RunReport>,
    _dir: tempfile::TempDir,
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

pub(super) async fn fixture() -> Fixture {
    fixture_with(true).await
}

/// The fixture; `sandboxed`: whether the daemon shows what its twins hold, as under `--sandbox` (the
/// flows run against twins either way).
pub(super) async fn fixture_with(sandboxed: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    write(&flows, "shown.yaml", SHOWN);
    write(&flows, "fails.yaml", FAILS);
    write(&flows, "data-key.yaml", DATA_KEY);
    write(&flows, "broken.yaml", BROKEN);
    write(&flows, "onboard.yaml", ONBOARD);
    write(&flows, "slow.yaml", SLOW);
    std::fs::create_dir_all(flows.join("templates")).unwrap();
    write(&flows.join("templates"), "tenant.yaml", TEMPLATE);
    let store = Arc::new(
        Store::open(&Location::Sqlite(dir.path().join("runs.db")))
            .await
            .unwrap(),
    );
    let twins = keyflow_twins::sandbox::Twins::start(keyflow_twins::sandbox::Options::default())
        .await
        .unwrap();
    let daemon = Arc::new(Daemon {
        store: store.clone(),
        worker: "ui-test".into(),
        catalog: RwLock::new(Arc::new(Catalog::default())),
        running: Mutex::new(HashMap::new()),
        settings: Settings {
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            reload: Duration::from_secs(1),
            max_runs: 1,
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
        twins: sandboxed.then(|| twins.snapshots()),
        streams: Arc::new(tokio::sync::Semaphore::new(crate::serve::MAX_STREAMS)),
    });
    catalog::load(&daemon, &[flows]).await;
    let mut runs = HashMap::new();
    for name in ["onboard", "shown", "fails", "data-key"] {
        runs.insert(name, run(&daemon, name, None).await);
    }
    store.flush().await.unwrap();
    twins.shutdown().await;
    Fixture {
        daemon,
        runs,
        _dir: dir,
    }
}

/// Runs the loaded flow `name` with the daemon's store and twins, as run `id` when given.
pub(super) async fn run(daemon: &Daemon, name: &str, id: Option<String>) -> RunReport {
    let plan = daemon.catalog().flows[name].plan.clone();
    let params = plan.bind_params(&IndexMap::new()).unwrap();
    let options = ExecOptions {
        sandbox: daemon.settings.sandbox.clone(),
        run_id: id,
        ..ExecOptions::default()
    };
    Executor::new(options)
        .with_store(daemon.store.clone())
        .run(plan, params, CancellationToken::new())
        .await
}

/// Serves the UI's router on a free loopback port; its address.
pub(super) async fn serve(daemon: Arc<Daemon>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let access = super::session::Access::new(None, addr).unwrap();
    let app = super::router(&daemon, Arc::new(access)).with_state(daemon);
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// `GET path` over HTTP/1.1: the status code and the body.
pub(super) async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        head.to_ascii_lowercase().contains("content-length") || code >= 300,
        "{head}"
    );
    (code, body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_show_the_recorded_runs_and_flows() {
    let fixture = fixture().await;
    let addr = serve(fixture.daemon.clone()).await;
    let shown = &fixture.runs["shown"];
    let fails = &fixture.runs["fails"];
    let data_key = &fixture.runs["data-key"];
    assert_eq!(shown.status, Status::Succeeded, "{shown:?}");
    assert_eq!(fails.status, Status::Failed);
    assert_eq!(data_key.status, Status::Succeeded, "{data_key:?}");

    // The list: every run, newest first, status in words and symbol.
    let (code, list) = get(addr, "/ui/runs").await;
    assert_eq!(code, 200, "{list}");
    let at = |id: &str| list.find(&format!("/ui/runs/{id}\"")).unwrap();
    assert!(at(&data_key.run_id) < at(&fails.run_id) && at(&fails.run_id) < at(&shown.run_id));
    assert!(
        list.contains("<span aria-hidden=\"true\">✗</span> failed"),
        "{list}"
    );
    assert!(list.contains("<span aria-hidden=\"true\">✓</span> succeeded"));
    assert!(list.contains("<nav") && list.contains("<main>"));

    // Filters and the limit.
    let (_, failed) = get(addr, "/ui/runs?status=failed").await;
    assert!(failed.contains(&fails.run_id) && !failed.contains(&shown.run_id));
    let (_, by_flow) = get(addr, "/ui/runs?flow=shown&status=").await;
    assert!(by_flow.contains(&shown.run_id) && !by_flow.contains(&fails.run_id));
    let (_, one) = get(addr, "/ui/runs?limit=1").await;
    assert!(one.contains(&data_key.run_id) && !one.contains(&shown.run_id));
    assert!(one.contains("href=\"/ui/runs?limit=2\">More runs"), "{one}");
    let (_, recent) = get(addr, "/ui/runs?since=1h&limit=1").await;
    assert!(recent.contains(&data_key.run_id), "{recent}");
    assert!(recent.contains("href=\"/ui/runs?limit=2&amp;since=1h\">More runs"));
    assert!(recent.contains(
        "name=\"since\" size=\"22\" placeholder=\"12h, 7d or 2026-12-01T00:00:00Z\" value=\"1h\""
    ));
    let (_, later) = get(addr, "/ui/runs?since=2999-01-01T00:00:00Z").await;
    assert!(!later.contains(&data_key.run_id) && later.contains("<p id=\"no-runs\">"));
    let (code, bad) = get(addr, "/ui/runs?since=yesterday").await;
    assert_eq!(code, 400);
    assert!(bad.contains("`yesterday` is neither an age"), "{bad}");
    let (code, bad) = get(addr, "/ui/runs?status=%3Cb%3E").await;
    assert_eq!(code, 400);
    assert!(bad.contains("Unknown status `&lt;b&gt;`"), "{bad}");

    // A run: header, graph, timeline, steps; the step output's markup escaped, never run.
    let (code, page) = get(addr, &format!("/ui/runs/{}", shown.run_id)).await;
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("Step graph of shown"));
    assert!(page.contains("Timeline of 5 attempts"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains(
        "<details id=\"step-each\" class=\"step\" data-step=\"each\" data-status=\"succeeded\">"
    ));
    // The DOM contract the script and the browser tests rely on: run status, graph nodes, step records.
    assert!(page.contains("<dd id=\"run-status\" data-status=\"succeeded\"><span class=\"badge"));
    assert!(page.contains(
        "<g class=\"node\" data-step=\"greet\" data-status=\"succeeded\"><a href=\"#step-greet\">"
    ));
    assert!(page.contains("<pre class=\"input\">") && page.contains("<pre class=\"output\">"));
    assert!(page.contains("<h4>Items (3)</h4>"), "{page}");
    assert!(page.contains("&quot;letter&quot;: &quot;b&quot;"));

    // A failed run: the failing step's error, the step never reached shown as such.
    let (_, page) = get(addr, &format!("/ui/runs/{}", fails.run_id)).await;
    assert!(page.contains("the sky fell"), "{page}");
    assert!(page.contains("<span aria-hidden=\"true\">✗</span> failed"));
    assert!(
        page.contains(
            "<details id=\"step-never\" class=\"step\" data-step=\"never\" data-status=\"cancelled\">"
        ),
        "{page}"
    );
    assert!(page.contains("<dd id=\"run-status\" data-status=\"failed\">"));
    assert!(page.contains("<pre class=\"error\">"), "{page}");
    // Polls are attempts of their own: one bar each, numbered.
    assert!(page.matches(">poll #").count() >= 2, "{page}");
    assert!(page.contains(">poll #2<"), "{page}");

    // A template step lists its runs; each opens on its own page, under its parent step.
    let onboard = &fixture.runs["onboard"];
    assert_eq!(onboard.status, Status::Succeeded, "{onboard:?}");
    let (_, page) = get(addr, &format!("/ui/runs/{}", onboard.run_id)).await;
    assert!(page.contains("<h4>Template runs (2)</h4>"), "{page}");
    let child = format!("/ui/runs/{}%2Feach%2F1", onboard.run_id);
    assert!(page.contains(&format!("href=\"{child}\"")), "{page}");
    assert!(page.contains(">each/name #"), "{page}");
    for path in [child, format!("/ui/runs/{}/each/1", onboard.run_id)] {
        let (code, page) = get(addr, &path).await;
        assert_eq!(code, 200, "{path}: {page}");
        assert!(page.contains("Template run of"), "{page}");
        assert!(page.contains("Step graph of tenant"), "{page}");
        assert!(page.contains("alias/globex"), "{page}");
    }

    // The data key's plaintext is a secret output: the page shows what the store holds, redacted.
    let (_, page) = get(addr, &format!("/ui/runs/{}", data_key.run_id)).await;
    assert!(
        page.contains("&quot;Plaintext&quot;: &quot;&lt;redacted&gt;&quot;"),
        "{page}"
    );
    assert!(page.contains("CiphertextBlob"));

    // Unknown runs and pages: 404 pages in the layout.
    let (code, page) = get(addr, "/ui/runs/no-such-run").await;
    assert_eq!(code, 404);
    assert!(page.contains("No run `no-such-run`") && page.contains("<nav"));
    let (code, _) = get(addr, "/ui/nothing/here").await;
    assert_eq!(code, 404);

    // Flows: served ones with their triggers' next fire times and a file not served, with where.
    let (code, flows) = get(addr, "/ui/flows").await;
    assert_eq!(code, 200, "{flows}");
    assert!(flows.contains("<section id=\"flow-shown\">"));
    assert!(
        flows.contains("<code>0 3 1 * *</code> (Europe/Paris)"),
        "{flows}"
    );
    assert_eq!(
        flows.matches(" 01:00:00Z").count() + flows.matches(" 02:00:00Z").count(),
        3
    );
    assert!(flows.contains("not fired yet"));
    assert!(flows.contains("broken.yaml:4:12</code>"), "{flows}");
    assert!(flows.contains("core.nope"));
}
