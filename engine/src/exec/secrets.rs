//! Masking secret values wherever they travel.
//!
//! Redaction by field (a block's declared secret outputs) covers the step that produced a secret; but a
//! later step may copy it (into a log message, a `core.set` output, an error). So every secret value the
//! run learns — secret output fields, connection secrets read from `{ env }` / `{ file }` — is also
//! remembered, and any string the run reports, records or logs has those values replaced by `<redacted>`.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::events::{RunEvent, RunObserver};
use super::report::REDACTED;
use crate::block::BlockError;

/// Secrets shorter than this are not masked by value (they would mask ordinary words); they are still
/// redacted by field.
const MIN_LEN: usize = 4;

/// The secret values a run has seen.
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

    /// Remembers the string values under the secret fields of an output (every item when `each`).
    pub fn add_fields(&self, output: &Value, paths: &[&str], each: bool) {
        if each {
            for item in output.as_array().into_iter().flatten() {
                self.add_fields(item, paths, false);
            }
            return;
        }
        for path in paths {
            let mut node = Some(output);
            for part in path.split('.') {
                node = node.and_then(|n| n.get(part));
            }
            if let Some(value) = node {
                self.add_all(value);
            }
        }
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

    /// Masks an error's message.
    pub fn mask_error(&self, error: &mut BlockError) {
        if let Cow::Owned(masked) = self.mask_str(&error.message) {
            error.message = masked;
        }
    }

    fn is_empty(&self) -> bool {
        self.values.read().map_or(true, |v| v.is_empty())
    }
}

/// Passes events on with every known secret masked, and writes them to `tracing`.
pub(crate) struct MaskingObserver {
    pub inner: Arc<dyn RunObserver>,
    pub secrets: Arc<Secrets>,
}

impl RunObserver for MaskingObserver {
    fn event(&self, event: &RunEvent) {
        if self.secrets.is_empty() {
            super::events::trace(event);
            return self.inner.event(event);
        }
        let mut event = event.clone();
        match &mut event {
            RunEvent::Log { message, .. } | RunEvent::Retrying { error: message, .. } => {
                *message = self.secrets.mask_str(message).into_owned();
            }
            RunEvent::Polling {
                summary: Some(summary),
                ..
            } => {
                *summary = self.secrets.mask_str(summary).into_owned();
            }
            RunEvent::StepFinished { report } => {
                if let Some(output) = &mut report.output {
                    self.secrets.mask(output);
                }
                if let Some(error) = &mut report.error {
                    self.secrets.mask_error(error);
                }
            }
            _ => {}
        }
        super::events::trace(&event);
        self.inner.event(&event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_values_are_masked_anywhere() {
        let secrets = Secrets::default();
        secrets.add_fields(
            &json!({"Plaintext": "c2VjcmV0IGtleQ==", "KeyId": "k"}),
            &["Plaintext"],
            false,
        );
        secrets.add("ab");
        let mut value = json!({"message": "got c2VjcmV0IGtleQ== back", "list": ["c2VjcmV0IGtleQ=="], "id": "ab"});
        secrets.mask(&mut value);
        assert_eq!(
            value,
            json!({"message": "got <redacted> back", "list": ["<redacted>"], "id": "ab"})
        );
    }
}
