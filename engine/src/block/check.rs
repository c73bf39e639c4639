//! Checks a connector adds to the static checker: rules over several steps of a flow that no one block's
//! input schema can say, such as "a key registered with Qlik Cloud in this flow gets a key policy that lets
//! Qlik use it". They run on a flow that passed every other check, over its steps with their inputs
//! previewed with the blocks' example outputs (so `{{steps.create_key.output.KeyMetadata.AWSAccountId}}`
//! reads as a realistic account id), and what they find is reported like every other problem: with file,
//! line and column, before anything runs.
//!
//! A rule sees the flow through [`CheckedFlow`], its own view, so that connector authors depend on nothing
//! of the planner.

use indexmap::IndexMap;
use serde_json::{Map, Value};

/// A rule over a whole flow.
pub trait FlowCheck: Send + Sync + 'static {
    /// The blocks the rule is about: it runs only on flows that call one of them.
    fn blocks(&self) -> &'static [&'static str];

    /// What is wrong in `flow`.
    fn check(&self, flow: &CheckedFlow) -> Vec<Finding>;
}

/// A flow that passed every other check, as a [`FlowCheck`] sees it.
#[derive(Debug, Clone, Default)]
pub struct CheckedFlow {
    /// Its steps, in file order (a step's `index` is its position here).
    pub steps: Vec<CheckedStep>,
    /// Its connections, by name.
    pub connections: IndexMap<String, CheckedConnection>,
}

/// One step of a [`CheckedFlow`].
#[derive(Debug, Clone)]
pub struct CheckedStep {
    /// Position in the file.
    pub index: usize,
    /// The step's id.
    pub id: String,
    /// The block it calls (a `uses:` step: the template path as written).
    pub block: String,
    /// The connector of that block (`None` for core blocks and templates).
    pub connector: Option<String>,
    /// The connection it uses.
    pub connection: Option<String>,
    /// The steps it waits for (indices).
    pub deps: Vec<usize>,
    /// Its input with references and templates resolved against the blocks' example outputs and the
    /// parameters' defaults (what cannot be known shows as `<why>`).
    pub input: Value,
    /// The inputs written as literal values in the flow (neither a reference nor a template).
    pub literals: Map<String, Value>,
}

/// A connection of a [`CheckedFlow`].
#[derive(Debug, Clone)]
pub struct CheckedConnection {
    /// Its connector.
    pub connector: String,
    /// The settings written as literal values.
    pub literals: Map<String, Value>,
}

impl CheckedFlow {
    /// Whether step `step` waits for step `target` to end, directly or through other steps.
    pub fn waits_for(&self, step: usize, target: usize) -> bool {
        let mut seen = vec![false; self.steps.len()];
        let mut stack = self.steps[step].deps.clone();
        while let Some(i) = stack.pop() {
            if i == target {
                return true;
            }
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(&self.steps[i].deps);
            }
        }
        false
    }

    /// The steps that call block `id`.
    pub fn calling<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a CheckedStep> + 'a {
        self.steps.iter().filter(move |s| s.block == id)
    }
}

/// One step of a path into a step's `with:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A problem a [`FlowCheck`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The step it is about.
    pub step: String,
    /// Where under the step's `with:` (empty: the step itself).
    pub input: Vec<Segment>,
    /// A stable kebab-case code, shown as `error[code]`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to do, such as the statement to add.
    pub help: Option<String>,
}

impl Finding {
    /// A finding about `input` (a top-level input name) of step `step`.
    pub fn at_input(step: &str, input: &str, code: &'static str, message: String) -> Finding {
        Finding {
            step: step.to_string(),
            input: vec![Segment::Key(input.to_string())],
            code,
            message,
            help: None,
        }
    }

    /// Adds what to do.
    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }
}

/// A value shown in help text: compact JSON.
pub fn show(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
