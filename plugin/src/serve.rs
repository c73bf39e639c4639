//! The serve loop: a plugin's blocks behind `keyflow-plugin/1` on stdin/stdout.
//!
//! Each `call` runs on a thread of its own, so calls keyflow multiplexes run at the same time; answers
//! are written whole, one line each, under one lock. `cancel` sets the call's flag
//! ([`Call::cancelled`]): a long call checks it and gives up.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::protocol::{
    BLOCK_FAILED, BlockDescription, BlockFailure, CallParams, CallResult, Capabilities,
    ConnectorDescription, Description, Effect, HostMessage, HostNotice, INVALID_PARAMS,
    INVALID_REQUEST, InitializeResult, JsonRpc, LogLevel, LogParams, METHOD_NOT_FOUND, Method,
    Outcome, PARSE_ERROR, PROTOCOL, PluginNotice, PluginNotification, Recovery, Response, RpcError,
};

/// The facts about a block that do not depend on a call.
#[derive(Debug, Clone)]
pub struct BlockInfo {
    /// `<connector>.<operation>` in kebab-case.
    pub id: String,
    /// The operation's name as the service's documentation gives it.
    pub title: String,
    /// What the block does.
    pub description: String,
    /// What a call does to the world.
    pub effect: Effect,
    /// How a call whose answer was lost is settled.
    pub recovery: Recovery,
    /// Output fields (dotted paths) that hold secrets.
    pub secret_outputs: Vec<String>,
    /// Inputs (top-level names) that take secrets.
    pub secret_inputs: Vec<String>,
}

impl BlockInfo {
    /// A block without secret outputs.
    pub fn new(
        id: &str,
        title: &str,
        description: &str,
        effect: Effect,
        recovery: Recovery,
    ) -> BlockInfo {
        BlockInfo {
            id: id.into(),
            title: title.into(),
            description: description.into(),
            effect,
            recovery,
            secret_outputs: Vec::new(),
            secret_inputs: Vec::new(),
        }
    }

    /// The same block, with output fields that hold secrets.
    pub fn secret_outputs(self, fields: &[&str]) -> BlockInfo {
        BlockInfo {
            secret_outputs: fields.iter().map(|f| f.to_string()).collect(),
            ..self
        }
    }

    /// The same block, with inputs that take secrets (the data an `encrypt` block encrypts): flows may
    /// pass secret outputs there without `reveal: true`.
    pub fn secret_inputs(self, inputs: &[&str]) -> BlockInfo {
        BlockInfo {
            secret_inputs: inputs.iter().map(|i| i.to_string()).collect(),
            ..self
        }
    }
}

/// A failed call: the service's code and message, and whether a retry may succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The service's error code, or the plugin's.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// Whether a retry may succeed.
    pub retryable: bool,
    /// Seconds to wait before a retry.
    pub retry_after: Option<f64>,
}

impl Failure {
    /// A failure that retrying will not fix.
    pub fn fatal(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            code: code.into(),
            message: message.into(),
            retryable: false,
            retry_after: None,
        }
    }

    /// A failure that may pass on a retry.
    pub fn retryable(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            retryable: true,
            ..Failure::fatal(code, message)
        }
    }
}

/// One call as a block sees it: the connection's settings, the attempt, a way to log, cancellation.
pub struct Call {
    id: u64,
    /// The step's connection settings, secrets included.
    pub settings: Map<String, Value>,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// An earlier attempt may have taken effect: settle it first.
    pub recovering: bool,
    /// The same on every attempt of this call (see [`CallParams::idempotency_key`]).
    pub idempotency_key: String,
    cancelled: Arc<AtomicBool>,
    out: Output,
}

impl Call {
    /// Whether keyflow stopped waiting for this call: a long call should give up.
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// A message shown under the step.
    pub fn log(&self, level: LogLevel, message: impl Into<String>) {
        self.out.write(&PluginNotification {
            jsonrpc: JsonRpc::V2,
            method: PluginNotice::Log(LogParams {
                id: self.id,
                level,
                message: message.into(),
            }),
        });
    }

    /// A connection setting as a string, or a failure naming it.
    pub fn setting(&self, name: &str) -> Result<&str, Failure> {
        self.settings
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Failure::fatal(
                    "InvalidSettings",
                    format!("the connection has no `{name}` setting"),
                )
            })
    }
}

