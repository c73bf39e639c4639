//! The block SDK: what a connector author implements.
//!
//! A block is a typed unit: `Input` and `Output` structs (serde + schemars), a [`BlockSpec`], an example
//! output, and an async `run`. One blanket adapter ([`erased`]) turns every typed block into the
//! `serde_json::Value` form the executor runs, so block authors never touch `Value`.

pub mod check;
pub(crate) mod context;
pub mod dynamic;
pub mod erased;
mod error;
mod registry;

use std::future::Future;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use check::{CheckedConnection, CheckedFlow, CheckedStep, Finding, FlowCheck, Segment};
pub use context::{BlockContext, LogLevel, LogSink};
pub use dynamic::{DynamicBlock, DynamicConnector, Origin};
pub use erased::{Connector, ConnectorSpec, RegisteredBlock, RegisteredConnector};
pub use error::BlockError;
pub use registry::Registry;

/// What calling a block does to the world, shown by `keyflow plan` and used to guard destructive steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Reads only.
    Read,
    /// Creates something.
    Create,
    /// Changes something that exists.
    Update,
    /// Disables, deletes or schedules deletion: needs `confirm: true` and `--allow-destructive`.
    Destructive,
}

impl Effect {
    /// The name as shown to users.
    pub fn name(self) -> &'static str {
        match self {
            Effect::Read => "read",
            Effect::Create => "create",
            Effect::Update => "update",
            Effect::Destructive => "destructive",
        }
    }
}

/// How a call whose answer was lost is settled when it is made again — by a retry after a timeout, or by
/// `keyflow resume` after the process died between the call and the record of its answer. Part of the
/// block's contract: `keyflow plan` shows a block that cannot settle it as at-least-once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// It only reads: calling again is safe.
    Repeat,
    /// Applying it again leaves the same state (a key policy put, rotation enabled).
    Reapply,
    /// Before creating, the block finds what a lost call created (a tag it writes with the create, or
    /// "already exists with the same target"), and answers with that instead of creating again.
    FindFirst,
    /// The block reads the current state first, and does nothing (answering as the call would have) when
    /// it is already as asked.
    ReadFirst,
    /// Nothing makes a repeat safe: a lost call may have taken effect, and calling again may do it twice.
    AtLeastOnce,
}

impl Recovery {
    /// Whether a repeat may do twice what a lost call did.
    pub fn at_least_once(self) -> bool {
        self == Recovery::AtLeastOnce
    }

    /// The name as shown to users (as serialized: `reapply`, `at_least_once`).
    pub fn name(self) -> &'static str {
        match self {
            Recovery::Repeat => "repeat",
            Recovery::Reapply => "reapply",
            Recovery::FindFirst => "find_first",
            Recovery::ReadFirst => "read_first",
            Recovery::AtLeastOnce => "at_least_once",
        }
    }
}

/// The facts about a block that do not depend on a call.
#[derive(Debug, Clone, Copy)]
pub struct BlockSpec {
    /// `connector.operation` in kebab-case: `aws-kms.create-key`.
    pub id: &'static str,
    /// The title users know from the service or its console: "Create Key".
    pub title: &'static str,
    /// The connector whose connection the block needs; `None` for core blocks.
    pub connector: Option<&'static str>,
    /// What the block does, one or two sentences.
    pub description: &'static str,
    /// What a call does.
    pub effect: Effect,
    /// Output fields that hold secrets (dotted paths such as `Plaintext`): redacted in reports and logs.
    pub secret_outputs: &'static [&'static str],
    /// Inputs that take secrets (top-level names under `with:`, such as `plaintext` of `aws-kms.encrypt`): a
    /// step may pass a secret output there without `reveal: true`, and the run records them redacted. Any
    /// other input given a secret fails validation unless the step says `reveal: true`.
    pub secret_inputs: &'static [&'static str],
    /// The output is the step's resolved input (as for `core.set`), so the checker derives the output's
    /// shape from the `with:` of each step instead of from the output schema.
    pub output_mirrors_input: bool,
    /// A boolean input that, when true, makes the call destructive (as `bypass_policy_lockout_safety_check`
    /// does for a key policy): the step then needs `confirm: true` unless the input is literally `false`,
    /// and the run needs `--allow-destructive` when it is true.
    pub destructive_when: Option<&'static str>,
    /// How a call whose answer was lost is settled when it is made again; for a block with an
    /// [`EffectBy`] table, its weakest (the table gives each call's).
    pub recovery: Recovery,
}

