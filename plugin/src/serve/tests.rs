//! The serve loop against its input and output: answers by id, calls at the same time, `cancel` during
//! a call, `shutdown` after every call, a chain of calls on two threads.

use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

use super::*;
use crate::block::{Block, BlockInfo, Call, Failure};
use crate::protocol::{Effect, LogLevel, Recovery};

#[derive(serde::Deserialize, JsonSchema)]
struct In {
    n: i64,
}
#[derive(Serialize, JsonSchema)]
struct Out {
    doubled: i64,
}
struct Double;
impl Block for Double {
    type Input = In;
    type Output = Out;
    fn info(&self) -> BlockInfo {
        BlockInfo::new(
            "m.double",
            "Double",
            "Doubles.",
            Effect::Read,
            Recovery::Repeat,
        )
    }
    fn example_output(&self) -> Out {
        Out { doubled: 4 }
    }
    fn call(&self, call: &Call, input: In) -> Result<Out, Failure> {
        call.log(LogLevel::Info, "doubling");
        if input.n < 0 {
            return Err(Failure::fatal("Negative", "n is negative"));
        }
        Ok(Out {
            doubled: input.n * 2,
        })
    }
}

#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);
impl Write for Written {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn serve(lines: &[Value]) -> Vec<Value> {
    serve_with(
        Plugin::new("m", "1.0.0", ConnectorDescription::new("m", "M", "Math.")).block(Double),
        lines,
    )
}

fn serve_with(plugin: Plugin, lines: &[Value]) -> Vec<Value> {
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let written = Written::default();
    plugin
        .serve_on(
            std::io::Cursor::new(input.into_bytes()),
            Box::new(written.clone()),
        )
        .expect("serve");
    let text = String::from_utf8(lock(&written.0).clone()).expect("utf-8");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON message a line"))
        .collect()
}

#[test]
fn initialize_describe_call_and_shutdown_answer_by_id() {
    let answers = serve(&[
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocols": [PROTOCOL], "keyflow": "0"}}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "describe", "params": {}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "call", "params": {"block": "m.double", "settings": {}, "input": {"n": 21}, "attempt": 1, "idempotency_key": "r/s"}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "call", "params": {"block": "m.double", "settings": {}, "input": {"n": -1}, "attempt": 1, "idempotency_key": "r/t"}}),
        json!({"jsonrpc": "2.0", "id": 5, "method": "shutdown", "params": {}}),
    ]);
    let by_id = |id: u64| {
        answers
            .iter()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("no answer {id} in {answers:?}"))
    };
    assert_eq!(by_id(1)["result"]["protocol"], PROTOCOL);
    let block = &by_id(2)["result"]["blocks"][0];
    assert_eq!(block["id"], "m.double");
    assert_eq!(block["connector"], "m");
    assert_eq!(block["output"]["properties"]["doubled"]["type"], "integer");
    assert_eq!(by_id(3)["result"]["output"], json!({"doubled": 42}));
    assert_eq!(by_id(4)["error"]["data"]["code"], "Negative");
    assert_eq!(by_id(4)["error"]["code"], BLOCK_FAILED);
    assert!(by_id(5)["result"].is_null());
    assert!(
        answers
            .iter()
            .any(|a| a["method"] == "log" && a["params"]["message"] == "doubling"),
        "a call's log is a notification: {answers:?}"
    );
}

#[test]
fn an_unknown_block_and_an_unoffered_protocol_are_errors() {
    let answers = serve(&[
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocols": ["keyflow-plugin/9"], "keyflow": "0"}}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "call", "params": {"block": "m.nope", "settings": {}, "input": {}, "attempt": 1, "idempotency_key": "k"}}),
    ]);
    assert_eq!(answers[0]["error"]["code"], INVALID_PARAMS);
    assert_eq!(answers[1]["error"]["code"], METHOD_NOT_FOUND);
}