/// A block of a Rust plugin: typed input and output, like a built-in keyflow block.
pub trait Block: Send + Sync + 'static {
    /// The inputs, as written under `with:`.
    type Input: DeserializeOwned + JsonSchema;
    /// The output.
    type Output: Serialize + JsonSchema;

    /// The block's static facts.
    fn info(&self) -> BlockInfo;

    /// A realistic output, valid against the output's schema.
    fn example_output(&self) -> Self::Output;

    /// Calls the block.
    fn call(&self, call: &Call, input: Self::Input) -> Result<Self::Output, Failure>;
}

trait ErasedBlock: Send + Sync {
    fn describe(&self, connector: &str) -> BlockDescription;
    fn call(&self, call: &Call, input: Value) -> Result<Value, Failure>;
}

impl<B: Block> ErasedBlock for B {
    fn describe(&self, connector: &str) -> BlockDescription {
        let info = self.info();
        BlockDescription {
            schema_id: None,
            id: info.id,
            title: info.title,
            connector: Some(connector.to_string()),
            description: info.description,
            effect: info.effect,
            recovery: info.recovery,
            secret_outputs: info.secret_outputs,
            secret_inputs: info.secret_inputs,
            output_mirrors_input: false,
            input: schema_of::<B::Input>(SchemaSettings::draft2020_12().for_deserialize()),
            output: schema_of::<B::Output>(SchemaSettings::draft2020_12().for_serialize()),
            example_output: serde_json::to_value(self.example_output()).unwrap_or(Value::Null),
        }
    }

    fn call(&self, call: &Call, input: Value) -> Result<Value, Failure> {
        let input: B::Input = serde_json::from_value(input)
            .map_err(|e| Failure::fatal("InvalidInput", format!("input: {e}")))?;
        let output = Block::call(self, call, input)?;
        serde_json::to_value(output)
            .map_err(|e| Failure::fatal("InvalidOutput", format!("the output is not JSON: {e}")))
    }
}

