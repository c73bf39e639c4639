//! The crash test of the raw request blocks: a flow of `aws-kms.request` steps against the KMS twin of
//! `keyflow sandbox serve --state`, reached through a relay that lets the twin apply one chosen operation
//! and keeps its answer. `keyflow run` is killed while that call is out — applied, unanswered, as when a
//! process dies mid-call — then `keyflow resume`d, which settles the call by its operation's recovery
//! rule: PutKeyPolicy is reapplied (the twin ends with one key and the policy), GetKeyPolicy repeated,
//! and CreateKey, which nothing settles, is at-least-once: made again, as `plan` and `resume` say.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use serde_json::Value;

use crate::crash::keyflow;
use crate::harness::{Ran, path_str, step};
use crate::recovery::{keys, saved};
use crate::runs::runs_of;
use crate::sandbox::serve;

/// A key policy the twin accepts and that keeps the account in.
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;

/// A key, its policy put, the policy read back: one raw call of each recovery rule.
fn flow() -> String {
    let policy = serde_json::to_string(POLICY).expect("a JSON string");
    format!(
        "name: raw-resume
connections:
  aws: {{ connector: aws-kms, region: eu-west-1 }}
steps:
  - id: key
    block: aws-kms.request
    with: {{ operation: CreateKey, body: {{ Description: raw resume }} }}
  - id: policy
    block: aws-kms.request
    with:
      operation: PutKeyPolicy
      body: {{ KeyId: $.steps.key.output.KeyMetadata.KeyId, PolicyName: default, Policy: {policy} }}
  - id: read
    block: aws-kms.request
    after: policy
    with: {{ operation: GetKeyPolicy, body: {{ KeyId: $.steps.key.output.KeyMetadata.KeyId, PolicyName: default }} }}
outputs:
  policy: $.steps.read.output.Policy
"
    )
}

/// A loopback relay in front of the KMS twin: each request is passed on and its answer passed back,
/// but the answer to the first request for operation `hold` is kept — the twin has applied it, and the
/// caller waits on a silent connection. `held` says when that happened.
fn relay(upstream: &str, hold: &'static str) -> (String, Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
    let address = listener.local_addr().expect("relay address");
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let (held, on_hold) = channel();
    std::thread::spawn(move || {
        let mut holding = Some(held);
        for client in listener.incoming().flatten() {
            let upstream = upstream.clone();
            let this_one = holding.take();
            let given_back = std::thread::spawn(move || pass(client, &upstream, hold, this_one));
            // The hold is given to one connection at a time; it comes back unless it was used.
            holding = given_back.join().ok().flatten();
        }
    });
    (format!("http://{address}"), on_hold)
}

/// Relays the one request of `client` (the answer says `Connection: close`); keeps the answer when the
/// request is for `hold` and `held` is given. Gives `held` back when it was not used.
fn pass(
    mut client: TcpStream,
    upstream: &str,
    hold: &str,
    held: Option<Sender<()>>,
) -> Option<Sender<()>> {
    let mut reader = BufReader::new(client.try_clone().expect("clone the connection"));
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return held;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
            if name.eq_ignore_ascii_case("connection") {
                continue;
            }
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the request body");
    let holds = held.is_some() && head.contains(&format!("TrentService.{hold}\r\n"));
    let mut twin = TcpStream::connect(upstream).expect("reach the twin");
    twin.write_all(head.as_bytes()).expect("pass the head");
    twin.write_all(b"Connection: close\r\n\r\n")
        .expect("pass the head");
    twin.write_all(&body).expect("pass the body");
    let mut answer = Vec::new();
    twin.read_to_end(&mut answer).expect("the twin's answer");
    if holds {
        let _ = held.as_ref().map(|h| h.send(()));
        // Silent until the caller goes away.
        let _ = client.set_read_timeout(Some(Duration::from_secs(120)));
        let _ = client.read(&mut [0; 1]);
        return None;
    }
    let _ = client.write_all(&answer);
    let _ = client.shutdown(Shutdown::Both);
    held
}

/// What one crash of `hold` gave: the resumed run's report, what `resume` said on stderr, the twin's
/// saved state.
struct Resumed {
    report: Value,
    said: String,
    state: Value,
}

