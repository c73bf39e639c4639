//! Two run reports of the same flow, one against moto and one against the KMS twin, compared by shape:
//! the same run status, the same steps with the same statuses (and error codes where both failed), and
//! step outputs and flow outputs with the same field paths, recursively (array items are compared in a
//! sorted order). Values are compared too, once what two independent KMS implementations cannot agree on
//! is masked (see [`normalized`]). A field only one peer answers must be allowed by
//! [`ALLOWED_ASYMMETRIES`], and a value moto is known to get wrong be listed in [`MOTO_UNFAITHFUL`].

use std::collections::BTreeSet;

use keyflow_twins::aws_kms::DEFAULT_ACCOUNT_ID;
use serde_json::Value;

use super::allowed::{ALLOWED_ASYMMETRIES, MOTO_UNFAITHFUL, Rule};

/// Fields whose values are random, compared by type only. Ids, ARNs, dates and accounts need no entry:
/// [`normalized`] masks them in every string.
pub const VOLATILE: &[&str] = &["CiphertextBlob"];

/// The account moto plays (its default).
pub const MOTO_ACCOUNT_ID: &str = "123456789012";

/// One of the two peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// moto's KMS server.
    Moto,
    /// keyflow's KMS twin.
    Twin,
}

/// What a comparison found.
#[derive(Default)]
pub struct Findings {
    /// Each difference, with its path and both sides.
    pub differences: Vec<String>,
    /// The rules of [`super::allowed`] that let a field differ, with their reasons.
    pub accepted: BTreeSet<String>,
}

/// Where a value sits: field names, array indices (after sorting, see [`sorted`]).
#[derive(Clone, Default)]
struct Path(Vec<String>);

impl Path {
    fn field(&self, name: &str) -> Path {
        let mut path = self.0.clone();
        path.push(name.to_string());
        Path(path)
    }

    fn index(&self, i: usize) -> Path {
        let mut path = self.0.clone();
        path.push(format!("[{i}]"));
        Path(path)
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(".").replace(".[", "["))
    }
}

/// Compares the reports of one flow run against moto and against the twin.
pub fn compare(moto: &Value, twin: &Value) -> Findings {
    let moto = &normalized(moto, MOTO_ACCOUNT_ID);
    let twin = &normalized(twin, DEFAULT_ACCOUNT_ID);
    let mut found = Findings::default();
    let root = Path::default();
    scalar(
        &mut found,
        &root.field("status"),
        &moto["status"],
        &twin["status"],
    );
    let ids = |report: &Value| -> Vec<String> {
        report["steps"]
            .as_array()
            .map(|steps| {
                let ids = steps.iter().filter_map(|s| s["id"].as_str());
                ids.map(str::to_string).collect()
            })
            .unwrap_or_default()
    };
    let (moto_ids, twin_ids) = (ids(moto), ids(twin));
    if moto_ids != twin_ids {
        let steps = format!("steps: moto {moto_ids:?}, twin {twin_ids:?}");
        found.differences.push(steps);
    }
    for id in moto_ids.iter().filter(|id| twin_ids.contains(id)) {
        let (m, t) = (step(moto, id), step(twin, id));
        let at = root.field("steps").field(id);
        scalar(&mut found, &at.field("status"), &m["status"], &t["status"]);
        if m["status"] == "failed" && t["status"] == "failed" {
            let code = at.field("error").field("code");
            scalar(&mut found, &code, &m["error"]["code"], &t["error"]["code"]);
        }
        let output = Output {
            pending: &[],
            of_block: m["block"].as_str(),
        };
        let (m, t) = (Some(&m["output"]), Some(&t["output"]));
        compare_value(&mut found, &at.field("output"), m, t, output);
    }
    compare_value(
        &mut found,
        &root.field("outputs"),
        Some(&moto["outputs"]),
        Some(&twin["outputs"]),
        Output::default(),
    );
    found
}

