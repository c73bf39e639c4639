//! RFC 9535 conformance of the reference evaluator, on the JSONPath Compliance Test Suite.
//!
//! The suite is not part of the repository: its path comes from `KEYFLOW_JSONPATH_CTS` (`.ci/run` sets
//! it); without it the check says it was skipped. Every case goes through `JsonPathQuery`, the evaluator
//! flow references use (its own fast path for leading names and indices, jsonpath-rust for the rest).
//! jsonpath-rust's known deviations are listed by case name: any other failure fails the test, and so
//! does a listed deviation that starts to pass, so that the list stays true.

use keyflow_engine::expr::JsonPathQuery;
use serde_json::Value;

/// Cases jsonpath-rust 1.0 gets wrong, with why.
const KNOWN_DEVIATIONS: &[(&str, &str)] = &[
    (
        "basic, descendant segment, multiple selectors",
        "descendant order: nodes of several names are grouped by name, not by document order",
    ),
    (
        "basic, descendant segment, object traversal, multiple selectors",
        "descendant order: nodes of several names are grouped by name, not by document order",
    ),
    ("filter, nested", "a filter inside a filter selects nothing"),
    (
        "functions, count, result must be compared",
        "an ill-typed function use is accepted: count() must be compared",
    ),
    (
        "functions, length, result must be compared",
        "an ill-typed function use is accepted: length() must be compared",
    ),
    (
        "functions, length, non-singular query arg",
        "an ill-typed function use is accepted: length() of a non-singular query",
    ),
    (
        "functions, length, non-singular query arg, multiple index selectors",
        "an ill-typed function use is accepted: length() of a non-singular query",
    ),
    (
        "functions, length, non-singular query arg, multiple name selectors",
        "an ill-typed function use is accepted: length() of a non-singular query",
    ),
    (
        "functions, value, result must be compared",
        "an ill-typed function use is accepted: value() must be compared",
    ),
];

/// Whether the evaluator handles one case as the RFC says.
fn conforms(case: &Value) -> Result<(), String> {
    let selector = case["selector"].as_str().ok_or("case without selector")?;
    let parsed = JsonPathQuery::parse(selector);
    if case["invalid_selector"].as_bool().unwrap_or(false) {
        return match parsed {
            Err(_) => Ok(()),
            Ok(_) => Err(format!("`{selector}` is invalid but was accepted")),
        };
    }
    let query = parsed.map_err(|e| format!("`{selector}` did not parse: {e}"))?;
    let got = Value::Array(
        query
            .select(&case["document"])
            .into_iter()
            .cloned()
            .collect(),
    );
    let expected: Vec<&Value> = match (case.get("result"), case.get("results")) {
        (Some(result), _) => vec![result],
        (None, Some(Value::Array(results))) => results.iter().collect(),
        _ => return Err("case without result".into()),
    };
    if expected.contains(&&got) {
        Ok(())
    } else {
        Err(format!("`{selector}` gave {got}, expected {}", expected[0]))
    }
}

#[test]
fn the_reference_evaluator_conforms_to_rfc_9535() {
    let Ok(path) = std::env::var("KEYFLOW_JSONPATH_CTS") else {
        println!(
            "jsonpath CTS skipped: KEYFLOW_JSONPATH_CTS is not set (it points at jsonpath-cts.json)"
        );
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let suite: Value = serde_json::from_str(&text).expect("the suite is JSON");
    let cases = suite["tests"].as_array().expect("a `tests` array");
    let mut unexpected = Vec::new();
    let mut deviations_seen = Vec::new();
    let mut passed = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let known = KNOWN_DEVIATIONS.iter().any(|(n, _)| *n == name);
        match (conforms(case), known) {
            (Ok(()), false) => passed += 1,
            (Ok(()), true) => unexpected.push(format!(
                "{name}: listed as a deviation but now passes; remove it from the list"
            )),
            (Err(_), true) => deviations_seen.push(name),
            (Err(why), false) => unexpected.push(format!("{name}: {why}")),
        }
    }
    for (name, _) in KNOWN_DEVIATIONS {
        if !cases.iter().any(|c| c["name"] == *name) {
            unexpected.push(format!(
                "{name}: listed as a deviation but not in the suite"
            ));
        }
    }
    println!(
        "jsonpath CTS: {passed} of {} cases pass; {} known deviations of jsonpath-rust",
        cases.len(),
        deviations_seen.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} unexpected results:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert_eq!(passed + deviations_seen.len(), cases.len());
}
