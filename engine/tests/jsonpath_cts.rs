//! RFC 9535 conformance of `JsonPathQuery`, case by case against the JSONPath Compliance Test Suite, with
//! its fast path held to plain jsonpath-rust.
//!
//! The suite lives outside the repository; its path comes from `KEYFLOW_JSONPATH_CTS` (`.ci/run` sets it),
//! and without it the check says it was skipped. Every case runs three ways: through `JsonPathQuery::select`
//! (leading names and indices navigated directly, the rest handed to jsonpath-rust), through
//! `JsonPathQuery::select_from` started below the root at every depth the executor may start from, and
//! through plain jsonpath-rust. jsonpath-rust's own deviations are listed by case name; a failure not
//! listed, a listed deviation that now passes, or a case where our evaluator does worse than plain
//! jsonpath-rust all fail the test.

use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use keyflow_engine::expr::JsonPathQuery;
use keyflow_engine::expr::jsonpath::Step;
use serde_json::Value;

/// Cases jsonpath-rust 1.0 gets wrong, each with why. Plain jsonpath-rust fails them too, so they are
/// not the fast path's doing.
const KNOWN_DEVIATIONS: &[(&str, &str)] = &[
    (
        "basic, descendant segment, multiple selectors",
        "`$..['a','d']`: descendants are grouped by selector, not listed in document order",
    ),
    (
        "basic, descendant segment, object traversal, multiple selectors",
        "`$..['a','d']` over objects: descendants are grouped by selector, not in document order",
    ),
    (
        "filter, nested",
        "`$[?@[?@>1]]`: a filter inside a filter selects nothing",
    ),
    (
        "functions, count, result must be compared",
        "ill-typed `count(@..*)` as a test is accepted (its result is a value, not a logical)",
    ),
    (
        "functions, length, result must be compared",
        "ill-typed `length(@.a)` as a test is accepted (its result is a value, not a logical)",
    ),
    (
        "functions, length, non-singular query arg",
        "ill-typed `length(@.*)` is accepted (the argument must be a singular query)",
    ),
    (
        "functions, length, non-singular query arg, multiple index selectors",
        "ill-typed `length(@[1, 2])` is accepted (the argument must be a singular query)",
    ),
    (
        "functions, length, non-singular query arg, multiple name selectors",
        "ill-typed `length(@['a', 'b'])` is accepted (the argument must be a singular query)",
    ),
    (
        "functions, value, result must be compared",
        "ill-typed `value(@.a)` as a test is accepted (its result is a value, not a logical)",
    ),
];

/// What an evaluator did with one case.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// The selector was refused.
    Refused(String),
    /// The nodes it selected, as an array.
    Selected(Value),
}

/// The outcome the suite expects.
enum Expected<'a> {
    Invalid,
    /// Any one of these arrays (several when the order is not fixed).
    OneOf(Vec<&'a Value>),
}

impl Expected<'_> {
    fn of(case: &Value) -> Result<Expected<'_>, String> {
        if case["invalid_selector"].as_bool() == Some(true) {
            return Ok(Expected::Invalid);
        }
        match (case.get("result"), case.get("results")) {
            (Some(result), _) => Ok(Expected::OneOf(vec![result])),
            (None, Some(Value::Array(results))) => Ok(Expected::OneOf(results.iter().collect())),
            _ => Err("the case has neither `result`, `results` nor `invalid_selector`".into()),
        }
    }

    /// `Ok` when `outcome` is what the RFC says, or why not.
    fn judge(&self, selector: &str, outcome: &Outcome) -> Result<(), String> {
        match (self, outcome) {
            (Expected::Invalid, Outcome::Refused(_)) => Ok(()),
            (Expected::Invalid, Outcome::Selected(got)) => Err(format!(
                "`{selector}` is invalid but was accepted (gave {got})"
            )),
            (Expected::OneOf(_), Outcome::Refused(why)) => {
                Err(format!("`{selector}` is valid but was refused: {why}"))
            }
            (Expected::OneOf(any), Outcome::Selected(got)) if any.contains(&got) => Ok(()),
            (Expected::OneOf(any), Outcome::Selected(got)) => {
                Err(format!("`{selector}` gave {got}, expected {}", any[0]))
            }
        }
    }
}

/// Our evaluator, from the root.
fn ours(selector: &str, document: &Value) -> Outcome {
    match JsonPathQuery::parse(selector) {
        Err(why) => Outcome::Refused(why),
        Ok(query) => Outcome::Selected(array(query.select(document))),
    }
}

/// Plain jsonpath-rust: its grammar and its evaluation, no fast path.
fn plain(selector: &str, document: &Value) -> Outcome {
    let query = match parse_json_path(selector) {
        Err(why) => return Outcome::Refused(why.to_string()),
        Ok(query) => query,
    };
    match js_path_process(&query, document) {
        Ok(found) => Outcome::Selected(array(found.into_iter().map(|r| r.val).collect())),
        Err(why) => Outcome::Refused(format!("evaluation failed: {why}")),
    }
}