/// Panics with every difference between the two reports of `flow`, and both reports; prints the
/// differences that were allowed, and why.
pub fn assert_same(flow: &str, moto: &Value, twin: &Value) {
    let found = compare(moto, twin);
    let accepted: Vec<&str> = found.accepted.iter().map(String::as_str).collect();
    println!("{flow}: allowed differences:\n  {}", accepted.join("\n  "));
    assert!(
        found.differences.is_empty(),
        "{flow}: moto and the twin differ at {} paths:\n  {}\n\nmoto's report: {moto:#}\n\ntwin's report: {twin:#}",
        found.differences.len(),
        found.differences.join("\n  ")
    );
}

fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    let steps = report["steps"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    steps.iter().find(|s| s["id"] == id).unwrap_or(&Value::Null)
}

fn scalar(found: &mut Findings, path: &Path, moto: &Value, twin: &Value) {
    if moto != twin {
        found
            .differences
            .push(format!("{path}: moto {moto}, twin {twin}"));
    }
}

/// A rule that applies below the current object: the rest of its field path.
#[derive(Clone, Copy)]
struct Pending<'r> {
    rest: &'r str,
    rule: &'r Rule,
}

/// What is known of a value from where it sits.
#[derive(Clone, Copy, Default)]
struct Output<'a> {
    /// The rules whose shape encloses the value, with the rest of their field paths.
    pending: &'a [Pending<'a>],
    /// The block whose whole output the value is (or, for a `for_each` step, an item of).
    of_block: Option<&'a str>,
}

/// Compares two values (either may be absent) recursively.
fn compare_value(
    found: &mut Findings,
    path: &Path,
    moto: Option<&Value>,
    twin: Option<&Value>,
    at: Output,
) {
    match (moto, twin) {
        (None, None) => {}
        (Some(m), None) => found
            .differences
            .push(format!("{path}: moto {m}, twin absent")),
        (None, Some(t)) => found
            .differences
            .push(format!("{path}: moto absent, twin {t}")),
        (Some(Value::Object(m)), Some(Value::Object(t))) => {
            let names: BTreeSet<&String> = m.keys().chain(t.keys()).collect();
            // The rules of the response shape this object is, wherever a flow copied it.
            let rules = ALLOWED_ASYMMETRIES
                .iter()
                .chain(MOTO_UNFAITHFUL)
                .filter(|rule| {
                    let members = rule.shape.members;
                    rule.shape
                        .block
                        .is_none_or(|block| at.of_block == Some(block))
                        && names.iter().all(|name| members.contains(&name.as_str()))
                });
            let pending: Vec<Pending> = at
                .pending
                .iter()
                .copied()
                .chain(rules.map(|rule| Pending {
                    rest: rule.field,
                    rule,
                }))
                .collect();
            for name in names {
                let (a, b) = (m.get(name), t.get(name));
                let mut below = Vec::new();
                let mut exempt = false;
                for p in &pending {
                    match p.rest.split_once('.') {
                        Some((head, rest)) if head == name => below.push(Pending { rest, ..*p }),
                        None if p.rest == name && allows(p.rule, a, b) => {
                            exempt = true;
                            let rule = p.rule;
                            found.accepted.insert(format!(
                                "{}.{}: {}",
                                rule.shape.name, rule.field, rule.reason
                            ));
                        }
                        _ => {}
                    }
                }
                if !exempt {
                    let below = Output {
                        pending: &below,
                        of_block: None,
                    };
                    compare_value(found, &path.field(name), a, b, below);
                }
            }
        }
        (Some(Value::Array(m)), Some(Value::Array(t))) => {
            if m.len() != t.len() {
                found
                    .differences
                    .push(format!("{path}: moto {} items, twin {}", m.len(), t.len()));
            }
            let (m, t) = (sorted(m), sorted(t));
            // Items of unequal counts are compared as far as both go; the counts are reported above.
            for (i, (a, b)) in m.into_iter().zip(t).enumerate() {
                compare_value(found, &path.index(i), Some(a), Some(b), at);
            }
        }
        (Some(m), Some(t)) => scalar(found, path, m, t),
    }
}

