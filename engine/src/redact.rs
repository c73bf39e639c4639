//! Redaction: the one place that decides how a secret is kept out of what keyflow shows and records.
//!
//! Two mechanisms, one placeholder ([`REDACTED`]):
//! - **by field**: a block declares which fields of its output hold secrets ([`SecretFields`]); those are
//!   replaced wherever the output is shown (reports, records, `keyflow plan`'s example outputs);
//! - **by value**: a later step may copy a secret (into a log message, a `core.set` output, an error), so
//!   every secret value the run learns — secret output fields, connection secrets read from `{ env }` /
//!   `{ file }` — is remembered ([`Secrets`]), and any string the run reports, records or logs has those
//!   values replaced.

use std::borrow::Cow;
use std::sync::RwLock;

use serde_json::Value;

use crate::block::BlockError;

/// Shown in place of a secret value, everywhere.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not masked by value (they would mask ordinary words); they are still
/// redacted by field.
const MIN_LEN: usize = 4;

/// The secret fields of a block's output: dotted paths (`Plaintext`, `Credentials.Token`), applied to each
/// item when the output is a `for_each` step's array of call outputs.
#[derive(Debug, Clone, Copy)]
pub struct SecretFields<'a> {
    paths: &'a [&'a str],
    each: bool,
}

impl<'a> SecretFields<'a> {
    /// The fields `paths` of one call's output.
    pub fn of(paths: &'a [&'a str]) -> SecretFields<'a> {
        SecretFields { paths, each: false }
    }

    /// The same fields in every item of an array of call outputs (a `for_each` step's output).
    pub fn each(self, each: bool) -> SecretFields<'a> {
        SecretFields { each, ..self }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Replaces every secret field present (and not null) with [`REDACTED`].
    pub fn redact(&self, output: &mut Value) {
        self.visit_mut(output, &mut |field| {
            *field = Value::String(REDACTED.into());
        });
    }

    fn visit_mut(&self, output: &mut Value, f: &mut impl FnMut(&mut Value)) {
        if self.paths.is_empty() {
            return;
        }
        if self.each {
            for item in output.as_array_mut().into_iter().flatten() {
                SecretFields::of(self.paths).visit_mut(item, f);
            }
            return;
        }
        for path in self.paths {
            let mut node = Some(&mut *output);
            for name in path.split('.') {
                node = node.and_then(|n| n.get_mut(name));
            }
            if let Some(field) = node.filter(|field| !field.is_null()) {
                f(field);
            }
        }
    }

    fn visit(&self, output: &Value, f: &mut impl FnMut(&Value)) {
        if self.paths.is_empty() {
            return;
        }
        if self.each {
            for item in output.as_array().into_iter().flatten() {
                SecretFields::of(self.paths).visit(item, f);
            }
            return;
        }
        for path in self.paths {
            let mut node = Some(output);
            for name in path.split('.') {
                node = node.and_then(|n| n.get(name));
            }
            if let Some(field) = node.filter(|field| !field.is_null()) {
                f(field);
            }
        }
    }
}

/// The secret values a run has learned, masked wherever they appear.
#[derive(Debug, Default)]
pub(crate) struct Secrets {
    values: RwLock<Vec<String>>,
}

impl Secrets {
    /// Remembers one secret value.
    pub fn add(&self, value: &str) {
        if value.chars().count() < MIN_LEN {
            return;
        }
        if let Ok(mut values) = self.values.write()
            && !values.iter().any(|v| v == value)
        {
            values.push(value.to_string());
            // Longest first, so that a secret containing another is masked whole.
            values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// Remembers the string values under the secret fields of an output.
    pub fn add_fields(&self, output: &Value, fields: SecretFields<'_>) {
        fields.visit(output, &mut |value| self.add_all(value));
    }

    fn add_all(&self, value: &Value) {
        match value {
            Value::String(text) => self.add(text),
            Value::Array(list) => list.iter().for_each(|v| self.add_all(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_all(v)),
            _ => {}
        }
    }

    /// `text` with every known secret replaced.
    pub fn mask_str<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Ok(values) = self.values.read() else {
            return Cow::Borrowed(text);
        };
        let mut text = Cow::Borrowed(text);
        for secret in values.iter() {
            if text.contains(secret.as_str()) {
                text = Cow::Owned(text.replace(secret.as_str(), REDACTED));
            }
        }
        text
    }

    /// Masks every string inside `value`.
    pub fn mask(&self, value: &mut Value) {
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(text) => {
                if let Cow::Owned(masked) = self.mask_str(text) {
                    *text = masked;
                }
            }
            Value::Array(list) => list.iter_mut().for_each(|v| self.mask(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.mask(v)),
            _ => {}
        }
    }

    /// An output as it may be shown: secret fields redacted, known secret values masked.
    pub fn shown(&self, output: &Value, fields: SecretFields<'_>) -> Value {
        let mut output = output.clone();
        self.show(&mut output, fields);
        output
    }

    /// Makes an output fit to be shown, in place: what [`Secrets::shown`] returns, without a copy.
    pub fn show(&self, output: &mut Value, fields: SecretFields<'_>) {
        fields.redact(output);
        self.mask(output);
    }

    /// Masks an error's code and message: a service may echo a secret in either.
    pub fn mask_error(&self, error: &mut BlockError) {
        if let Cow::Owned(masked) = self.mask_str(&error.message) {
            error.message = masked;
        }
        if let Cow::Owned(masked) = self.mask_str(&error.code) {
            error.code = masked;
        }
    }

    /// Whether no secret value is known yet.
    pub fn is_empty(&self) -> bool {
        self.values.read().map_or(true, |v| v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_fields_are_redacted_in_place() {
        let mut output =
            json!({"Plaintext": "c2VjcmV0", "KeyId": "k", "Nested": {"Token": "t"}, "Gone": null});
        SecretFields::of(&["Plaintext", "Nested.Token", "Absent", "Gone"]).redact(&mut output);
        assert_eq!(
            output,
            json!({"Plaintext": REDACTED, "KeyId": "k", "Nested": {"Token": REDACTED}, "Gone": null})
        );
        let mut list = json!([{"Plaintext": "a"}, {"Plaintext": "b"}]);
        SecretFields::of(&["Plaintext"])
            .each(true)
            .redact(&mut list);
        assert_eq!(
            list,
            json!([{"Plaintext": REDACTED}, {"Plaintext": REDACTED}])
        );
    }

    #[test]
    fn known_values_are_masked_anywhere() {
        let secrets = Secrets::default();
        secrets.add_fields(
            &json!({"Plaintext": "c2VjcmV0IGtleQ==", "KeyId": "k"}),
            SecretFields::of(&["Plaintext"]),
        );
        secrets.add("ab");
        let mut value = json!({"message": "got c2VjcmV0IGtleQ== back", "list": ["c2VjcmV0IGtleQ=="], "id": "ab"});
        secrets.mask(&mut value);
        assert_eq!(
            value,
            json!({"message": "got <redacted> back", "list": ["<redacted>"], "id": "ab"})
        );
    }

    #[test]
    fn an_error_code_is_masked_like_its_message() {
        let secrets = Secrets::default();
        secrets.add("k3y-canary-42");
        let mut error = BlockError::fatal("AUTH-k3y-canary-42", "bad key k3y-canary-42");
        secrets.mask_error(&mut error);
        assert_eq!(error.code, "AUTH-<redacted>");
        assert_eq!(error.message, "bad key <redacted>");
    }
}
