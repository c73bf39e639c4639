//! What a plugin author writes: a typed [`Block`] with its [`BlockInfo`], the [`Call`] it is given, the
//! [`Failure`] it answers — and the one erased form the serve loop runs every block through.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::protocol::{
    BlockDescription, Effect, JsonRpc, LogLevel, LogParams, Outcome, PluginNotice,
    PluginNotification, Recovery, Response,
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
    pub(crate) id: u64,
    /// The step's connection settings, secrets included.
    pub settings: Map<String, Value>,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// An earlier attempt may have taken effect: settle it first.
    pub recovering: bool,
    /// The same on every attempt of this call (see [`CallParams::idempotency_key`]).
    pub idempotency_key: String,
    pub(crate) cancelled: Arc<AtomicBool>,
    pub(crate) out: Output,
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

pub(crate) trait ErasedBlock: Send + Sync {
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

/// Where messages go: one line each, whole, under one lock.
#[derive(Clone)]
pub(crate) struct Output(pub(crate) Arc<Mutex<Box<dyn Write + Send>>>);

impl Output {
    pub(crate) fn respond(&self, id: u64, outcome: Outcome) {
        self.write(&Response {
            jsonrpc: JsonRpc::V2,
            id,
            outcome,
        });
    }

    pub(crate) fn write<T: Serialize>(&self, message: &T) {
        let Ok(mut line) = serde_json::to_vec(message) else {
            return;
        };
        line.push(b'\n');
        let mut out = lock(&self.0);
        // keyflow gone (a closed pipe): nothing is left to tell.
        let _ = out.write_all(&line).and_then(|()| out.flush());
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