/// Whether `rule` lets the field differ as it does: answered only by the side it names (an asymmetry),
/// or answered by both with any value (moto unfaithful).
fn allows(rule: &Rule, moto: Option<&Value>, twin: Option<&Value>) -> bool {
    matches!(
        (rule.only_on, moto.is_some(), twin.is_some()),
        (None, true, true) | (Some(Side::Moto), true, false) | (Some(Side::Twin), false, true)
    )
}

/// What differs legitimately between the peers, masked in every string: the peer's account id, key ids
/// (`mrk-` and UUIDs; also run and migration ids), RFC 3339 dates, and 32-digit hex (Qlik's fingerprints
/// of an ARN). [`VOLATILE`] values become their type. A string holding a JSON object (a key policy)
/// becomes that object, so that policies compare by content, not by formatting.
fn normalized(value: &Value, account: &str) -> Value {
    match value {
        Value::String(text) => {
            let text = masked(&text.replace(account, "<account>"));
            match serde_json::from_str::<Value>(&text) {
                Ok(document @ Value::Object(_)) => normalized(&document, account),
                _ => Value::String(text),
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| normalized(v, account)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| {
                    let v = if VOLATILE.contains(&k.as_str()) {
                        Value::String(format!("<{}>", kind(v)))
                    } else {
                        normalized(v, account)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `text` with key ids, UUIDs, RFC 3339 dates and 32-digit hex masked (see [`normalized`]).
fn masked(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let boundary = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
        let found = if !boundary {
            None
        } else if rest.starts_with(b"mrk-") && (uuid(&rest[4..]) || hex32(&rest[4..])) {
            let len = if uuid(&rest[4..]) { 36 } else { 32 };
            Some((4 + len, "mrk-<id>"))
        } else if uuid(rest) {
            Some((36, "<id>"))
        } else if hex32(rest) {
            Some((32, "<hex>"))
        } else {
            date(rest).map(|len| (len, "<date>"))
        };
        match found {
            Some((len, mask)) => {
                out.push_str(mask);
                at += len;
            }
            None => {
                let len = text[at..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[at..at + len]);
                at += len;
            }
        }
    }
    out
}

/// Whether `bytes` match `pattern` from the start, where `9` is a digit, `x` a hex digit, and any other
/// byte itself; and the match ends at a word boundary.
fn starts_like(bytes: &[u8], pattern: &[u8]) -> bool {
    bytes.len() >= pattern.len()
        && pattern.iter().zip(bytes).all(|(p, b)| match p {
            b'9' => b.is_ascii_digit(),
            b'x' => b.is_ascii_hexdigit(),
            _ => p == b,
        })
        && bytes
            .get(pattern.len())
            .is_none_or(|b| !b.is_ascii_alphanumeric())
}

fn uuid(bytes: &[u8]) -> bool {
    starts_like(bytes, b"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
}

fn hex32(bytes: &[u8]) -> bool {
    starts_like(bytes, &[b'x'; 32])
}

/// The length of the RFC 3339 date-time `bytes` start with (`2026-01-31T12:00:00.123Z`, `…+01:00`).
fn date(bytes: &[u8]) -> Option<usize> {
    let pattern = b"9999-99-99T99:99:99";
    let head = pattern.iter().zip(bytes).all(|(p, b)| match p {
        b'9' => b.is_ascii_digit(),
        _ => p == b,
    });
    if bytes.len() < pattern.len() || !head {
        return None;
    }
    let mut len = pattern.len();
    if bytes.get(len) == Some(&b'.') {
        len += 1 + bytes[len + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    }
    match bytes.get(len) {
        Some(b'Z') => Some(len + 1),
        Some(b'+' | b'-') if starts_like(&bytes[len + 1..], b"99:99") => Some(len + 6),
        _ => None,
    }
}

/// A JSON value's type.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An array's (normalized) items in an order both peers agree on. Neither AWS nor moto promises an order
/// for keys, aliases or tags.
fn sorted(items: &[Value]) -> Vec<&Value> {
    let mut items: Vec<&Value> = items.iter().collect();
    items.sort_by_cached_key(|item| item.to_string());
    items
}