fn schema_of<T: JsonSchema>(settings: SchemaSettings) -> Value {
    settings
        .with(|s| s.inline_subschemas = true)
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// A plugin: its name, version, connector and blocks.
pub struct Plugin {
    name: String,
    version: String,
    connector: ConnectorDescription,
    blocks: Vec<Arc<dyn ErasedBlock>>,
}

impl Plugin {
    /// A plugin without blocks yet.
    pub fn new(name: &str, version: &str, connector: ConnectorDescription) -> Plugin {
        Plugin {
            name: name.into(),
            version: version.into(),
            connector,
            blocks: Vec::new(),
        }
    }

    /// Adds a block.
    pub fn block<B: Block>(mut self, block: B) -> Plugin {
        self.blocks.push(Arc::new(block));
        self
    }

    /// What `describe` answers.
    pub fn description(&self) -> Description {
        Description {
            connector: self.connector.clone(),
            blocks: self
                .blocks
                .iter()
                .map(|b| b.describe(&self.connector.id))
                .collect(),
        }
    }

    /// Serves keyflow on stdin and stdout until `shutdown` or the end of stdin.
    pub fn serve(self) -> std::io::Result<()> {
        let stdout: Box<dyn Write + Send> = Box::new(std::io::stdout());
        self.serve_on(std::io::stdin().lock(), stdout)
    }

    /// Serves keyflow on `input` and `output` until `shutdown` or the end of `input`.
    pub fn serve_on<R: BufRead>(
        self,
        input: R,
        output: Box<dyn Write + Send>,
    ) -> std::io::Result<()> {
        let out = Output(Arc::new(Mutex::new(output)));
        let blocks: HashMap<String, Arc<dyn ErasedBlock>> = self
            .blocks
            .iter()
            .map(|b| (b.describe(&self.connector.id).id, b.clone()))
            .collect();
        let in_flight: Arc<Mutex<HashMap<u64, Arc<AtomicBool>>>> = Arc::default();
        let mut calls = Vec::new();
        for line in input.lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let message: HostMessage = match serde_json::from_str(&line) {
                Ok(message) => message,
                Err(e) => {
                    let code = if serde_json::from_str::<Value>(&line).is_ok() {
                        INVALID_REQUEST
                    } else {
                        PARSE_ERROR
                    };
                    // Without an id no response can be matched; say it on the log.
                    eprintln!("{}: cannot read a message ({code}): {e}", self.name);
                    continue;
                }
            };
            let request = match message {
                HostMessage::Notification(note) => {
                    let HostNotice::Cancel(cancel) = note.method;
                    if let Some(flag) = lock(&in_flight).get(&cancel.id) {
                        flag.store(true, Ordering::Relaxed);
                    }
                    continue;
                }
                HostMessage::Request(request) => request,
            };
            let id = request.id;
            match request.method {
                Method::Initialize(params) => {
                    let outcome = if params.protocols.iter().any(|p| p == PROTOCOL) {
                        result(&InitializeResult {
                            protocol: PROTOCOL.into(),
                            name: self.name.clone(),
                            version: self.version.clone(),
                            capabilities: Capabilities { cancel: true },
                        })
                    } else {
                        Outcome::Error(RpcError {
                            code: INVALID_PARAMS,
                            message: format!(
                                "this plugin speaks {PROTOCOL} only; offered: {}",
                                params.protocols.join(", ")
                            ),
                            data: None,
                        })
                    };
                    out.respond(id, outcome);
                }
                Method::Describe(_) => out.respond(id, result(&self.description())),
                Method::Call(params) => {
                    let Some(block) = blocks.get(&params.block).cloned() else {
                        out.respond(
                            id,
                            Outcome::Error(RpcError {
                                code: METHOD_NOT_FOUND,
                                message: format!("no block `{}` in this plugin", params.block),
                                data: None,
                            }),
                        );
                        continue;
                    };
                    let flag = Arc::new(AtomicBool::new(false));
                    lock(&in_flight).insert(id, flag.clone());
                    let out = out.clone();
                    let in_flight = in_flight.clone();
                    calls.push(std::thread::spawn(move || {
                        let outcome = run(block.as_ref(), id, params, flag, out.clone());
                        lock(&in_flight).remove(&id);
                        out.respond(id, outcome);
                    }));
                    calls.retain(|c| !c.is_finished());
                }
                Method::Shutdown(_) => {
                    for call in calls.drain(..) {
                        let _ = call.join();
                    }
                    out.respond(id, Outcome::Result(Value::Null));
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

fn run(
    block: &dyn ErasedBlock,
    id: u64,
    params: CallParams,
    cancelled: Arc<AtomicBool>,
    out: Output,
) -> Outcome {
    let call = Call {
        id,
        settings: params.settings,
        attempt: params.attempt,
        recovering: params.recovering,
        idempotency_key: params.idempotency_key,
        cancelled,
        out,
    };
    match block.call(&call, params.input) {
        Ok(output) => result(&CallResult { output }),
        Err(failure) => Outcome::Error(RpcError {
            code: BLOCK_FAILED,
            message: failure.message,
            data: Some(BlockFailure {
                code: failure.code,
                retryable: failure.retryable,
                retry_after: failure.retry_after,
                in_doubt: false,
            }),
        }),
    }
}

fn result<T: Serialize>(value: &T) -> Outcome {
    Outcome::Result(serde_json::to_value(value).unwrap_or(Value::Null))
}

/// Where messages go: one line each, whole, under one lock.
#[derive(Clone)]
struct Output(Arc<Mutex<Box<dyn Write + Send>>>);

impl Output {
    fn respond(&self, id: u64, outcome: Outcome) {
        self.write(&Response {
            jsonrpc: JsonRpc::V2,
            id,
            outcome,
        });
    }

    fn write<T: Serialize>(&self, message: &T) {
        let Ok(mut line) = serde_json::to_vec(message) else {
            return;
        };
        line.push(b'\n');
        let mut out = lock(&self.0);
        // keyflow gone (a closed pipe): nothing is left to tell.
        let _ = out.write_all(&line).and_then(|()| out.flush());
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn serve(lines: &[Value]) -> Vec<Value> {
        let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let written = Shared::default();
        Plugin::new("m", "1.0.0", ConnectorDescription::new("m", "M", "Math."))
            .block(Double)
            .serve_on(input.as_bytes(), Box::new(written.clone()))
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
}
