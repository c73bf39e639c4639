//! Steps: one call of a block, with its inputs and the controls around it.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ConditionSpec, DurationSpec};

/// A step: one call of a block, or one run of a template flow (`uses:`); once per item with `for_each`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Identifier of the step, unique in the flow; later steps read its result as `$.steps.<id>`.
    /// Letters, digits and `_`, not starting with a digit.
    pub id: String,
    /// The block to call, such as `core.log` or `aws-kms.create-key` (`keyflow blocks list`); a step has
    /// either `block:` or `uses:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<String>,
    /// A template to run: a flow file with a `version`, relative to this file
    /// (`./templates/onboard-tenant.yaml`). `with:` gives its params; its outputs are the step's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses: Option<String>,
    /// The connection the block uses; may be left out when the flow has exactly one connection of the
    /// block's connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// With `uses:`: connections of the template replaced for this step, by the template's connection name.
    /// Their settings may read `$.params` and, with `for_each`, `$.item` (a tenant per item, say).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub connections: IndexMap<String, super::Connection>,
    /// The block's inputs. A string starting with `$.` or `$[` is a reference (a JSONPath query over the
    /// run context) and keeps the type of what it selects; a string containing `{{` is a template; `$$`
    /// escapes a literal leading `$`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub with: IndexMap<String, Value>,
    /// Steps this one waits for, beyond those it references.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub after: OneOrMany,
    /// Run the step only when this condition holds; otherwise it is `skipped`.
    #[serde(default, rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionSpec>,
    /// A reference to an array, or a literal list: the block is called once per item, with `$.item` and
    /// `$.index` in scope. The step's output is the array of the items' outputs, in item order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<ForEachSchema>")]
    pub for_each: Option<Value>,
    /// How many items of `for_each` run at the same time (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub concurrency: Option<u32>,
    /// Retry the call when the block reports a retryable failure (throttling, timeouts, 5xx).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySpec>,
    /// Longest time one attempt may take; a timed-out attempt counts as a retryable failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationSpec>,
    /// Call the block again every `every` until `condition` holds over its `$.output`, for at most
    /// `timeout` (for example, until a migration is `Completed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<UntilSpec>,
    /// What a failure of this step does to the run: `fail` (default) stops it; `continue` lets it go on,
    /// with the step's `$.steps.<id>.error` readable by later steps. With `for_each`, `continue` also runs
    /// every item after one fails, and the step keeps the outputs of those that succeeded.
    #[serde(default, skip_serializing_if = "OnError::is_fail")]
    pub on_error: OnError,
    /// Required on steps whose block is destructive (disabling a key, scheduling its deletion...), as the
    /// reviewed acknowledgement that the flow does this; the run also needs `--allow-destructive`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirm: bool,
    /// Lets this step's inputs carry secrets (an output field a block declares secret, such as
    /// `Plaintext` of `aws-kms.generate-data-key`) into inputs that do not take secrets — a log message, a
    /// key description, a tag — as the reviewed acknowledgement that the secret goes there in the clear.
    /// Without it such a flow is refused. keyflow still masks the value in what it shows and records.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reveal: bool,
}

/// The schema of `for_each`: a reference or a list.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ForEachSchema {
    /// A reference to an array, such as `$.params.tenants`.
    Reference(String),
    /// A literal list of items.
    List(Vec<Value>),
}

/// One name or a list of names: `after: create_key` or `after: [a, b]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    /// No names.
    #[default]
    #[schemars(skip)]
    None,
    /// A single name.
    One(String),
    /// Several names.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The names, in order.
    pub fn names(&self) -> Vec<&str> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(name) => vec![name.as_str()],
            OneOrMany::Many(names) => names.iter().map(String::as_str).collect(),
        }
    }

    /// Whether there are no names.
    pub fn is_empty(&self) -> bool {
        self.names().is_empty()
    }

    /// Whether the names were written as a list (so that diagnostics index into it).
    pub fn is_list(&self) -> bool {
        matches!(self, OneOrMany::Many(_))
    }
}

/// Retry policy: exponential backoff with full jitter.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Total number of attempts, the first one included (at least 1).
    #[schemars(range(min = 1))]
    pub attempts: u32,
    /// Delay before the first retry, doubled after each retry (default `1s`); each actual delay is drawn
    /// at random between zero and that value (full jitter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<DurationSpec>,
    /// Upper bound of any delay (default `30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay: Option<DurationSpec>,
}

/// Polling: call the block until a condition over its output holds.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UntilSpec {
    /// Checked after each call, with the call's output as `$.output`.
    pub condition: ConditionSpec,
    /// Time between calls (default `5s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<DurationSpec>,
    /// How long to keep polling before the step fails.
    pub timeout: DurationSpec,
}

/// What a failed step does to the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop the run (steps not yet started are `cancelled`).
    #[default]
    Fail,
    /// Record the failure in `$.steps.<id>.error` and go on.
    Continue,
}

impl OnError {
    fn is_fail(&self) -> bool {
        *self == OnError::Fail
    }
}
