//! Conditions as written: `{ path: $.x, equals: v }`, `{ all: [...] }`, `{ any: [...] }`, `{ not: {...} }`.
//!
//! The Step Functions Choice model, in YAML. The raw form accepts any combination of fields; validation
//! compiles it into [`crate::expr::Condition`] and reports a condition that is not exactly one form.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A condition: a `path` with one comparison, or `all` / `any` / `not` over other conditions.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// A reference (`$.steps.x.output.state`) to the value being tested. A path that selects nothing makes
    /// every comparison false; only `exists: false` is then true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// True when the value equals this literal or reference (numbers compare by value: `1` equals `1.0`).
    #[serde(
        default,
        deserialize_with = "super::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub equals: Option<Value>,
    /// True when the value differs from this literal or reference.
    #[serde(
        default,
        deserialize_with = "super::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_equals: Option<Value>,
    /// True when the value is one of this list (or of the array a reference selects).
    #[serde(
        default,
        rename = "in",
        deserialize_with = "super::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub in_list: Option<Value>,
    /// `true`: the path selects something; `false`: it selects nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// A regular expression the string value must contain a match of (anchor with `^…$` for all of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// True when the value is greater: numbers by value, strings (such as RFC 3339 times) in order.
    #[serde(
        default,
        deserialize_with = "super::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub gt: Option<Value>,
    /// True when the value is less: numbers by value, strings (such as RFC 3339 times) in order.
    #[serde(
        default,
        deserialize_with = "super::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub lt: Option<Value>,
    /// True when every condition of the list holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<ConditionSpec>>,
    /// True when at least one condition of the list holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<Vec<ConditionSpec>>,
    /// True when the condition does not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not: Option<Box<ConditionSpec>>,
}
