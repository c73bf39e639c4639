//! Tags: TagResource, UntagResource and ListResourceTags. Keys starting `aws:` are AWS's; a key holds at
//! most 50 tags.

use serde::Deserialize;
use serde_json::{Value, json};

use super::call::{Call, not_pending};
use super::keys::{page, too_many_tags, with_marker};
use super::rules::{self, Aliases, Tag};
use super::wire::{KmsError, missing, parse};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagRequest {
    key_id: Option<String>,
    tags: Option<Vec<Tag>>,
    tag_keys: Option<Vec<String>>,
}

/// TagResource: adds tags, replacing the values of keys it already has.
pub fn tag_resource(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: TagRequest = parse(body)?;
    let tags = rules::tags_of(request.tags.as_deref().ok_or_else(|| missing("tags"))?)?;
    let key_id = call.target(&request.key_id, "keyId", Aliases::Refused, "TagResource")?;
    let key = call.key_mut(&key_id)?;
    not_pending(key)?;
    let mut merged = key.tags.clone();
    merged.extend(tags);
    if merged.len() > rules::MAX_TAGS {
        return Err(too_many_tags());
    }
    key.tags = merged;
    Ok(json!({}))
}

/// UntagResource: removes tags by key; keys the key does not have are ignored.
pub fn untag_resource(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: TagRequest = parse(body)?;
    let keys = request.tag_keys.ok_or_else(|| missing("tagKeys"))?;
    for tag_key in &keys {
        rules::check_tag_key(tag_key)?;
    }
    let key_id = call.target(&request.key_id, "keyId", Aliases::Refused, "UntagResource")?;
    let key = call.key_mut(&key_id)?;
    not_pending(key)?;
    for tag_key in &keys {
        key.tags.remove(tag_key);
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsRequest {
    key_id: Option<String>,
    limit: Option<i32>,
    marker: Option<String>,
}

/// ListResourceTags, in tag key order.
pub fn list_resource_tags(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: ListTagsRequest = parse(body)?;
    let key_id = call.target(
        &request.key_id,
        "keyId",
        Aliases::Refused,
        "ListResourceTags",
    )?;
    let tags = rules::tag_list(&call.key(&key_id)?.tags)
        .into_iter()
        .map(|t| (t.tag_key.clone(), json!(t)))
        .collect();
    let (tags, next) = page(tags, request.limit, (50, 50), request.marker, "tags")?;
    Ok(with_marker(json!({ "Tags": tags }), next))
}
