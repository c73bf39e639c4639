//! The messages of `keyflow-plugin/1`: JSON-RPC 2.0, one message per line.
//!
//! keyflow (the host) sends requests — `initialize`, `describe`, `call`, `shutdown` — and the `cancel`
//! notification; the plugin answers each request with a response of the same `id`, and may send `log`
//! notifications about a call in flight. The protocol's version is independent of keyflow's: a plugin
//! written for `keyflow-plugin/1` keeps working across keyflow releases that still offer it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The protocol this crate speaks.
pub const PROTOCOL: &str = "keyflow-plugin/1";

/// JSON-RPC's error code for a line that is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's error code for a message that is not a request.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC's error code for a method the plugin does not know.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC's error code for parameters the method cannot read.
pub const INVALID_PARAMS: i64 = -32602;
/// The error code of a block that failed: `data` says how ([`BlockFailure`]).
pub const BLOCK_FAILED: i64 = -32000;

/// The `jsonrpc` member: always `"2.0"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum JsonRpc {
    /// JSON-RPC 2.0.
    #[default]
    #[serde(rename = "2.0")]
    V2,
}

/// A request from keyflow to the plugin; the plugin answers with a [`Response`] of the same `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Request {
    /// `"2.0"`.
    pub jsonrpc: JsonRpc,
    /// Unique among the requests in flight; the response carries it back (calls are multiplexed).
    pub id: u64,
    /// The method and its parameters.
    #[serde(flatten)]
    pub method: Method,
}

/// The methods keyflow calls, with their parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", content = "params", rename_all = "lowercase")]
pub enum Method {
    /// The first request: agree on a protocol version. Answered with [`InitializeResult`].
    Initialize(InitializeParams),
    /// The plugin's connector and blocks. Answered with [`Description`].
    Describe(Empty),
    /// Calls a block. Answered with [`CallResult`], or an error whose `data` is a [`BlockFailure`].
    Call(CallParams),
    /// The last request: finish, answer `null`, and exit. keyflow kills a plugin that has not exited soon
    /// after.
    Shutdown(Empty),
}

/// No parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `initialize`'s parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InitializeParams {
    /// The protocol versions keyflow speaks, preferred first (`["keyflow-plugin/1"]`).
    pub protocols: Vec<String>,
    /// keyflow's own version, for the plugin's log only.
    pub keyflow: String,
}

/// `initialize`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InitializeResult {
    /// The protocol version the plugin chose, one of those offered.
    pub protocol: String,
    /// The plugin's name: the name of its record (`.keyflow/plugins/<name>.json`), in kebab-case.
    pub name: String,
    /// The plugin's own version, shown by `keyflow plugin list`.
    pub version: String,
    /// What the plugin can do beyond the required methods.
    #[serde(default)]
    pub capabilities: Capabilities,
}

/// Optional behaviour a plugin has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Capabilities {
    /// The plugin stops a call when it receives `cancel` (else keyflow only stops waiting for it).
    #[serde(default)]
    pub cancel: bool,
}

/// What a plugin connects to and the blocks it offers: `describe`'s answer, and what keyflow records
/// when the plugin is added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Description {
    /// The connector flows name in `connections: { x: { connector: <id> } }`.
    pub connector: ConnectorDescription,
    /// The blocks; every id is `<connector id>.<operation>`.
    pub blocks: Vec<BlockDescription>,
}

/// A plugin's connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectorDescription {
    /// The id flows write in `connector:` (`vault-transit`), kebab-case.
    pub id: String,
    /// A title for people ("HashiCorp Vault Transit").
    pub title: String,
    /// What it connects to and how it authenticates.
    pub description: String,
    /// The JSON Schema of a connection's settings (an object schema).
    #[serde(default = "any_object")]
    pub settings: Value,
    /// Settings that hold secrets: flows may only write them `{ env: NAME }` or `{ file: PATH }`, and
    /// their values are masked wherever they would appear.
    #[serde(default)]
    pub secret_settings: Vec<String>,
    /// A local twin of the service for `--sandbox`, if the plugin ships one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin: Option<TwinCommand>,
}

impl ConnectorDescription {
    /// A connector without settings or twin.
    pub fn new(id: &str, title: &str, description: &str) -> ConnectorDescription {
        ConnectorDescription {
            id: id.into(),
            title: title.into(),
            description: description.into(),
            settings: any_object(),
            secret_settings: Vec::new(),
            twin: None,
        }
    }
}

fn any_object() -> Value {
    serde_json::json!({ "type": "object" })
}