/// Our evaluator started below the root after `skip` leading name/index segments, as the executor starts
/// a reference at its context entry. `None` when the query cannot be started there (a filter reads `$`,
/// or the prefix selects nothing, so the executor would never get that far).
fn ours_from(query: &JsonPathQuery, document: &Value, skip: usize) -> Option<Value> {
    if !query.is_local() {
        return None;
    }
    let mut node = document;
    for i in 0..skip {
        node = match query.step(i)? {
            Step::Name(name) => node.get(name)?,
            Step::Index(index) => {
                let items = node.as_array()?;
                let at = if index < 0 {
                    i64::try_from(items.len()).ok()? + index
                } else {
                    index
                };
                items.get(usize::try_from(at).ok()?)?
            }
        };
    }
    Some(array(query.select_from(node, skip)))
}

fn array(nodes: Vec<&Value>) -> Value {
    Value::Array(nodes.into_iter().cloned().collect())
}

/// What one case found.
#[derive(Default)]
struct Tally {
    passed: usize,
    deviations: Vec<&'static str>,
    /// Evaluations started below the root (`select_from`), over all cases.
    from_below: usize,
    /// Failures that are not listed, listed deviations that pass, fast-path disagreements.
    unexpected: Vec<String>,
}

impl Tally {
    fn run(&mut self, case: &Value) {
        let name = case["name"].as_str().unwrap_or("(unnamed)");
        let selector = case["selector"].as_str().unwrap_or_default();
        let document = &case["document"];
        let expected = match Expected::of(case) {
            Ok(expected) => expected,
            Err(why) => return self.unexpected.push(format!("{name}: {why}")),
        };
        let verdict = expected.judge(selector, &ours(selector, document));
        let plain_verdict = expected.judge(selector, &plain(selector, document));
        if verdict.is_err() && plain_verdict.is_ok() {
            self.unexpected.push(format!(
                "{name}: the fast path fails a case plain jsonpath-rust passes: {}",
                verdict.as_ref().err().map_or("", String::as_str)
            ));
        }
        if let (Expected::OneOf(any), Ok(query)) = (&expected, JsonPathQuery::parse(selector)) {
            let prefix = (0..).take_while(|&i| query.step(i).is_some()).count();
            for skip in 1..=prefix {
                let Some(got) = ours_from(&query, document, skip) else {
                    continue;
                };
                self.from_below += 1;
                if !any.contains(&&got) && verdict.is_ok() {
                    self.unexpected.push(format!(
                        "{name}: `{selector}` started after {skip} segment(s) gave {got}, expected {}",
                        any[0]
                    ));
                }
            }
        }
        let known = KNOWN_DEVIATIONS.iter().find(|(n, _)| *n == name);
        match (verdict, known) {
            (Ok(()), None) => self.passed += 1,
            (Ok(()), Some(_)) => self.unexpected.push(format!(
                "{name}: listed as a known deviation but now passes; take it off the list"
            )),
            (Err(_), Some((listed, _))) => self.deviations.push(listed),
            (Err(why), None) => self.unexpected.push(format!("{name}: {why}")),
        }
    }
}

#[test]
fn json_path_query_passes_the_compliance_suite_but_for_listed_deviations() {
    let path = match std::env::var("KEYFLOW_JSONPATH_CTS") {
        Ok(path) if !path.is_empty() => path,
        _ => {
            println!(
                "jsonpath CTS skipped: KEYFLOW_JSONPATH_CTS is not set (point it at the compliance suite's cts.json)"
            );
            return;
        }
    };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("KEYFLOW_JSONPATH_CTS={path}: cannot read it: {e}"));
    let suite: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("KEYFLOW_JSONPATH_CTS={path}: not JSON: {e}"));
    let cases = suite["tests"]
        .as_array()
        .unwrap_or_else(|| panic!("KEYFLOW_JSONPATH_CTS={path}: no `tests` array"));
    assert!(!cases.is_empty(), "KEYFLOW_JSONPATH_CTS={path}: no cases");

    let mut tally = Tally::default();
    for case in cases {
        tally.run(case);
    }
    for (name, _) in KNOWN_DEVIATIONS {
        if !cases.iter().any(|case| case["name"] == *name) {
            tally.unexpected.push(format!(
                "{name}: listed as a known deviation but not in the suite"
            ));
        }
    }

    println!(
        "jsonpath CTS: {} passed, {} known deviations, {} total ({} unexpected; {} runs started below the root)",
        tally.passed,
        tally.deviations.len(),
        cases.len(),
        tally.unexpected.len(),
        tally.from_below
    );
    for name in &tally.deviations {
        println!("  known deviation: {name}");
    }
    assert!(
        tally.unexpected.is_empty(),
        "{} unexpected result(s):\n{}",
        tally.unexpected.len(),
        tally.unexpected.join("\n")
    );
    assert_eq!(tally.passed + tally.deviations.len(), cases.len());
}
