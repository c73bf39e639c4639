//! One plugin process: started, initialized, its calls multiplexed by id, its log drained, reaped.
//!
//! Four tasks serve it: a writer (stdin), a reader (stdout: answers matched to their calls by id, log
//! notifications to the call's step), a drain of stderr (the plugin's log, kept short: the last lines go
//! into the error of a crash), and a waiter that reaps the process and fails every call in flight when it
//! ends — whether it exited, crashed, or was killed for writing garbage or for not stopping a cancelled
//! call. Nothing a plugin does can block keyflow: its pipes are always read, and a process that misbehaves
//! is killed, never waited on forever.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use keyflow_engine::block::{BlockContext, BlockError, LogLevel};
use keyflow_plugin::protocol::{
    self, CancelParams, HostNotice, HostNotification, JsonRpc, Method, Outcome, PluginMessage,
    PluginNotice, Request, RpcError,
};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// The longest line a plugin may write: a longer one is garbage (and would cost memory to keep).
const MAX_LINE: usize = 64 * 1024 * 1024;
/// How many of the plugin's last stderr lines a crash's error quotes, and how long each may be.
const TAIL_LINES: usize = 5;
const TAIL_CHARS: usize = 300;
/// How many stderr lines are passed on to the log; the rest are counted (a flood costs nothing).
const LOGGED_LINES: u64 = 1_000;

/// How long a process is given: to answer `initialize`, to stop a cancelled call, to exit after
/// `shutdown`.
#[derive(Debug, Clone, Copy)]
pub struct Graces {
    /// Time to answer `initialize`.
    pub start: Duration,
    /// Time to answer a call after `cancel` before the process is killed.
    pub cancel: Duration,
    /// Time to exit after `shutdown` before it is killed.
    pub shutdown: Duration,
}

impl Default for Graces {
    fn default() -> Graces {
        Graces {
            start: Duration::from_secs(10),
            cancel: Duration::from_secs(2),
            shutdown: Duration::from_secs(2),
        }
    }
}

/// An answer as the reader hands it to the call waiting for it.
type Answer = Result<Value, RpcError>;

struct Pending {
    answer: oneshot::Sender<Answer>,
    /// The call's context, for the log notifications about it.
    ctx: Option<BlockContext>,
}

/// What is known about the process, shared by its tasks and its calls.
struct State {
    name: String,
    pending: Mutex<HashMap<u64, Pending>>,
    /// Why the process ended (or is being killed), once it has.
    ended: Mutex<Option<String>>,
    tail: Mutex<VecDeque<String>>,
    kill: CancellationToken,
    exited: CancellationToken,
}

impl State {
    /// Records why the process is ending (the first reason wins) and kills it.
    fn end(&self, why: String) {
        lock(&self.ended).get_or_insert(why);
        self.kill.cancel();
    }

    fn tail(&self) -> String {
        let tail = lock(&self.tail);
        if tail.is_empty() {
            String::new()
        } else {
            format!(
                "; its last words on stderr: {}",
                tail.iter().cloned().collect::<Vec<_>>().join(" | ")
            )
        }
    }
}

/// A running plugin process.
pub struct Process {
    state: Arc<State>,
    stdin: mpsc::UnboundedSender<Vec<u8>>,
    next_id: AtomicU64,
    graces: Graces,
}