/// How to start a plugin's twin: a command run from the folder of the plugin's executable, which prints
/// one line — a JSON object of connection settings pointing at it (`{"address": "http://127.0.0.1:8200",
/// "token": "sandbox"}`) — and serves until keyflow stops it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TwinCommand {
    /// The program and its arguments (no shell): `["python3", "vault_twin.py"]`.
    pub command: Vec<String>,
}

/// A block, described as `schemas/blocks/<id>.json` describes a built-in block (the same document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BlockDescription {
    /// Where the descriptor is published (ignored by keyflow; the built-ins' documents carry it).
    #[serde(rename = "$id", default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// `<connector>.<operation>` in kebab-case (`vault-transit.encrypt`).
    pub id: String,
    /// The operation's name as the service's documentation gives it ("Encrypt Data").
    pub title: String,
    /// The connector whose connection the block calls: the plugin's connector.
    #[serde(default)]
    pub connector: Option<String>,
    /// What the block does.
    pub description: String,
    /// What a call does to the world; `destructive` needs `confirm: true` and `--allow-destructive`.
    pub effect: Effect,
    /// How a call whose answer was lost is settled when it is made again.
    pub recovery: Recovery,
    /// Output fields (dotted paths) that hold secrets: redacted in reports, records and logs.
    #[serde(default)]
    pub secret_outputs: Vec<String>,
    /// Inputs (top-level names under `with:`) that take secrets, such as the data an `encrypt` block
    /// encrypts: a flow may pass a secret output there without `reveal: true`; the run records them
    /// redacted. A secret given to any other input fails validation unless the step says `reveal: true`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_inputs: Vec<String>,
    /// Whether the output repeats the inputs (only keyflow's `core.set` does; plugins leave it false).
    #[serde(default)]
    pub output_mirrors_input: bool,
    /// The JSON Schema of the block's inputs (under `with:`).
    pub input: Value,
    /// The JSON Schema of the output (`$.steps.<id>.output`): references into it are checked against it,
    /// and an output that does not match it fails the step.
    pub output: Value,
    /// An output the block could give, valid against `output`: what `keyflow plan` previews with.
    pub example_output: Value,
}

/// What calling a block does to the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Reads only.
    Read,
    /// Creates something.
    Create,
    /// Changes something that exists.
    Update,
    /// Disables, deletes or destroys: needs `confirm: true` and `--allow-destructive`.
    Destructive,
}

/// How a call whose answer was lost is settled when it is made again (see `docs/plugins.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// It only reads: calling again is safe.
    Repeat,
    /// Applying it again leaves the same state.
    Reapply,
    /// Before creating, the block finds what a lost call created (by `idempotency_key`).
    FindFirst,
    /// The block reads the current state first and does nothing when it is already as asked.
    ReadFirst,
    /// Nothing makes a repeat safe.
    AtLeastOnce,
}

/// `call`'s parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CallParams {
    /// The block's id.
    pub block: String,
    /// The step's connection settings, secrets included (they travel only in this message).
    pub settings: Map<String, Value>,
    /// The step's input, resolved, valid against the block's input schema.
    pub input: Value,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// An earlier attempt may have taken effect without its answer being known: settle it first.
    #[serde(default)]
    pub recovering: bool,
    /// Names this call (run, step, item) and stays the same on every attempt: what a create writes with
    /// what it creates, so that a later attempt can find it.
    pub idempotency_key: String,
}

/// `call`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CallResult {
    /// The block's output, valid against its output schema.
    pub output: Value,
}

/// A response to a request: its `result`, or an `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Response {
    /// `"2.0"`.
    pub jsonrpc: JsonRpc,
    /// The request's id.
    pub id: u64,
    /// The result or the error.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A response's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The method's answer: [`InitializeResult`], [`Description`], [`CallResult`], or `null` for
    /// `shutdown`.
    Result(Value),
    /// The request failed.
    Error(RpcError),
}

/// A failed request. A block that failed answers `code: -32000` with a [`BlockFailure`] in `data`;
/// the JSON-RPC codes (-32700, -32600, -32601, -32602) say the plugin could not read the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RpcError {
    /// JSON-RPC's error code.
    pub code: i64,
    /// What went wrong, in the service's words where it gave some.
    pub message: String,
    /// How a block failed (with `code: -32000`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<BlockFailure>,
}

/// How a block failed: what a step's `error` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BlockFailure {
    /// The service's own error code (`InvalidKey`), or the plugin's.
    pub code: String,
    /// Whether a retry may succeed (throttling, timeouts, 5xx).
    #[serde(default)]
    pub retryable: bool,
    /// Seconds the service asked to wait before a retry (`Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<f64>,
    /// The call may have taken effect although it failed.
    #[serde(default)]
    pub in_doubt: bool,
}

