//! Checks a connector adds to the static checker: rules over several steps of a flow that no one block's
//! input schema can say, such as "a key registered with Qlik Cloud in this flow gets a key policy that lets
//! Qlik use it". They run on a flow that passed every other check, over its plan and its inputs previewed
//! with the blocks' example outputs (so `{{steps.create_key.output.KeyMetadata.AWSAccountId}}` reads as a
//! realistic account id), and what they find is reported like every other problem: with file, line and
//! column, before anything runs.

use serde_json::Value;

use crate::plan::Plan;
use crate::plan::preview::StepPreview;

/// A rule over a whole flow.
pub trait FlowCheck: Send + Sync + 'static {
    /// The blocks the rule is about: it runs only on flows that call one of them.
    fn blocks(&self) -> &'static [&'static str];

    /// What is wrong in `plan`; `inputs` holds each step's input (in plan order) with references and
    /// templates resolved against the blocks' example outputs and the parameters' defaults.
    fn check(&self, plan: &Plan, inputs: &[StepPreview]) -> Vec<Finding>;
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