impl Process {
    /// Starts `executable` (no arguments, an environment of only `PATH`, `HOME`, locale and temp
    /// folder: secrets travel in messages only) with its working folder `dir`, and initializes it.
    pub async fn start(
        name: &str,
        executable: &Path,
        dir: &Path,
        graces: Graces,
    ) -> Result<(Arc<Process>, protocol::InitializeResult), BlockError> {
        let mut command = Command::new(executable);
        command
            .current_dir(dir)
            .env_clear()
            .envs(std::env::vars_os().filter(|(k, _)| k.to_str().is_some_and(passed_on)))
            .env("KEYFLOW_PLUGIN_PROTOCOL", protocol::PROTOCOL)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().map_err(|e| {
            BlockError::fatal(
                "PluginFailed",
                format!(
                    "plugin `{name}`: cannot start {}: {e}",
                    executable.display()
                ),
            )
        })?;
        let process = Process::serve(name, child, graces);
        let init = process
            .request(
                Method::Initialize(protocol::InitializeParams {
                    protocols: vec![protocol::PROTOCOL.into()],
                    keyflow: env!("CARGO_PKG_VERSION").into(),
                }),
                None,
                Some(graces.start),
            )
            .await
            .map_err(|e| BlockError {
                message: format!("while starting: {}", e.message),
                ..e
            })?;
        let init: protocol::InitializeResult = serde_json::from_value(init).map_err(|e| {
            process
                .state
                .end("its answer to `initialize` is not one".into());
            process.failure(
                "PluginProtocolError",
                format!("answered `initialize` with something else: {e}"),
            )
        })?;
        if init.protocol != protocol::PROTOCOL {
            process.state.end("it speaks another protocol".into());
            return Err(process.failure(
                "PluginProtocolError",
                format!(
                    "chose protocol `{}`, but keyflow offered only `{}`",
                    init.protocol,
                    protocol::PROTOCOL
                ),
            ));
        }
        Ok((process, init))
    }

