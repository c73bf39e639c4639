//! The published schemas of `keyflow-plugin/1` and of a plugin's record against the real thing: every
//! line of a conversation with the Rust example plugin, the committed Vault Transit record, and
//! `keyflow plugin list --output json`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use keyflow_plugin::protocol::{
    CallParams, CancelParams, Empty, HostMessage, HostNotice, HostNotification, InitializeParams,
    JsonRpc, Method, Request,
};
use serde_json::{Value, json};

use super::{in_dir, json_store, misbehaving_project};
use crate::harness::root;
use crate::schemas::assert_matches;

fn request(id: u64, method: Method) -> HostMessage {
    HostMessage::Request(Request {
        jsonrpc: JsonRpc::V2,
        id,
        method,
    })
}

fn call(id: u64, block: &str, store: &str, input: Value) -> HostMessage {
    let settings = json!({ "path": store });
    request(
        id,
        Method::Call(CallParams {
            block: block.into(),
            settings: settings.as_object().cloned().unwrap_or_default(),
            input,
            attempt: 1,
            recovering: false,
            idempotency_key: format!("run-1/step-{id}"),
        }),
    )
}

#[test]
fn every_line_of_a_conversation_matches_the_published_schemas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store.json");
    let store = store.to_str().expect("utf-8");
    let mut plugin = Command::new(json_store())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the plugin");
    let sent = [
        request(
            1,
            Method::Initialize(InitializeParams {
                protocols: vec!["keyflow-plugin/1".into()],
                keyflow: "test".into(),
            }),
        ),
        request(2, Method::Describe(Empty {})),
        call(
            3,
            "json-store.put",
            store,
            json!({ "key": "k", "value": [1] }),
        ),
        call(4, "json-store.get", store, json!({ "key": "nothing" })),
        HostMessage::Notification(HostNotification {
            jsonrpc: JsonRpc::V2,
            method: HostNotice::Cancel(CancelParams { id: 4 }),
        }),
        request(5, Method::Shutdown(Empty {})),
    ];
    let mut stdin = plugin.stdin.take().expect("stdin");
    for message in &sent {
        let line = serde_json::to_value(message).expect("serialize");
        assert_matches("plugin/host-message.schema.json", &line);
        writeln!(stdin, "{line}").expect("write");
    }
    drop(stdin);
    let mut answers = std::collections::BTreeMap::new();
    for line in BufReader::new(plugin.stdout.take().expect("stdout")).lines() {
        let message: Value = serde_json::from_str(&line.expect("read")).expect("a JSON line");
        assert_matches("plugin/plugin-message.schema.json", &message);
        if let Some(id) = message["id"].as_u64() {
            answers.insert(id, message);
        }
    }
    assert!(plugin.wait().expect("wait").success());
    assert_matches(
        "plugin/initialize-result.schema.json",
        &answers[&1]["result"],
    );
    assert_eq!(answers[&1]["result"]["protocol"], "keyflow-plugin/1");
    assert_matches("plugin/describe-result.schema.json", &answers[&2]["result"]);
    assert_matches("plugin/call-result.schema.json", &answers[&3]["result"]);
    assert_eq!(answers[&3]["result"]["output"]["value"], json!([1]));
    assert_eq!(answers[&4]["error"]["code"], -32000);
    assert_eq!(answers[&4]["error"]["data"]["code"], "NotFound");
    assert_eq!(answers[&5]["result"], Value::Null);
}

#[test]
fn records_and_the_plugin_list_match_their_schemas() {
    let text = std::fs::read_to_string(
        root().join("examples/plugins/vault-transit/.keyflow/plugins/vault-transit.json"),
    )
    .expect("the committed record");
    assert_matches(
        "plugin-record.schema.json",
        &serde_json::from_str(&text).expect("JSON"),
    );
    let project = misbehaving_project();
    let record = std::fs::read_to_string(project.path().join(".keyflow/plugins/misbehaving.json"))
        .expect("the written record");
    assert_matches(
        "plugin-record.schema.json",
        &serde_json::from_str(&record).expect("JSON"),
    );
    let listed = in_dir(project.path(), &["plugin", "list", "--output", "json"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_matches(
        "plugins.schema.json",
        &serde_json::from_str(&listed.stdout).expect("JSON"),
    );
}
