//! The web UI of the real `keyflow serve --sandbox`: a run asked for through the API is followed live on
//! its page's event stream to its end, and the sandbox page then lists the key and alias the run made in
//! the twins; every page carries the Content-Security-Policy and links the sandbox page.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::path_str;
use crate::serve::{Daemon, write};

const KEYS: &str = "name: keys\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n  - id: key\n    block: aws-kms.create-key\n    with: { description: made live }\n  - id: wait\n    block: core.sleep\n    after: key\n    with: { duration: 300ms }\n  - id: alias\n    block: aws-kms.create-alias\n    after: wait\n    with: { alias_name: alias/made-live, target_key_id: $.steps.key.output.KeyMetadata.KeyId }\n";

#[test]
fn a_sandbox_daemon_follows_a_run_live_and_shows_what_it_made() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("flows");
    std::fs::create_dir(&folder).expect("flows folder");
    write(&folder, "keys.yaml", KEYS);
    let store = dir.path().join("runs.db");
    let mut daemon = Daemon::start(&folder, path_str(&store), &["--sandbox"]);
    daemon.wait_for("the API's address", |l| l.contains("API at http://"));
    let line = daemon.lines(|l| l.contains("API at http://")).remove(0);
    let base = line
        .split("API at ")
        .nth(1)
        .and_then(|a| a.split([';', ' ']).next())
        .expect("an address")
        .to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::new();
    let get = |path: &str| {
        runtime.block_on(async {
            let response = client
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect("an answer");
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.text().await.expect("a body"))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while get("/readyz").0 != 200 {
        assert!(Instant::now() < deadline, "{}", daemon.log());
        std::thread::sleep(Duration::from_millis(50));
    }

    let started: Value = runtime.block_on(async {
        let response = client
            .post(format!("{base}/api/v1/flows/keys/runs"))
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status().as_u16(), 202);
        response.json().await.expect("json")
    });
    let id = started["run_id"].as_str().expect("a run id").to_string();
    // The run's page exists once the daemon has started it.
    while get(&format!("/ui/runs/{id}")).0 != 200 {
        assert!(Instant::now() < deadline, "{}", daemon.log());
        std::thread::sleep(Duration::from_millis(20));
    }

    // Its stream, read to its end: the last event is the run's end, with every step.
    let text = runtime.block_on(async {
        let mut response = client
            .get(format!("{base}/ui/runs/{id}/events"))
            .send()
            .await
            .expect("a stream");
        assert_eq!(response.status().as_u16(), 200);
        let mut text = String::new();
        while let Some(chunk) = tokio::time::timeout(Duration::from_secs(60), response.chunk())
            .await
            .expect("an event or the stream's end")
            .expect("a chunk")
        {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text
    });
    let last: Value = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .next_back()
        .map(|data| serde_json::from_str(data).expect("json"))
        .expect("at least one event");
    assert_eq!(last["ended"], true, "{text}");
    assert_eq!(last["status"], "succeeded", "{text}");
    assert_eq!(last["steps"]["alias"], "succeeded", "{text}");

    let (code, headers, page) = get("/ui/sandbox");
    assert_eq!(code, 200, "{page}");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap_or_default()
            .contains("script-src 'self'")
    );
    assert!(
        page.contains("<a href=\"/ui/sandbox\">Sandbox</a>"),
        "{page}"
    );
    assert!(
        page.contains("<td><code>alias/made-live</code></td>"),
        "{page}"
    );
    assert!(page.contains("made live"), "{page}");
    assert_eq!(daemon.terminate(), Some(0), "{}", daemon.log());
}