    fn serve(name: &str, mut child: Child, graces: Graces) -> Arc<Process> {
        let state = Arc::new(State {
            name: name.to_string(),
            pending: Mutex::default(),
            ended: Mutex::default(),
            tail: Mutex::default(),
            kill: CancellationToken::new(),
            exited: CancellationToken::new(),
        });
        let (stdin_tx, mut stdin_rx) = mpsc::unbounded_channel::<Vec<u8>>();
        if let Some(mut stdin) = child.stdin.take() {
            tokio::spawn(async move {
                while let Some(line) = stdin_rx.recv().await {
                    if stdin.write_all(&line).await.is_err() || stdin.flush().await.is_err() {
                        break;
                    }
                }
                // Dropping stdin closes it: a plugin reading it sees the end.
            });
        }
        let reader = child.stdout.take().map(|stdout| {
            let state = state.clone();
            tokio::spawn(read_answers(state, stdout))
        });
        let drain = child.stderr.take().map(|stderr| {
            let state = state.clone();
            tokio::spawn(drain_log(state, stderr))
        });
        let waiter_state = state.clone();
        tokio::spawn(async move {
            let state = waiter_state;
            let status = tokio::select! {
                status = child.wait() => status,
                () = state.kill.cancelled() => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            // Its pipes close with it: the last answers and words are read before calls are failed.
            for task in [reader, drain].into_iter().flatten() {
                let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
            }
            let why = lock(&state.ended).clone().unwrap_or_else(|| match status {
                Ok(status) => format!("exited ({status})"),
                Err(e) => format!("was lost ({e})"),
            });
            lock(&state.ended).get_or_insert(why.clone());
            let message = format!("plugin `{}` {why}{}", state.name, state.tail());
            for (_, pending) in lock(&state.pending).drain() {
                let _ = pending.answer.send(Err(RpcError {
                    code: CRASHED,
                    message: message.clone(),
                    data: None,
                }));
            }
            state.exited.cancel();
        });
        Arc::new(Process {
            state,
            stdin: stdin_tx,
            next_id: AtomicU64::new(1),
            graces,
        })
    }

    /// Whether the process has ended (or is being killed): a new call needs a new process.
    pub fn ended(&self) -> bool {
        lock(&self.state.ended).is_some() || self.state.exited.is_cancelled()
    }

    /// Sends a request and awaits its answer. `ctx` receives the plugin's log about it; `limit` bounds
    /// the wait (then the process is killed: a plugin that does not answer `initialize` is broken).
    /// Dropping the future (the step's timeout, the run's cancellation) sends `cancel` and kills the
    /// process when the plugin has not answered within the cancel grace.
    pub async fn request(
        &self,
        method: Method,
        ctx: Option<BlockContext>,
        limit: Option<Duration>,
    ) -> Result<Value, BlockError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = lock(&self.state.pending);
            if self.ended() {
                return Err(self.failure("PluginFailed", "has ended".to_string()));
            }
            pending.insert(id, Pending { answer: tx, ctx });
        }
        let mut guard = CancelOnDrop {
            process: self,
            id,
            armed: true,
        };
        let line = line_of(&Request {
            jsonrpc: JsonRpc::V2,
            id,
            method,
        });
        if self.stdin.send(line).is_err() {
            guard.armed = false;
            lock(&self.state.pending).remove(&id);
            return Err(self.failure("PluginCrashed", "cannot be written to".into()));
        }
        let answer = match limit {
            Some(limit) => match tokio::time::timeout(limit, rx).await {
                Ok(answer) => answer,
                Err(_) => {
                    guard.armed = false;
                    lock(&self.state.pending).remove(&id);
                    self.state
                        .end(format!("did not answer within {}s", limit.as_secs()));
                    return Err(self.failure(
                        "PluginTimeout",
                        format!("did not answer within {}s and was stopped", limit.as_secs()),
                    ));
                }
            },
            None => rx.await,
        };
        guard.armed = false;
        match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.rpc_error(error)),
            Err(_) => Err(self.failure("PluginCrashed", "ended".into())),
        }
    }

    /// Asks the plugin to finish, and kills it when it has not exited within the shutdown grace.
    pub async fn shutdown(&self) {
        if !self.ended() {
            let asked = self.request(
                Method::Shutdown(protocol::Empty {}),
                None,
                Some(self.graces.shutdown),
            );
            let _ = asked.await;
            lock(&self.state.ended).get_or_insert_with(|| "was shut down".into());
        }
        if tokio::time::timeout(self.graces.shutdown, self.state.exited.cancelled())
            .await
            .is_err()
        {
            self.state.kill.cancel();
        }
        self.state.exited.cancelled().await;
    }

    /// Kills the process now.
    pub async fn kill(&self) {
        self.state.end("was stopped".into());
        self.state.exited.cancelled().await;
    }

    fn failure(&self, code: &str, what: String) -> BlockError {
        BlockError::fatal(
            code,
            format!("plugin `{}` {what}{}", self.state.name, self.state.tail()),
        )
    }

    fn rpc_error(&self, error: RpcError) -> BlockError {
        // The process is gone with every call in flight, a bystander's too; the next call starts a new
        // one, so a step's `retry:` may try again (the call may have taken effect: in doubt).
        if error.code == CRASHED {
            return BlockError::retryable("PluginCrashed", error.message).in_doubt();
        }
        if error.code == GARBAGE {
            return BlockError::retryable("PluginProtocolError", error.message).in_doubt();
        }
        match error.data {
            Some(failure) if error.code == protocol::BLOCK_FAILED => {
                let mut out = BlockError::fatal(failure.code, error.message);
                out.retryable = failure.retryable;
                if let Some(seconds) = failure.retry_after.filter(|s| s.is_finite() && *s >= 0.0) {
                    out = out.with_retry_after(Duration::from_secs_f64(seconds.min(86_400.0)));
                }
                if failure.in_doubt {
                    out = out.in_doubt();
                }
                out
            }
            _ => BlockError::fatal(
                "PluginProtocolError",
                format!(
                    "plugin `{}` refused the request ({}): {}",
                    self.state.name, error.code, error.message
                ),
            ),
        }
    }
}

/// Internal codes of answers the host makes up for calls whose process ended or wrote garbage.
const CRASHED: i64 = -1;
const GARBAGE: i64 = -2;