/// How one input of a block decides what a call does and how a call whose answer was lost is settled
/// (a raw request block: the operation it names), for a block of which neither is one for every call.
/// One table holds both, so an operation cannot have an effect without a recovery rule.
#[derive(Debug, Clone, Copy)]
pub struct EffectBy {
    /// The input (a string naming the operation).
    pub input: &'static str,
    /// The values the input may take, each with the effect of a call given it and its [`Recovery`].
    pub table: &'static [(&'static str, Effect, Recovery)],
}

impl EffectBy {
    /// The effect of a call whose input is `value`; a value the table does not name is taken as
    /// destructive (the block's input schema, from [`EffectBy::names`], refuses it before a run anyway).
    pub fn effect(&self, value: &serde_json::Value) -> Effect {
        self.rule(value)
            .map_or(Effect::Destructive, |(effect, _)| effect)
    }

    /// How a call whose input is `value` is settled when its answer was lost; a value the table does not
    /// name cannot be settled (at-least-once).
    pub fn recovery(&self, value: &serde_json::Value) -> Recovery {
        self.rule(value)
            .map_or(Recovery::AtLeastOnce, |(_, recovery)| recovery)
    }

    fn rule(&self, value: &serde_json::Value) -> Option<(Effect, Recovery)> {
        let name = value.as_str()?;
        self.table
            .iter()
            .find(|(known, _, _)| *known == name)
            .map(|(_, effect, recovery)| (*effect, *recovery))
    }

    /// The values the input may take, in the table's order (for the input's schema).
    pub fn names(&self) -> Vec<&'static str> {
        self.table.iter().map(|(name, _, _)| *name).collect()
    }
}

/// A typed block.
pub trait Block: Send + Sync + 'static {
    /// The inputs, as written under `with:` (snake_case service parameter names).
    type Input: DeserializeOwned + JsonSchema + Send;
    /// The output, keeping the service's own response field names.
    type Output: Serialize + JsonSchema + Send;

    /// The block's static facts.
    fn spec(&self) -> BlockSpec;

    /// For a block whose effect and recovery depend on an input: which, and how. `None` (the default):
    /// every call has `spec().effect` and `spec().recovery`. A step whose deciding input is an expression
    /// is destructive and at-least-once as far as the checker knows (it needs `confirm: true`); the run
    /// decides the effect by the value.
    fn effect_by(&self) -> Option<EffectBy> {
        None
    }

    /// A realistic output, used by `keyflow plan` to preview later steps' inputs and by the docs.
    fn example_output(&self) -> Self::Output;

    /// Calls the block.
    fn run(
        &self,
        ctx: &BlockContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, BlockError>> + Send;

    /// For a block without side effects that needs nothing but its input and the flow's folder (such as
    /// `core.render`): its output, computed when the flow is checked and planned instead of the example
    /// output, so that later steps' inputs are previewed — and checked — with what the run will pass.
    /// `None` (the default): use the example output.
    fn preview(
        &self,
        input: Self::Input,
        flow_dir: &std::path::Path,
    ) -> Option<Result<Self::Output, PreviewError>> {
        let _ = (input, flow_dir);
        None
    }
}

/// Why a block could not compute its output when the flow was checked: reported at the input named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewError {
    /// The input (a top-level name under `with:`) the problem is about.
    pub input: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}
