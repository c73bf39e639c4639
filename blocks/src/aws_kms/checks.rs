//! Checks of inputs before any call, with errors that say what AWS would refuse and what to write. The
//! rules themselves are AWS's, stated once in [`super::facts`].

use indexmap::IndexMap;
use keyflow_engine::block::BlockError;
use serde_json::Value;

use super::facts::{self, ALIAS_PREFIX, MAX_ALIAS_NAME, MAX_TAG_KEY, MAX_TAG_VALUE};
use super::shapes::PolicyInput;

pub use super::facts::MAX_POLICY_BYTES;

/// An alias name: `alias/` then letters, digits, `:`, `/`, `_` or `-`; not `alias/aws/` (reserved for
/// AWS).
pub fn alias_name(input: &str, name: &str) -> Result<(), BlockError> {
    let Some(rest) = name.strip_prefix(ALIAS_PREFIX) else {
        return Err(BlockError::invalid_input(format!(
            "`{input}` must start with `alias/`, as in `alias/{name}`; got `{name}`"
        )));
    };
    if name.starts_with(facts::RESERVED_ALIAS_PREFIX) {
        return Err(BlockError::invalid_input(format!(
            "`{input}`: `{name}` is reserved for AWS managed keys (`alias/aws/…`); choose another name"
        )));
    }
    if rest.is_empty() || name.len() > MAX_ALIAS_NAME {
        return Err(BlockError::invalid_input(format!(
            "`{input}`: an alias name is 1 to {} characters after `alias/`",
            MAX_ALIAS_NAME - ALIAS_PREFIX.len()
        )));
    }
    if let Some(bad) = rest.chars().find(|c| !facts::is_alias_char(*c)) {
        return Err(BlockError::invalid_input(format!(
            "`{input}`: `{bad}` is not allowed in an alias name (letters, digits, `:`, `/`, `_`, `-`)"
        )));
    }
    Ok(())
}

/// Tag keys and values: keys 1–128 characters, not starting with `aws:` (reserved); values up to 256.
pub fn tags(tags: &IndexMap<String, String>) -> Result<(), BlockError> {
    for (key, value) in tags {
        tag_key(key)?;
        if value.chars().count() > MAX_TAG_VALUE {
            return Err(BlockError::invalid_input(format!(
                "tag `{key}`: a value is at most {MAX_TAG_VALUE} characters"
            )));
        }
    }
    Ok(())
}

/// One tag key.
pub fn tag_key(key: &str) -> Result<(), BlockError> {
    if key.is_empty() || key.chars().count() > MAX_TAG_KEY {
        return Err(BlockError::invalid_input(format!(
            "tag key `{key}`: a key is 1 to {MAX_TAG_KEY} characters"
        )));
    }
    if facts::is_reserved_tag_key(key) {
        return Err(BlockError::invalid_input(format!(
            "tag key `{key}`: keys starting with `aws:` are reserved for AWS"
        )));
    }
    Ok(())
}

/// A key policy as the JSON text AWS takes: an object, at most 32 KiB.
pub fn policy(input: &str, policy: &PolicyInput) -> Result<String, BlockError> {
    let (text, parsed) = match policy {
        PolicyInput::Document(map) => {
            let text =
                serde_json::to_string(map).map_err(|e| BlockError::invalid_input(e.to_string()))?;
            (text, Value::Object(map.clone()))
        }
        PolicyInput::Text(text) => {
            let parsed: Value = serde_json::from_str(text).map_err(|e| {
                BlockError::invalid_input(format!("`{input}` is not valid JSON: {e}"))
            })?;
            (text.clone(), parsed)
        }
    };
    if !parsed.is_object() {
        return Err(BlockError::invalid_input(format!(
            "`{input}` must be a JSON object (a policy document)"
        )));
    }
    if parsed.get("Statement").is_none() {
        return Err(BlockError::invalid_input(format!(
            "`{input}` has no `Statement`: a key policy is {{ \"Version\": \"2012-10-17\", \"Statement\": [...] }}"
        )));
    }
    if text.len() > MAX_POLICY_BYTES {
        return Err(BlockError::invalid_input(format!(
            "`{input}` is {} bytes; AWS accepts at most {MAX_POLICY_BYTES} (32 KiB)",
            text.len()
        )));
    }
    Ok(text)
}