/// Sends `cancel` for a call whose caller stopped waiting, and kills the process when it has not answered
/// within the cancel grace (the plugin is hung, or ignores `cancel`).
struct CancelOnDrop<'a> {
    process: &'a Process,
    id: u64,
    armed: bool,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let id = self.id;
        let state = self.process.state.clone();
        let _ = self.process.stdin.send(line_of(&HostNotification {
            jsonrpc: JsonRpc::V2,
            method: HostNotice::Cancel(CancelParams { id }),
        }));
        let grace = self.process.graces.cancel;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                tokio::time::sleep(grace).await;
                if lock(&state.pending).remove(&id).is_some() {
                    state.end(format!(
                        "was stopped: it did not end call {id} within {}s of `cancel`",
                        grace.as_secs_f64()
                    ));
                }
            });
        }
    }
}

async fn read_answers(state: Arc<State>, stdout: tokio::process::ChildStdout) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await;
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line.len() > MAX_LINE {
            return garbage(&state, "a line longer than 64 MiB");
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let message: PluginMessage = match serde_json::from_slice(&line) {
            Ok(message) => message,
            Err(_) => {
                let shown: String = String::from_utf8_lossy(&line).chars().take(120).collect();
                return garbage(&state, &format!("`{}`", shown.trim_end()));
            }
        };
        match message {
            PluginMessage::Response(response) => {
                let pending = lock(&state.pending).remove(&response.id);
                // No one waits for an answer to a cancelled call.
                if let Some(pending) = pending {
                    let answer = match response.outcome {
                        Outcome::Result(value) => Ok(value),
                        Outcome::Error(error) => Err(error),
                    };
                    let _ = pending.answer.send(answer);
                }
            }
            PluginMessage::Notification(note) => {
                let PluginNotice::Log(log) = note.method;
                let ctx = lock(&state.pending)
                    .get(&log.id)
                    .and_then(|p| p.ctx.clone());
                if let Some(ctx) = ctx {
                    ctx.log(level(log.level), log.message);
                }
            }
        }
    }
}

/// A plugin that writes what is not a message is killed: nothing it says after can be trusted to match.
fn garbage(state: &State, what: &str) {
    let message = format!(
        "plugin `{}` wrote what is not a {} message: {what}",
        state.name,
        protocol::PROTOCOL
    );
    for (_, pending) in lock(&state.pending).drain() {
        let _ = pending.answer.send(Err(RpcError {
            code: GARBAGE,
            message: message.clone(),
            data: None,
        }));
    }
    state.end("was stopped for writing garbage on stdout".into());
}

async fn drain_log(state: Arc<State>, stderr: tokio::process::ChildStderr) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    let mut logged = 0u64;
    let mut dropped = 0u64;
    loop {
        line.clear();
        // A line is read in pieces of at most 8 KiB: a flood without line breaks costs no memory.
        match (&mut reader)
            .take(8 * 1024)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if text.is_empty() {
            continue;
        }
        {
            let mut tail = lock(&state.tail);
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(text.chars().take(TAIL_CHARS).collect());
        }
        if logged < LOGGED_LINES {
            logged += 1;
            tracing::debug!(plugin = %state.name, "{text}");
        } else {
            dropped += 1;
        }
    }
    if dropped > 0 {
        tracing::debug!(plugin = %state.name, "{dropped} more lines of its log were not shown");
    }
}

fn level(level: protocol::LogLevel) -> LogLevel {
    match level {
        protocol::LogLevel::Debug => LogLevel::Debug,
        protocol::LogLevel::Info => LogLevel::Info,
        protocol::LogLevel::Warn => LogLevel::Warn,
        protocol::LogLevel::Error => LogLevel::Error,
    }
}

fn line_of<T: serde::Serialize>(message: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(message).unwrap_or_default();
    line.push(b'\n');
    line
}

/// The variables a plugin inherits: what finding programs, files and the locale needs, nothing that could
/// hold a credential.
fn passed_on(name: &str) -> bool {
    matches!(
        name,
        "PATH" | "HOME" | "LANG" | "TZ" | "TMPDIR" | "SYSTEMROOT" | "PYTHONIOENCODING"
    ) || name.starts_with("LC_")
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