/// A notification from keyflow: no answer is expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HostNotification {
    /// `"2.0"`.
    pub jsonrpc: JsonRpc,
    /// The notification.
    #[serde(flatten)]
    pub method: HostNotice,
}

/// The notifications keyflow sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", content = "params", rename_all = "lowercase")]
pub enum HostNotice {
    /// keyflow stopped waiting for a call (its step's `timeout:` passed, or the run was cancelled): stop
    /// it. An answer that comes later is ignored; a plugin that keeps the call going is killed.
    Cancel(CancelParams),
}

/// `cancel`'s parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CancelParams {
    /// The id of the `call` to stop.
    pub id: u64,
}

/// A notification from the plugin: no answer is expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PluginNotification {
    /// `"2.0"`.
    pub jsonrpc: JsonRpc,
    /// The notification.
    #[serde(flatten)]
    pub method: PluginNotice,
}

/// The notifications a plugin sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", content = "params", rename_all = "lowercase")]
pub enum PluginNotice {
    /// A message about a call in flight, shown under its step (secrets masked).
    Log(LogParams),
}

/// `log`'s parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogParams {
    /// The id of the `call` the message is about.
    pub id: u64,
    /// How much it matters.
    pub level: LogLevel,
    /// The message.
    pub message: String,
}

/// Severity of a `log` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Detail for `-v`.
    Debug,
    /// Normal progress.
    Info,
    /// Something the operator should look at.
    Warn,
    /// Something failed.
    Error,
}

/// A message a plugin writes, as keyflow reads it: a response or a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PluginMessage {
    /// The answer to a request.
    Response(Response),
    /// A notification.
    Notification(PluginNotification),
}

/// A message keyflow writes, as a plugin reads it: a request or a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum HostMessage {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(HostNotification),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_call_reads_and_writes_as_the_protocol_document_shows_it() {
        let line = r#"{"jsonrpc":"2.0","id":7,"method":"call","params":{"block":"vault-transit.encrypt","settings":{"address":"http://127.0.0.1:8200"},"input":{"key":"k"},"attempt":1,"idempotency_key":"r/s"}}"#;
        let message: HostMessage = serde_json::from_str(line).expect("a call");
        let HostMessage::Request(Request {
            id: 7,
            method: Method::Call(call),
            ..
        }) = &message
        else {
            panic!("not a call: {message:?}");
        };
        assert_eq!(call.block, "vault-transit.encrypt");
        assert!(!call.recovering);
        let back: Value = serde_json::to_value(&message).expect("json");
        assert_eq!(back["method"], "call");
        assert_eq!(back["params"]["recovering"], false);
    }

    #[test]
    fn a_cancel_is_a_notification_and_a_shutdown_a_request() {
        let cancel: HostMessage = serde_json::from_value(
            json!({"jsonrpc": "2.0", "method": "cancel", "params": {"id": 3}}),
        )
        .expect("cancel");
        assert!(matches!(
            cancel,
            HostMessage::Notification(HostNotification {
                method: HostNotice::Cancel(CancelParams { id: 3 }),
                ..
            })
        ));
        let shutdown: HostMessage = serde_json::from_value(
            json!({"jsonrpc": "2.0", "id": 9, "method": "shutdown", "params": {}}),
        )
        .expect("shutdown");
        assert!(matches!(
            shutdown,
            HostMessage::Request(Request {
                method: Method::Shutdown(_),
                ..
            })
        ));
    }

    #[test]
    fn a_response_is_a_result_or_an_error_and_a_log_is_a_notification() {
        let ok: PluginMessage =
            serde_json::from_str(r#"{"jsonrpc":"2.0","id":1,"result":{"output":{"a":1}}}"#)
                .expect("result");
        assert!(matches!(
            ok,
            PluginMessage::Response(Response {
                outcome: Outcome::Result(_),
                ..
            })
        ));
        let failed: PluginMessage = serde_json::from_str(
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32000,"message":"no such key","data":{"code":"NotFound"}}}"#,
        )
        .expect("error");
        let PluginMessage::Response(Response {
            outcome: Outcome::Error(error),
            ..
        }) = failed
        else {
            panic!("not an error");
        };
        assert_eq!(error.data.expect("data").code, "NotFound");
        let log: PluginMessage = serde_json::from_str(
            r#"{"jsonrpc":"2.0","method":"log","params":{"id":2,"level":"info","message":"hi"}}"#,
        )
        .expect("log");
        assert!(matches!(log, PluginMessage::Notification(_)));
    }

    #[test]
    fn a_message_of_another_version_is_not_read() {
        let wrong = serde_json::from_str::<PluginMessage>(r#"{"jsonrpc":"1.0","id":1,"result":1}"#);
        assert!(wrong.is_err());
    }
}
