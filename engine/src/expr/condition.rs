//! Conditions, compiled: `if:`, `until:` and `core.assert` all evaluate these.

use std::cmp::Ordering;

use regex::Regex;
use serde_json::Value;

use super::reference::Reference;
use super::scope::Scope;
use super::value::{ExprError, ExprIssue, Leaf, ValueExpr};
use crate::model::ConditionSpec;
use crate::source::YamlPath;

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Condition {
    /// A test of the value a reference selects.
    Test {
        /// The tested value.
        path: Box<Reference>,
        /// The test.
        test: Test,
    },
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
}

/// What is tested about a value.
#[derive(Debug, Clone)]
pub enum Test {
    /// A comparison with a literal or a reference.
    Compare(Comparison, ValueExpr),
    /// `exists: true|false`.
    Exists(bool),
    /// `matches: regex`.
    Matches(Regex),
}

/// The comparisons of conditions and `core.assert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `equals`.
    Equals,
    /// `not_equals`.
    NotEquals,
    /// `in`.
    In,
    /// `gt`.
    Gt,
    /// `lt`.
    Lt,
}

impl Comparison {
    /// The keyword as written in YAML.
    pub fn keyword(self) -> &'static str {
        match self {
            Comparison::Equals => "equals",
            Comparison::NotEquals => "not_equals",
            Comparison::In => "in",
            Comparison::Gt => "gt",
            Comparison::Lt => "lt",
        }
    }

    /// Whether `value` compares as required with `operand`.
    pub fn holds(self, value: &Value, operand: &Value) -> bool {
        match self {
            Comparison::Equals => json_equal(value, operand),
            Comparison::NotEquals => !json_equal(value, operand),
            Comparison::In => operand
                .as_array()
                .is_some_and(|items| items.iter().any(|item| json_equal(value, item))),
            Comparison::Gt => order(value, operand) == Some(Ordering::Greater),
            Comparison::Lt => order(value, operand) == Some(Ordering::Less),
        }
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Numbers by value, strings in order; anything else does not compare.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Condition {
    /// Compiles a written condition; problems go to `issues` and give `None`.
    pub fn compile(
        spec: &ConditionSpec,
        at: &YamlPath,
        issues: &mut Vec<ExprIssue>,
    ) -> Option<Condition> {
        let mut problem = |message: String| {
            issues.push(ExprIssue {
                at: at.clone(),
                text: String::new(),
                error: ExprError::Condition(message),
            });
            None
        };
        let combinators: Vec<&str> = [
            ("all", spec.all.is_some()),
            ("any", spec.any.is_some()),
            ("not", spec.not.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        let tests = written_tests(spec);
        match (combinators.as_slice(), spec.path.as_deref(), tests.as_slice()) {
            ([], None, []) => problem(
                "empty condition: give `path` with a test such as `equals`, or `all`, `any` or `not`".into(),
            ),
            ([one], None, []) => Some(match *one {
                "all" => Condition::All(compile_list(spec.all.as_deref(), at, "all", issues)?),
                "any" => Condition::Any(compile_list(spec.any.as_deref(), at, "any", issues)?),
                _ => {
                    let inner = spec.not.as_deref()?;
                    Condition::Not(Box::new(Condition::compile(inner, &at.key("not"), issues)?))
                }
            }),
            ([_, _, ..], _, _) => problem(format!(
                "a condition has one of `all`, `any` or `not`, not {}",
                quoted_list(&combinators)
            )),
            ([_, ..], _, _) => problem(format!(
                "`{}` combines other conditions and cannot have `path` or a test beside it; \
                 move them into a condition of the list",
                combinators[0]
            )),
            ([], None, [test, ..]) => problem(format!("`{test}` needs a `path` to test")),
            ([], Some(_), []) => problem(
                "`path` needs a test: `equals`, `not_equals`, `in`, `exists`, `matches`, `gt` or `lt`".into(),
            ),
            ([], Some(path), [_]) => {
                let path = compile_path(path, &at.key("path"), issues)?;
                let test = compile_test(spec, at, issues)?;
                Some(Condition::Test { path: Box::new(path), test })
            }
            ([], Some(_), _) => problem(format!(
                "a condition has one test, not {}; combine several with `all` or `any`",
                quoted_list(&tests)
            )),
        }
    }

    /// Whether the condition holds in `scope`. A path that selects nothing makes every test false except
    /// `exists: false`.
    pub fn holds(&self, scope: &Scope<'_>) -> bool {
        match self {
            Condition::All(all) => all.iter().all(|c| c.holds(scope)),
            Condition::Any(any) => any.iter().any(|c| c.holds(scope)),
            Condition::Not(inner) => !inner.holds(scope),
            Condition::Test { path, test } => {
                let mut nodes = scope.select(path);
                let value = if path.is_singular() {
                    nodes.pop().map(|v| v.into_owned())
                } else if nodes.is_empty() {
                    None
                } else {
                    Some(Value::Array(
                        nodes.into_iter().map(|v| v.into_owned()).collect(),
                    ))
                };
                match (test, value) {
                    (Test::Exists(expected), value) => value.is_some() == *expected,
                    (_, None) => false,
                    (Test::Matches(regex), Some(Value::String(text))) => regex.is_match(&text),
                    (Test::Matches(_), Some(_)) => false,
                    (Test::Compare(comparison, operand), Some(value)) => operand
                        .resolve(scope)
                        .is_ok_and(|operand| comparison.holds(&value, &operand)),
                }
            }
        }
    }

    /// Calls `f` with every reference and template inside, and where it is.
    pub fn visit<'a>(&'a self, at: &YamlPath, f: &mut impl FnMut(&YamlPath, Leaf<'a>)) {
        match self {
            Condition::All(list) | Condition::Any(list) => {
                let key = if matches!(self, Condition::All(_)) {
                    "all"
                } else {
                    "any"
                };
                for (i, c) in list.iter().enumerate() {
                    c.visit(&at.key(key).index(i), f);
                }
            }
            Condition::Not(inner) => inner.visit(&at.key("not"), f),
            Condition::Test { path, test } => {
                f(&at.key("path"), Leaf::Ref(path));
                if let Test::Compare(comparison, operand) = test {
                    operand.visit(&at.key(comparison.keyword()), f);
                }
            }
        }
    }
}

fn written_tests(spec: &ConditionSpec) -> Vec<&'static str> {
    [
        ("equals", spec.equals.is_some()),
        ("not_equals", spec.not_equals.is_some()),
        ("in", spec.in_list.is_some()),
        ("exists", spec.exists.is_some()),
        ("matches", spec.matches.is_some()),
        ("gt", spec.gt.is_some()),
        ("lt", spec.lt.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect()
}

fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn compile_list(
    list: Option<&[ConditionSpec]>,
    at: &YamlPath,
    key: &str,
    issues: &mut Vec<ExprIssue>,
) -> Option<Vec<Condition>> {
    let list = list.unwrap_or_default();
    if list.is_empty() {
        issues.push(ExprIssue {
            at: at.key(key),
            text: String::new(),
            error: ExprError::Condition(format!("`{key}` needs at least one condition")),
        });
        return None;
    }
    let compiled: Vec<Option<Condition>> = list
        .iter()
        .enumerate()
        .map(|(i, c)| Condition::compile(c, &at.key(key).index(i), issues))
        .collect();
    compiled.into_iter().collect()
}

fn compile_path(text: &str, at: &YamlPath, issues: &mut Vec<ExprIssue>) -> Option<Reference> {
    if !Reference::looks_like(text) {
        issues.push(ExprIssue {
            at: at.clone(),
            text: text.to_string(),
            error: ExprError::Condition(format!(
                "`path` is a reference starting with `$.`, such as `$.steps.x.output.state`; found `{text}`"
            )),
        });
        return None;
    }
    match ValueExpr::compile(&Value::String(text.to_string()), at, issues) {
        ValueExpr::Ref(reference) => Some(*reference),
        _ => None,
    }
}

fn compile_test(spec: &ConditionSpec, at: &YamlPath, issues: &mut Vec<ExprIssue>) -> Option<Test> {
    if let Some(expected) = spec.exists {
        return Some(Test::Exists(expected));
    }
    if let Some(pattern) = &spec.matches {
        return match Regex::new(pattern) {
            Ok(regex) => Some(Test::Matches(regex)),
            Err(error) => {
                issues.push(ExprIssue {
                    at: at.key("matches"),
                    text: pattern.clone(),
                    error: ExprError::Regex(error.to_string()),
                });
                None
            }
        };
    }
    let (comparison, operand) = [
        (Comparison::Equals, &spec.equals),
        (Comparison::NotEquals, &spec.not_equals),
        (Comparison::In, &spec.in_list),
        (Comparison::Gt, &spec.gt),
        (Comparison::Lt, &spec.lt),
    ]
    .into_iter()
    .find_map(|(comparison, operand)| operand.as_ref().map(|o| (comparison, o)))?;
    let operand = ValueExpr::compile(operand, &at.key(comparison.keyword()), issues);
    Some(Test::Compare(comparison, operand))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{StepEntries, StepEntry};
    use serde_json::json;
    use std::sync::Arc;

    fn condition(yaml: &str) -> Result<Condition, Vec<String>> {
        let spec: ConditionSpec = serde_yaml::from_str(yaml).expect("yaml");
        let mut issues = Vec::new();
        match Condition::compile(&spec, &YamlPath::root(), &mut issues) {
            Some(c) if issues.is_empty() => Ok(c),
            _ => Err(issues
                .into_iter()
                .map(|i| match i.error {
                    ExprError::Condition(m) | ExprError::Regex(m) => m,
                    other => format!("{other:?}"),
                })
                .collect()),
        }
    }

    fn holds(yaml: &str) -> bool {
        let mut steps = StepEntries::new();
        let output = json!({"state": "Completed", "progress": 100, "tags": ["a", "b"], "at": "2026-01-02T00:00:00Z"});
        steps.insert(
            "m".into(),
            Arc::new(StepEntry::succeeded(&output).to_value()),
        );
        let params = json!({"want": "Completed", "n": 100.0});
        let run = json!({});
        let scope = Scope {
            params: &params,
            run: &run,
            steps: &steps,
            item: None,
            output: None,
        };
        condition(yaml).expect(yaml).holds(&scope)
    }

    #[test]
    fn comparisons() {
        assert!(holds("{path: $.steps.m.output.state, equals: Completed}"));
        assert!(holds(
            "{path: $.steps.m.output.state, equals: $.params.want}"
        ));
        assert!(holds(
            "{path: $.steps.m.output.progress, equals: $.params.n}"
        ));
        assert!(holds(
            "{path: $.steps.m.output.state, in: [New, Completed]}"
        ));
        assert!(holds("{path: $.steps.m.output.progress, gt: 50}"));
        assert!(!holds("{path: $.steps.m.output.progress, lt: 50}"));
        assert!(holds(
            "{path: $.steps.m.output.at, gt: '2026-01-01T00:00:00Z'}"
        ));
        assert!(holds("{path: $.steps.m.output.state, matches: '^Comp'}"));
        assert!(holds("{path: '$.steps.m.output.tags[*]', equals: [a, b]}"));
        assert!(!holds("{path: $.steps.m.output.state, equals: 5}"));
    }

    #[test]
    fn missing_paths_are_false_except_not_exists() {
        assert!(!holds("{path: $.steps.m.output.nope, equals: 1}"));
        assert!(!holds("{path: $.steps.m.output.nope, not_equals: 1}"));
        assert!(holds("{path: $.steps.m.output.nope, exists: false}"));
        assert!(holds("{path: $.steps.other.output, exists: false}"));
        assert!(holds("{not: {path: $.steps.m.output.nope, exists: true}}"));
    }

    #[test]
    fn combinators() {
        assert!(holds(
            "{all: [{path: $.steps.m.status, equals: succeeded}, {path: $.steps.m.output.progress, gt: 99}]}"
        ));
        assert!(holds(
            "{any: [{path: $.steps.m.output.x, exists: true}, {path: $.steps.m.output.state, equals: Completed}]}"
        ));
    }

    #[test]
    fn malformed_conditions_say_what_to_write() {
        assert!(condition("{}").unwrap_err()[0].contains("empty condition"));
        assert!(condition("{path: $.params.a}").unwrap_err()[0].contains("needs a test"));
        assert!(
            condition("{path: $.params.a, equals: 1, gt: 2}").unwrap_err()[0].contains("one test")
        );
        assert!(condition("{equals: 1}").unwrap_err()[0].contains("needs a `path`"));
        assert!(condition("{all: [], any: []}").unwrap_err()[0].contains("one of"));
        assert!(condition("{path: x, equals: 1}").unwrap_err()[0].contains("reference"));
        assert!(condition("{path: $.params.a, matches: '('}").is_err());
    }
}
