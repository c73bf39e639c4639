//! `core.assert`: check a value, fail with a clear message when the check does not hold.

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use keyflow_engine::expr::Comparison;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Checks a value with one comparison; fails with `message` and both values when it does not hold.
pub struct Assert;

fn present<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(de).map(Some)
}

/// Input of `core.assert`: `value` and exactly one comparison.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertInput {
    /// The value checked, usually a reference. A reference that selects nothing fails the step before the
    /// check; test optional values with an `if:` condition instead.
    #[serde(default, deserialize_with = "present")]
    pub value: Option<Value>,
    /// Holds when `value` equals this (numbers by value).
    #[serde(default, deserialize_with = "present")]
    pub equals: Option<Value>,
    /// Holds when `value` differs from this.
    #[serde(default, deserialize_with = "present")]
    pub not_equals: Option<Value>,
    /// Holds when `value` is one of this list.
    #[serde(default, rename = "in", deserialize_with = "present")]
    pub in_list: Option<Value>,
    /// Holds when `value` is a string containing a match of this regular expression.
    #[serde(default)]
    pub matches: Option<String>,
    /// Holds when `value` is greater (numbers, or strings in order).
    #[serde(default, deserialize_with = "present")]
    pub gt: Option<Value>,
    /// Holds when `value` is less (numbers, or strings in order).
    #[serde(default, deserialize_with = "present")]
    pub lt: Option<Value>,
    /// `true`: holds when `value` is given and not null; `false`: when it is null or not given.
    #[serde(default)]
    pub exists: Option<bool>,
    /// What the failure says (default: "assertion failed").
    #[serde(default)]
    pub message: Option<String>,
}

/// Output of `core.assert`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AssertOutput {
    /// The value that passed the check.
    pub value: Value,
}

impl Block for Assert {
    type Input = AssertInput;
    type Output = AssertOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "core.assert",
            title: "Assert",
            connector: None,
            description: "Checks `value` with one comparison (`equals`, `not_equals`, `in`, `matches`, `gt`, `lt`, \
                          `exists`) and fails the step with `message` and both values when it does not hold.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> AssertOutput {
        AssertOutput {
            value: Value::String("Enabled".into()),
        }
    }

    async fn run(&self, _: &BlockContext, input: AssertInput) -> Result<AssertOutput, BlockError> {
        let value = input.value.clone().unwrap_or(Value::Null);
        let (holds, expectation) = check(&input, &value)?;
        if holds {
            return Ok(AssertOutput { value });
        }
        let message = input.message.as_deref().unwrap_or("assertion failed");
        Err(BlockError::fatal(
            "AssertionFailed",
            format!("{message}: expected a value that {expectation}, got {value}"),
        ))
    }
}

fn check(input: &AssertInput, value: &Value) -> Result<(bool, String), BlockError> {
    let comparisons = [
        (Comparison::Equals, &input.equals),
        (Comparison::NotEquals, &input.not_equals),
        (Comparison::In, &input.in_list),
        (Comparison::Gt, &input.gt),
        (Comparison::Lt, &input.lt),
    ];
    let mut given: Vec<(bool, String)> = comparisons
        .iter()
        .filter_map(|(comparison, operand)| {
            operand.as_ref().map(|operand| {
                let words = match comparison {
                    Comparison::Equals => "equals",
                    Comparison::NotEquals => "differs from",
                    Comparison::In => "is one of",
                    Comparison::Gt => "is greater than",
                    Comparison::Lt => "is less than",
                };
                (
                    comparison.holds(value, operand),
                    format!("{words} {operand}"),
                )
            })
        })
        .collect();
    if let Some(pattern) = &input.matches {
        let regex = Regex::new(pattern)
            .map_err(|e| BlockError::invalid_input(format!("`matches`: {e}")))?;
        given.push((
            value.as_str().is_some_and(|t| regex.is_match(t)),
            format!("matches `{pattern}`"),
        ));
    }
    if let Some(expected) = input.exists {
        let exists = input.value.as_ref().is_some_and(|v| !v.is_null());
        let words = if expected { "exists" } else { "does not exist" };
        given.push((exists == expected, words.to_string()));
    }
    match given.len() {
        1 => Ok(given.remove(0)),
        0 => Err(BlockError::invalid_input(
            "give one comparison: `equals`, `not_equals`, `in`, `matches`, `gt`, `lt` or `exists`",
        )),
        _ => Err(BlockError::invalid_input(
            "give only one comparison; use several `core.assert` steps for more",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn assert(input: Value) -> Result<AssertOutput, BlockError> {
        let input: AssertInput = serde_json::from_value(input).unwrap();
        Assert.run(&BlockContext::detached("a"), input).await
    }

    #[tokio::test]
    async fn passing_checks_output_the_value() {
        assert_eq!(
            assert(json!({"value": 3, "equals": 3.0}))
                .await
                .unwrap()
                .value,
            json!(3)
        );
        assert!(
            assert(json!({"value": "Enabled", "in": ["Enabled", "PendingImport"]}))
                .await
                .is_ok()
        );
        assert!(
            assert(json!({"value": "arn:aws:kms:x", "matches": "^arn:aws:kms:"}))
                .await
                .is_ok()
        );
        assert!(
            assert(json!({"value": null, "exists": false}))
                .await
                .is_ok()
        );
        assert!(assert(json!({"value": 10, "gt": 5})).await.is_ok());
    }

    #[tokio::test]
    async fn failing_checks_say_both_values() {
        let error = assert(
            json!({"value": "Disabled", "equals": "Enabled", "message": "key must be enabled"}),
        )
        .await
        .unwrap_err();
        assert_eq!(error.code, "AssertionFailed");
        assert_eq!(
            error.message,
            r#"key must be enabled: expected a value that equals "Enabled", got "Disabled""#
        );
    }

    #[tokio::test]
    async fn exactly_one_comparison() {
        assert_eq!(
            assert(json!({"value": 1})).await.unwrap_err().code,
            "InvalidInput"
        );
        assert!(
            assert(json!({"value": 1, "equals": 1, "gt": 0}))
                .await
                .unwrap_err()
                .message
                .contains("only one")
        );
    }
}