/// Waits, up to a few seconds, until `count` calls are in it at once.
struct Meet {
    inside: Arc<AtomicUsize>,
    count: usize,
}
impl Block for Meet {
    type Input = serde_json::Map<String, Value>;
    type Output = bool;
    fn info(&self) -> BlockInfo {
        BlockInfo::new(
            "m.meet",
            "Meet",
            "Waits for the others.",
            Effect::Read,
            Recovery::Repeat,
        )
    }
    fn example_output(&self) -> bool {
        true
    }
    fn call(&self, call: &Call, _: Self::Input) -> Result<bool, Failure> {
        self.inside.fetch_add(1, Ordering::SeqCst);
        let start = Instant::now();
        while self.inside.load(Ordering::SeqCst) < self.count {
            if call.cancelled() {
                return Err(Failure::fatal("Cancelled", "cancelled"));
            }
            if start.elapsed() > Duration::from_secs(5) {
                return Err(Failure::fatal("Alone", "the other calls never came"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(true)
    }
}

fn call(id: u64, block: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "call", "params": {"block": block, "settings": {}, "input": {}, "attempt": 1, "idempotency_key": format!("r/{id}")}})
}

#[test]
fn calls_run_at_the_same_time_and_shutdown_waits_for_them() {
    let meet = Meet {
        inside: Arc::default(),
        count: 3,
    };
    let plugin =
        Plugin::new("m", "1.0.0", ConnectorDescription::new("m", "M", "Math.")).block(meet);
    let answers = serve_with(
        plugin,
        &[
            call(1, "m.meet"),
            call(2, "m.meet"),
            call(3, "m.meet"),
            json!({"jsonrpc": "2.0", "id": 4, "method": "shutdown", "params": {}}),
        ],
    );
    for id in 1..=3 {
        let answer = answers.iter().find(|a| a["id"] == id);
        assert_eq!(
            answer.map(|a| a["result"]["output"].clone()),
            Some(json!(true)),
            "{answers:?}"
        );
    }
    assert_eq!(
        answers.last().map(|a| a["id"].clone()),
        Some(json!(4)),
        "shutdown is answered last"
    );
}

#[test]
fn a_cancel_read_while_a_call_runs_reaches_it() {
    let meet = Meet {
        inside: Arc::default(),
        count: 2,
    };
    let plugin =
        Plugin::new("m", "1.0.0", ConnectorDescription::new("m", "M", "Math.")).block(meet);
    let answers = serve_with(
        plugin,
        &[
            call(1, "m.meet"),
            json!({"jsonrpc": "2.0", "method": "cancel", "params": {"id": 1}}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": {}}),
        ],
    );
    assert_eq!(
        answers[0]["error"]["data"]["code"], "Cancelled",
        "{answers:?}"
    );
}

#[test]
fn a_chain_of_calls_runs_on_two_threads_taking_turns() {
    let threads: Arc<Mutex<std::collections::HashSet<std::thread::ThreadId>>> = Arc::default();
    struct Where(Arc<Mutex<std::collections::HashSet<std::thread::ThreadId>>>);
    impl Block for Where {
        type Input = serde_json::Map<String, Value>;
        type Output = bool;
        fn info(&self) -> BlockInfo {
            BlockInfo::new(
                "m.where",
                "Where",
                "Notes its thread.",
                Effect::Read,
                Recovery::Repeat,
            )
        }
        fn example_output(&self) -> bool {
            true
        }
        fn call(&self, _: &Call, _: Self::Input) -> Result<bool, Failure> {
            lock(&self.0).insert(std::thread::current().id());
            Ok(true)
        }
    }
    let plugin = Plugin::new("m", "1.0.0", ConnectorDescription::new("m", "M", "Math."))
        .block(Where(threads.clone()));
    let (input, mut to_plugin) = std::io::pipe().expect("a pipe");
    let (from_plugin, output) = std::io::pipe().expect("a pipe");
    let served = std::thread::spawn(move || {
        plugin.serve_on(std::io::BufReader::new(input), Box::new(output))
    });
    let mut answers = std::io::BufReader::new(from_plugin).lines();
    // As keyflow sends a chain: each call once the one before is answered.
    for id in 1..=50 {
        writeln!(to_plugin, "{}", call(id, "m.where")).expect("send");
        let answer: Value =
            serde_json::from_str(&answers.next().expect("an answer").expect("a line"))
                .expect("JSON");
        assert_eq!(answer["result"]["output"], true, "{answer}");
    }
    writeln!(
        to_plugin,
        "{}",
        json!({"jsonrpc": "2.0", "id": 51, "method": "shutdown", "params": {}})
    )
    .expect("send");
    let last: Value =
        serde_json::from_str(&answers.next().expect("an answer").expect("a line")).expect("JSON");
    assert_eq!(last["id"], 51);
    served.join().expect("the loop").expect("served");
    // One runs a call while the other waits for the next: no thread per call, no third thread. (Counted
    // first: the message locking the set again while the assertion holds it would hang, not fail.)
    let used = lock(&threads).len();
    assert_eq!(used, 2, "50 chained calls ran on {used} threads");
}