/// A number within AWS's bounds.
pub fn within(input: &str, value: i32, min: i32, max: i32) -> Result<(), BlockError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(BlockError::invalid_input(format!(
            "`{input}` must be between {min} and {max}; got {value}"
        )))
    }
}

/// A region name as AWS writes them: `eu-west-1`, `us-gov-west-1`, `cn-north-1`.
pub fn region(input: &str, region: &str) -> Result<(), BlockError> {
    if facts::is_region(region) {
        Ok(())
    } else {
        Err(BlockError::invalid_input(format!(
            "`{input}`: `{region}` is not a region name such as `eu-central-1`"
        )))
    }
}

/// Whether a key spec and usage go together.
pub fn spec_and_usage(spec: &str, usage: &str) -> Result<(), BlockError> {
    let allowed = facts::usages_of(spec).unwrap_or_default();
    if allowed.contains(&usage) {
        return Ok(());
    }
    Err(BlockError::invalid_input(format!(
        "`key_usage` `{usage}` does not go with `key_spec` `{spec}`; it allows {}",
        allowed
            .iter()
            .map(|u| format!("`{u}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alias_names() {
        assert!(alias_name("alias_name", "alias/qlik-tenant_1/prod").is_ok());
        assert!(
            alias_name("alias_name", "qlik")
                .unwrap_err()
                .message
                .contains("must start with `alias/`")
        );
        assert!(
            alias_name("alias_name", "alias/aws/s3")
                .unwrap_err()
                .message
                .contains("reserved")
        );
        assert!(alias_name("alias_name", "alias/").is_err());
        assert!(
            alias_name("alias_name", "alias/a b")
                .unwrap_err()
                .message
                .contains("` ` is not allowed")
        );
    }

    #[test]
    fn tag_keys_and_policies() {
        assert!(tag_key("team").is_ok());
        assert!(
            tag_key("aws:owner")
                .unwrap_err()
                .message
                .contains("reserved")
        );
        assert!(tag_key("AWS:owner").is_err());
        let document = PolicyInput::Document(
            json!({"Version": "2012-10-17", "Statement": []})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert!(policy("policy", &document).is_ok());
        assert!(
            policy("policy", &PolicyInput::Text("{nope".into()))
                .unwrap_err()
                .message
                .contains("not valid JSON")
        );
        assert!(policy("policy", &PolicyInput::Text("[1]".into())).is_err());
        let big = format!(
            "{{\"Statement\": [], \"Pad\": \"{}\"}}",
            "x".repeat(MAX_POLICY_BYTES)
        );
        assert!(
            policy("policy", &PolicyInput::Text(big))
                .unwrap_err()
                .message
                .contains("32 KiB")
        );
    }

    #[test]
    fn specs_and_usages() {
        assert!(spec_and_usage("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT").is_ok());
        assert!(
            spec_and_usage("SYMMETRIC_DEFAULT", "SIGN_VERIFY")
                .unwrap_err()
                .message
                .contains("allows `ENCRYPT_DECRYPT`")
        );
        assert!(spec_and_usage("HMAC_256", "GENERATE_VERIFY_MAC").is_ok());
        assert!(spec_and_usage("ECC_NIST_P256", "ENCRYPT_DECRYPT").is_err());
        assert!(within("pending_window_in_days", 3, 7, 30).is_err());
        assert!(within("pending_window_in_days", 7, 7, 30).is_ok());
        assert!(region("replica_region", "eu-central-1").is_ok());
        assert!(region("replica_region", "us-gov-west-1").is_ok());
        assert!(region("replica_region", "Frankfurt").is_err());
        assert!(region("replica_region", "eu-central").is_err());
    }

    #[test]
    fn the_facts_the_twin_and_the_checks_once_disagreed_on_follow_aws() {
        // `:` is allowed in alias names (AWS's pattern `^[a-zA-Z0-9:/_-]+$`).
        assert!(alias_name("alias_name", "alias/app:prod").is_ok());
        // RSA keys encrypt or sign but do not agree keys; Ed25519 keys sign.
        assert!(spec_and_usage("RSA_2048", "KEY_AGREEMENT").is_err());
        assert!(spec_and_usage("ECC_NIST_EDWARDS25519", "SIGN_VERIFY").is_ok());
        assert!(spec_and_usage("SM2", "KEY_AGREEMENT").is_ok());
        // A region's middle words are letters (`^([a-z]+-){2,3}\d+$`).
        assert!(region("replica_region", "eu-west2-1").is_err());
    }
}
