//! The validated plan: the only thing the executor accepts.
//!
//! Built by [`crate::validate::check`] from a flow that passed every check, so every reference in it names
//! a step it depends on, every block exists, every connection fits. Steps are kept in file order (their
//! index is their position in the file); `order` is a topological order with file order breaking ties.

mod call;
pub(crate) mod digest;
mod params;
pub mod preview;
pub(crate) mod secrets;

use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;

pub use call::{Call, Template};
pub use params::{ParamError, ParamSpec, ParamValue};
pub(crate) use secrets::{SecretFlow, SecretPath};

use crate::block::{Effect, RegisteredConnector};
use crate::expr::{Condition, ValueExpr};
use crate::model::{OnError, SecretSource};
use crate::source::SourceFile;

/// A flow, checked and ready to run.
#[derive(Debug)]
pub struct Plan {
    /// The flow's name.
    pub name: String,
    /// The flow's description.
    pub description: Option<String>,
    /// The flow's version.
    pub version: Option<String>,
    /// The file it came from.
    pub source: Arc<SourceFile>,
    /// Declared parameters.
    pub params: IndexMap<String, ParamSpec>,
    /// Declared connections.
    pub connections: IndexMap<String, PlannedConnection>,
    /// Steps, in file order.
    pub steps: Vec<PlannedStep>,
    /// Step indices in a topological order (file order breaks ties).
    pub order: Vec<usize>,
    /// The flow's outputs.
    pub outputs: IndexMap<String, ValueExpr>,
    /// What each output is, as a JSON Schema (what a flow using this one as a template can rely on).
    pub output_schemas: IndexMap<String, serde_json::Value>,
    /// For a template of a library: the library, whose root its relative paths are read against.
    pub library: Option<Arc<crate::library::LibraryScope>>,
    /// The flow's triggers, checked (`keyflow schedule list`, `keyflow serve`).
    pub triggers: Vec<crate::schedule::Trigger>,
    /// Where its params and secrets go: what a flow using it as a template is checked against.
    pub(crate) secrets: SecretFlow,
    /// What the checker warns about in a flow that runs (references it could not check), for the
    /// commands to show.
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
}

impl Plan {
    /// The folder its blocks read relative paths against (`core.render { file }`), and are confined to:
    /// a library template's library root, else the flow file's folder.
    pub fn files_dir(&self) -> &std::path::Path {
        match &self.library {
            Some(library) => &library.root,
            None => self.source.dir(),
        }
    }
}

/// A connection, checked against its connector.
#[derive(Debug, Clone)]
pub struct PlannedConnection {
    /// The connection's name.
    pub name: String,
    /// Its connector.
    pub connector: Arc<RegisteredConnector>,
    /// Its settings.
    pub settings: IndexMap<String, Setting>,
}

/// A connection setting.
#[derive(Debug, Clone)]
pub enum Setting {
    /// A value (templates over `params` allowed).
    Value(ValueExpr),
    /// A secret, read when the connection is first used.
    Secret(SecretSource),
}

/// A step, checked.
#[derive(Debug)]
pub struct PlannedStep {
    /// Position in the file.
    pub index: usize,
    /// The step's id.
    pub id: String,
    /// What it calls: a block, or a template (`uses:`).
    pub call: Call,
    /// The connection its block uses.
    pub connection: Option<String>,
    /// With `uses:`: the template's connections this step replaces, by name (settings may read `$.item`).
    pub connections: IndexMap<String, PlannedConnection>,
    /// Its inputs.
    pub with: IndexMap<String, ValueExpr>,
    /// `if:`.
    pub condition: Option<Condition>,
    /// `for_each:` and its concurrency.
    pub for_each: Option<ForEach>,
    /// `retry:`.
    pub retry: RetryPolicy,
    /// `timeout:` per attempt.
    pub timeout: Option<Duration>,
    /// `until:`.
    pub until: Option<Until>,
    /// `on_error:`.
    pub on_error: OnError,
    /// Steps it waits for (indices, ascending).
    pub deps: Vec<usize>,
    /// The dependencies whose output its inputs read: if one of them has no output (skipped or failed),
    /// this step is skipped.
    pub output_deps: Vec<usize>,
    /// Inputs that carry a secret (read from a secret output): redacted in records.
    pub secret_inputs: Vec<String>,
    /// The concurrency group: 0 for steps without dependencies, else one more than the deepest dependency.
    pub level: usize,
    /// A digest of the step as written (and of its template's text, for `uses:`): `keyflow resume` reuses
    /// a recorded result only while the step it came from is unchanged.
    pub definition: String,
}

impl PlannedStep {
    /// What calling the step does, as far as it is known before the run: destructive when the block is, or
    /// when its escalating input is given and is not literally `false`, or when the input deciding its
    /// effect names a destructive operation or is an expression ([`Call::effect_before_run`]).
    pub fn effect(&self) -> Effect {
        self.call.effect_before_run(&self.with).0
    }

    /// How a call of the step whose answer was lost is settled, as far as it is known before the run
    /// ([`Call::recovery_before_run`]).
    pub fn recovery(&self) -> crate::block::Recovery {
        self.call.recovery_before_run(&self.with)
    }

    /// The input that makes the call destructive when true, when the step gives it.
    pub fn escalating_input(&self) -> Option<&ValueExpr> {
        self.call
            .spec()
            .destructive_when
            .and_then(|input| self.with.get(input))
    }
}

/// `for_each:` compiled.
#[derive(Debug)]
pub struct ForEach {
    /// The array.
    pub items: ValueExpr,
    /// Items at the same time.
    pub concurrency: usize,
}

/// `retry:` with its defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub attempts: u32,
    /// The first delay, doubled each retry.
    pub backoff: Duration,
    /// The largest delay.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub const NONE: RetryPolicy = RetryPolicy {
        attempts: 1,
        backoff: Duration::from_secs(1),
        max_delay: Duration::from_secs(30),
    };

    /// The cap of the delay after failed attempt `attempt` (1-based): `backoff * 2^(attempt-1)`, at most
    /// `max_delay`. The actual delay is drawn uniformly below it (full jitter).
    pub fn delay_cap(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.backoff.saturating_mul(factor).min(self.max_delay)
    }
}

/// `until:` compiled.
#[derive(Debug)]
pub struct Until {
    /// Holds when polling is done.
    pub condition: Condition,
    /// Time between calls.
    pub every: Duration,
    /// The longest time to poll.
    pub timeout: Duration,
}

/// Default `for_each` concurrency.
pub const DEFAULT_CONCURRENCY: usize = 4;