/// Fresh twins; the flow run through a relay that keeps `hold`'s answer, killed once the twin applied
/// it; then resumed to the end.
fn crash_on(hold: &'static str) -> Resumed {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state.json");
    let store = dir.path().join("runs.db");
    let file = dir.path().join("raw.yaml");
    std::fs::write(&file, flow()).expect("write the flow");
    let served = serve(&["--no-quotas", "--state", path_str(&state)]);
    let mut exports = served.exports.clone();
    let endpoint = exports
        .iter_mut()
        .find(|(name, _)| name == "AWS_ENDPOINT_URL_KMS")
        .expect("the KMS endpoint");
    let (relayed, held) = relay(&endpoint.1, hold);
    endpoint.1 = relayed;

    let mut child = keyflow(&exports, &store)
        .args(["run", path_str(&file), "-q", "--parallelism", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyflow");
    held.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{hold} never reached the twin"));
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");

    let listed: Ran = keyflow(&exports, &store)
        .args(["runs", "list", "--output", "json"])
        .output()
        .expect("runs list")
        .into();
    let runs = runs_of(&listed.stdout);
    assert_eq!(
        runs[0]["status"], "interrupted",
        "{hold}: {}",
        listed.stdout
    );
    let id = runs[0]["run_id"].as_str().expect("run id").to_string();
    let resumed: Ran = keyflow(&exports, &store)
        .args(["resume", &id, "--output", "json", "--parallelism", "1"])
        .output()
        .expect("resume")
        .into();
    assert_eq!(resumed.code, 0, "{hold}: {}", resumed.stderr);
    let report: Value = serde_json::from_str(&resumed.stdout).expect("report");
    assert_eq!(report["status"], "succeeded", "{hold}: {report:#}");
    served.stop();
    Resumed {
        report,
        said: resumed.stderr,
        state: saved(&state),
    }
}

/// The policy the twin holds for its only key in `eu-west-1` (and that there is one key).
fn one_key_with_policy(state: &Value) -> Value {
    let held = keys(state, "eu-west-1");
    assert_eq!(held.len(), 1, "one key: {held:?}");
    let key = &state["kms"]["regions"]["eu-west-1"]["keys"][&held[0]];
    let policy = key["policy"].as_str().unwrap_or_default();
    serde_json::from_str(policy).unwrap_or_else(|_| panic!("no policy on the key: {key:#}"))
}

#[test]
fn plan_shows_each_raw_calls_recovery_by_its_operation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("raw.yaml");
    std::fs::write(&file, flow()).expect("write the flow");
    let planned: Ran = crate::harness::keyflow()
        .args(["plan", "--output", "json", path_str(&file)])
        .output()
        .expect("plan")
        .into();
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    let plan: Value = serde_json::from_str(&planned.stdout).expect("plan");
    for (id, recovery) in [
        ("key", "at_least_once"),
        ("policy", "reapply"),
        ("read", "repeat"),
    ] {
        assert_eq!(step(&plan, id)["recovery"], recovery, "{id}: {plan:#}");
    }
    let text: Ran = crate::harness::keyflow()
        .args(["plan", path_str(&file)])
        .output()
        .expect("plan")
        .into();
    assert_eq!(
        text.stdout.matches("at-least-once").count(),
        1,
        "only CreateKey: {}",
        text.stdout
    );
}

#[test]
fn a_put_key_policy_lost_in_a_crash_is_reapplied_on_resume() {
    let resumed = crash_on("PutKeyPolicy");
    assert!(
        resumed.said.contains("1 call went out unanswered")
            && resumed.said.contains(
                "`policy` (aws-kms.request): reapply — applying it again leaves the same state"
            ),
        "{}",
        resumed.said
    );
    let report = &resumed.report;
    assert_eq!(
        step(report, "key")["reused"],
        true,
        "the key stands: {report:#}"
    );
    assert!(step(report, "policy")["reused"].is_null(), "{report:#}");
    let expected: Value = serde_json::from_str(POLICY).expect("policy");
    assert_eq!(one_key_with_policy(&resumed.state), expected);
    let read: Value = serde_json::from_str(report["outputs"]["policy"].as_str().unwrap_or("null"))
        .expect("the policy read back");
    assert_eq!(read, expected);
}

#[test]
fn a_get_key_policy_lost_in_a_crash_is_repeated_on_resume() {
    let resumed = crash_on("GetKeyPolicy");
    // A read leaves no record of going out: it is simply made again, the steps before it standing.
    assert!(
        resumed.said.contains("2 of 3 steps stand as recorded")
            && !resumed.said.contains("unanswered"),
        "{}",
        resumed.said
    );
    let report = &resumed.report;
    assert_eq!(step(report, "policy")["reused"], true, "{report:#}");
    let expected: Value = serde_json::from_str(POLICY).expect("policy");
    assert_eq!(one_key_with_policy(&resumed.state), expected);
    let read: Value = serde_json::from_str(report["outputs"]["policy"].as_str().unwrap_or("null"))
        .expect("the policy read back");
    assert_eq!(read, expected);
}

#[test]
fn a_create_key_lost_in_a_crash_is_at_least_once_and_says_so() {
    let resumed = crash_on("CreateKey");
    assert!(
        resumed.said.contains(
            "`key` (aws-kms.request): at_least_once — nothing tells whether it took effect: it is made again, and may be done twice"
        ),
        "{}",
        resumed.said
    );
    // What at-least-once means: the lost call made a key, the settling call another.
    assert_eq!(keys(&resumed.state, "eu-west-1").len(), 2);
}

/// The relay keeps exactly the answer asked for and passes the rest (checked without keyflow, so that a
/// broken relay is not mistaken for a broken resume).
#[test]
fn the_relay_passes_answers_and_keeps_the_one_held() {
    let served = serve(&["--no-quotas"]);
    let endpoint = served
        .exports
        .iter()
        .find(|(name, _)| name == "AWS_ENDPOINT_URL_KMS")
        .map(|(_, value)| value.clone())
        .expect("the KMS endpoint");
    let (relayed, held) = relay(&endpoint, "ListKeys");
    let address = relayed.trim_start_matches("http://");
    let ask = |target: &str| {
        let mut stream = TcpStream::connect(address).expect("reach the relay");
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {address}\r\nX-Amz-Target: TrentService.{target}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n{{}}"
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    // Unsigned: the twin refuses it, and the relay passes the refusal back.
    assert!(ask("DescribeKey").starts_with("HTTP/1.1 4"));
    assert_eq!(ask("ListKeys"), "", "the held answer never comes");
    assert!(held.try_recv().is_ok());
    served.stop();
}
