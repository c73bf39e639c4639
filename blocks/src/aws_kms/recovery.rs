//! Settling a call whose answer was lost (a retry after a timeout or a dropped connection, `keyflow
//! resume`): what the blocks that create or destroy read before they act again, so that a lost call is
//! never done twice. Each block's `recovery:` says which of these it uses.
//!
//! CreateKey is not idempotent in AWS: `aws-kms.create-key` writes [`IDEMPOTENCY_TAG`] with every key it
//! creates and, when recovering, looks for a key carrying the call's value ([`tagged_key`]) before
//! creating one.

use aws_sdk_kms::config::Region;
use aws_sdk_kms::types::{self, KeyState};
use keyflow_engine::block::{BlockContext, BlockError};
use sha2::{Digest, Sha256};

use super::facts::{Arn, MAX_TAG_VALUE};
use super::pages::{self, Page};
use super::shapes::{Tag, tags_out};
use super::{KmsClient, Operation, sdk_error};

/// The tag `aws-kms.create-key` writes on every key it creates: the call's idempotency key (run id, step
/// and item), so that a later attempt finds the key a lost attempt created. Operators see it in the console.
pub const IDEMPOTENCY_TAG: &str = "keyflow:idempotency-key";

/// The idempotency tag's value for the call's idempotency `key`: the key itself, or — when it is longer
/// than a tag value may be (a template's run nested deeply) — the lowercase hex SHA-256 of it (64
/// characters).
pub fn tag_value(key: &str) -> String {
    if key.chars().count() <= MAX_TAG_VALUE {
        return key.to_string();
    }
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The key of the connection's region carrying the idempotency tag with `value` and not pending deletion,
/// described: what a lost CreateKey of this call created. Keys are read newest-listed first; a key that
/// went away or that the caller may not read meanwhile is passed over.
pub async fn tagged_key(
    ctx: &BlockContext,
    kms: &KmsClient,
    value: &str,
) -> Result<Option<types::KeyMetadata>, BlockError> {
    let keys = pages::all(None, pages::KEYS, |marker, size| async move {
        kms.limit(ctx, Operation::ListKeys).await;
        let response = kms
            .sdk()
            .list_keys()
            .limit(size)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::ListKeys, e))?;
        Ok(Page {
            entries: response
                .keys()
                .iter()
                .filter_map(|k| k.key_id().map(str::to_string))
                .collect(),
            next: pages::next(response.truncated(), response.next_marker()),
        })
    })
    .await?;
    for key_id in keys.iter().rev() {
        let tags = match tags_of(ctx, kms, key_id, None).await {
            Ok(tags) => tags,
            Err(error) if passed_over(&error) => continue,
            Err(error) => return Err(error),
        };
        let ours = tags
            .iter()
            .any(|t| t.tag_key == IDEMPOTENCY_TAG && t.tag_value == value);
        if !ours {
            continue;
        }
        if let Some(metadata) = describe(ctx, kms, key_id, None).await?
            && !pending_deletion(&metadata)
        {
            return Ok(Some(metadata));
        }
    }
    Ok(None)
}

/// A key found to be gone or out of reach while looking through the account's keys.
fn passed_over(error: &BlockError) -> bool {
    matches!(
        error.code.as_str(),
        "NotFoundException" | "AccessDeniedException" | "KMSInvalidStateException"
    )
}

/// Whether a key is waiting to be deleted (a lost create's key someone scheduled for deletion is not
/// answered: it is on its way out).
pub fn pending_deletion(metadata: &types::KeyMetadata) -> bool {
    matches!(
        metadata.key_state(),
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    )
}

/// DescribeKey of `key_id` in `region` (the connection's when `None`); `None` when there is no such key.
pub async fn describe(
    ctx: &BlockContext,
    kms: &KmsClient,
    key_id: &str,
    region: Option<&str>,
) -> Result<Option<types::KeyMetadata>, BlockError> {
    kms.limit_in(
        ctx,
        Operation::DescribeKey.quota(),
        region.unwrap_or(kms.region()),
    )
    .await;
    let mut request = kms.sdk().describe_key().key_id(key_id).customize();
    if let Some(region) = region {
        request = request.config_override(
            aws_sdk_kms::config::Builder::default().region(Region::new(region.to_string())),
        );
    }
    match request.send().await {
        Ok(response) => Ok(response.key_metadata().cloned()),
        Err(error) => {
            let error = sdk_error(Operation::DescribeKey, error);
            if error.code == "NotFoundException" {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

/// Every tag of `key_id` in `region` (the connection's when `None`).
pub async fn tags_of(
    ctx: &BlockContext,
    kms: &KmsClient,
    key_id: &str,
    region: Option<&str>,
) -> Result<Vec<Tag>, BlockError> {
    pages::all(None, pages::TAGS, |marker, size| async move {
        kms.limit_in(
            ctx,
            Operation::ListResourceTags.quota(),
            region.unwrap_or(kms.region()),
        )
        .await;
        let mut request = kms
            .sdk()
            .list_resource_tags()
            .key_id(key_id)
            .limit(size)
            .set_marker(marker)
            .customize();
        if let Some(region) = region {
            request = request.config_override(
                aws_sdk_kms::config::Builder::default().region(Region::new(region.to_string())),
            );
        }
        let response = request
            .send()
            .await
            .map_err(|e| sdk_error(Operation::ListResourceTags, e))?;
        Ok(Page {
            entries: tags_out(response.tags()),
            next: pages::next(response.truncated(), response.next_marker()),
        })
    })
    .await
}

/// The key id inside a key id or key ARN (`arn:aws:kms:…:key/<id>` → `<id>`); anything else as given.
pub fn key_id_of(key: &str) -> &str {
    Arn::parse(key)
        .and_then(|arn| arn.resource.strip_prefix("key/"))
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_key_is_the_tag_value_and_a_long_one_its_sha256() {
        assert_eq!(tag_value("run-1/create_key/3"), "run-1/create_key/3");
        let long = format!("run/{}", "nested/".repeat(60));
        let hashed = tag_value(&long);
        assert_eq!(hashed.len(), 64);
        assert!(hashed.chars().all(|c| c.is_ascii_hexdigit()), "{hashed}");
        assert_eq!(hashed, tag_value(&long), "the same key gives the same tag");
        assert_eq!(tag_value(&"a".repeat(256)), "a".repeat(256));
        assert_eq!(
            tag_value(&"a".repeat(257)),
            "e8d95cc2b4bc198c54b40bd214df958afb65f5e73d2c2eafe0593cf5c635c1f0"
        );
    }

    #[test]
    fn the_key_id_of_an_arn_is_its_resource() {
        assert_eq!(
            key_id_of("arn:aws:kms:eu-west-1:111122223333:key/mrk-1234"),
            "mrk-1234"
        );
        assert_eq!(key_id_of("mrk-1234"), "mrk-1234");
        assert_eq!(key_id_of("alias/qlik"), "alias/qlik");
    }
}
