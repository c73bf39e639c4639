//! The serve loop: a plugin's blocks behind `keyflow-plugin/1` on stdin/stdout.
//!
//! Calls keyflow multiplexes run at the same time, each on a thread of its own, and answers are written
//! whole, one line each, under one lock. The threads take turns at reading the input (leader and
//! followers): the thread that reads a call runs it itself, right away, once another thread has taken
//! over the reading — so a chain of calls costs no thread start and no hand-over per call, while a
//! `cancel` is still read during a long call and sets its flag ([`Call::cancelled`]).

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use serde::Serialize;
use serde_json::Value;

use crate::block::{Block, Call, ErasedBlock, Output, lock};
use crate::protocol::{
    BLOCK_FAILED, BlockFailure, CallParams, CallResult, Capabilities, ConnectorDescription,
    Description, HostMessage, HostNotice, INVALID_PARAMS, INVALID_REQUEST, InitializeResult,
    METHOD_NOT_FOUND, Method, Outcome, PARSE_ERROR, PROTOCOL, Request, RpcError,
};

/// How many threads may wait for the input at once; a thread that ends a call when that many already
/// wait ends too.
const WAITING: usize = 8;

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
        self.serve_on(std::io::BufReader::new(std::io::stdin()), stdout)
    }

    /// Serves keyflow on `input` and `output` until `shutdown` or the end of `input`. Calls still
    /// running at the end of `input` are left to finish on their own.
    pub fn serve_on<R: BufRead + Send + 'static>(
        self,
        input: R,
        output: Box<dyn Write + Send>,
    ) -> std::io::Result<()> {
        let blocks = self
            .blocks
            .iter()
            .map(|b| (b.describe(&self.connector.id).id, b.clone()))
            .collect();
        let description = self.description();
        let loop_ = Arc::new(Loop {
            name: self.name,
            version: self.version,
            description,
            blocks,
            input: Mutex::new(Box::new(input)),
            out: Output(Arc::new(Mutex::new(output))),
            in_flight: Mutex::default(),
            waiting: Mutex::new(1),
            running: Counter::default(),
            stopped: AtomicBool::new(false),
            ended: Mutex::default(),
            end: Condvar::new(),
        });
        Loop::follow(loop_.clone());
        let mut ended = lock(&loop_.ended);
        loop {
            if let Some(result) = ended.take() {
                return result;
            }
            ended = loop_.end.wait(ended).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// What the threads of one serve loop share.
struct Loop {
    name: String,
    version: String,
    description: Description,
    blocks: HashMap<String, Arc<dyn ErasedBlock>>,
    /// Read by one thread at a time: the leader.
    input: Mutex<Box<dyn BufRead + Send>>,
    out: Output,
    /// The cancel flag of each call running, by id.
    in_flight: Mutex<HashMap<u64, Arc<AtomicBool>>>,
    /// Threads reading the input or waiting to.
    waiting: Mutex<usize>,
    /// Calls running (`shutdown` waits for them).
    running: Counter,
    /// Set at `shutdown` and at the end of the input: nothing more is read.
    stopped: AtomicBool,
    /// How the loop ended, once it has (taken by `serve_on`).
    ended: Mutex<Option<std::io::Result<()>>>,
    end: Condvar,
}

impl Loop {
    /// Starts a thread that takes its turn at the input; it is counted in `waiting` already.
    fn follow(this: Arc<Loop>) {
        let started = std::thread::Builder::new()
            .name("keyflow-plugin".into())
            .spawn({
                let this = this.clone();
                move || this.lead()
            });
        if let Err(e) = started {
            *lock(&this.waiting) -= 1;
            this.finish(Err(e));
        }
    }

    /// Reads and handles messages until the loop ends, or until enough other threads wait.
    fn lead(self: Arc<Loop>) {
        loop {
            // Read and parsed under the input's lock: once `shutdown` is read, no thread reads on (to
            // the end of the input, which would end the loop before the calls `shutdown` waits for).
            let message = {
                let mut input = lock(&self.input);
                if self.stopped.load(Ordering::SeqCst) {
                    return;
                }
                let mut line = String::new();
                match input.read_line(&mut line) {
                    Ok(0) => return self.finish(Ok(())),
                    Err(e) => return self.finish(Err(e)),
                    Ok(_) if line.trim().is_empty() => continue,
                    Ok(_) => {}
                }
                let message = self.parse(&line);
                if let Some(HostMessage::Request(Request {
                    method: Method::Shutdown(_),
                    ..
                })) = &message
                {
                    self.stopped.store(true, Ordering::SeqCst);
                }
                message
            };
            if let Some(message) = message
                && !self.handle(message)
            {
                return;
            }
        }
    }

    /// A line as a message; `None` (said on the log) when it is not one.
    fn parse(&self, line: &str) -> Option<HostMessage> {
        match serde_json::from_str(line) {
            Ok(message) => Some(message),
            Err(e) => {
                let code = if serde_json::from_str::<Value>(line).is_ok() {
                    INVALID_REQUEST
                } else {
                    PARSE_ERROR
                };
                // Without an id no response can be matched; say it on the log.
                eprintln!("{}: cannot read a message ({code}): {e}", self.name);
                None
            }
        }
    }

    /// Handles one message; `false` when this thread is to end (the loop ended, or it ran a call and
    /// enough threads wait for the input).
    fn handle(self: &Arc<Loop>, message: HostMessage) -> bool {
        let request = match message {
            HostMessage::Notification(note) => {
                let HostNotice::Cancel(cancel) = note.method;
                if let Some(flag) = lock(&self.in_flight).get(&cancel.id) {
                    flag.store(true, Ordering::Relaxed);
                }
                return true;
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
                self.out.respond(id, outcome);
            }
            Method::Describe(_) => self.out.respond(id, result(&self.description)),
            Method::Call(params) => return self.call(id, params),
            Method::Shutdown(_) => {
                // Nothing is read after `shutdown` (see `lead`): the threads waiting for the input end.
                self.running.wait_zero();
                self.out.respond(id, Outcome::Result(Value::Null));
                self.finish(Ok(()));
                return false;
            }
        }
        true
    }

    /// Runs a call on this thread, once another thread reads the input meanwhile; `false` when this
    /// thread is not needed after it.
    fn call(self: &Arc<Loop>, id: u64, params: CallParams) -> bool {
        let Some(block) = self.blocks.get(&params.block).cloned() else {
            self.out.respond(
                id,
                Outcome::Error(RpcError {
                    code: METHOD_NOT_FOUND,
                    message: format!("no block `{}` in this plugin", params.block),
                    data: None,
                }),
            );
            return true;
        };
        let flag = Arc::new(AtomicBool::new(false));
        lock(&self.in_flight).insert(id, flag.clone());
        self.running.up();
        let alone = {
            let mut waiting = lock(&self.waiting);
            *waiting -= 1;
            let alone = *waiting == 0;
            if alone {
                *waiting += 1;
            }
            alone
        };
        if alone {
            Loop::follow(self.clone());
        }
        let outcome = run(block.as_ref(), id, params, flag, self.out.clone());
        lock(&self.in_flight).remove(&id);
        // Back among the readers before the answer goes out, so that the call keyflow sends on this
        // answer finds a reader without starting another thread.
        let stays = {
            let mut waiting = lock(&self.waiting);
            let stays = *waiting < WAITING;
            if stays {
                *waiting += 1;
            }
            stays
        };
        self.out.respond(id, outcome);
        self.running.down();
        stays
    }

    /// Ends the loop with `result` (the first end wins) and wakes `serve_on`.
    fn finish(&self, result: std::io::Result<()>) {
        self.stopped.store(true, Ordering::SeqCst);
        let mut ended = lock(&self.ended);
        if ended.is_none() {
            *ended = Some(result);
        }
        self.end.notify_all();
    }
}

/// How many calls are running, and a way to wait until none is.
#[derive(Default)]
struct Counter {
    count: Mutex<usize>,
    zero: Condvar,
}

impl Counter {
    fn up(&self) {
        *lock(&self.count) += 1;
    }

    fn down(&self) {
        let mut count = lock(&self.count);
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.zero.notify_all();
        }
    }

    fn wait_zero(&self) {
        let mut count = lock(&self.count);
        while *count > 0 {
            count = self.zero.wait(count).unwrap_or_else(|e| e.into_inner());
        }
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

#[cfg(test)]
mod tests;
