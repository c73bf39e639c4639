//! CreateKey, DescribeKey and ListKeys; the KeyMetadata every key-returning operation answers with; and the
//! Marker/Limit pagination the list operations share.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};

use keyflow_blocks::aws_kms::facts::Arn;

use super::call::Call;
use super::crypto;
use super::policy;
use super::rules::{self, Aliases, Tag};
use super::state::{KeyRecord, KeyState, KmsState, MultiRegionKeyType};
use super::wire::{KmsError, parse};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateKeyRequest {
    policy: Option<String>,
    description: Option<String>,
    key_usage: Option<String>,
    key_spec: Option<String>,
    customer_master_key_spec: Option<String>,
    origin: Option<String>,
    #[serde(default)]
    multi_region: bool,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    bypass_policy_lockout_safety_check: bool,
}

/// CreateKey: a new customer managed key in the caller's region.
pub fn create_key(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: CreateKeyRequest = parse(body)?;
    policy::authorize_iam(call.caller, call.account, "CreateKey")?;
    let spec = request
        .key_spec
        .or(request.customer_master_key_spec)
        .unwrap_or_else(|| "SYMMETRIC_DEFAULT".into());
    let usage = request
        .key_usage
        .unwrap_or_else(|| "ENCRYPT_DECRYPT".into());
    // A spec outside AWS's list was refused by the API model; one in it may still be unknown here.
    let usages = rules::usages_of(&spec).ok_or_else(|| {
        KmsError::unsupported(format!("KeySpec {spec} is not supported by the twin"))
    })?;
    if !usages.contains(&usage.as_str()) {
        return Err(KmsError::validation(format!(
            "KeyUsage {usage} is not compatible with KeySpec {spec}; use {}",
            usages.join(" or ")
        )));
    }
    if let Some(origin) = request.origin.as_deref().filter(|o| *o != "AWS_KMS") {
        return Err(KmsError::unsupported(format!(
            "Origin {origin} is not supported by the twin; only AWS_KMS keys are"
        )));
    }
    let description = request.description.unwrap_or_default();
    let tags = rules::tags_of(&request.tags)?;
    if tags.len() > rules::MAX_TAGS {
        return Err(too_many_tags());
    }
    let key_id = rules::new_key_id(request.multi_region)?;
    let arn = rules::key_arn(&call.caller.region, call.account, &key_id);
    let policy = match request.policy {
        Some(policy) => {
            policy::check_new(
                &policy,
                call.caller,
                &arn,
                request.bypass_policy_lockout_safety_check,
            )?;
            policy
        }
        None => policy::default_policy(call.account),
    };
    let key = KeyRecord {
        key_id: key_id.clone(),
        arn,
        creation_date: call.now,
        description,
        key_usage: usage,
        key_spec: spec,
        key_state: KeyState::Enabled,
        multi_region_key_type: request.multi_region.then_some(MultiRegionKeyType::Primary),
        primary_region: None,
        replica_regions: Vec::new(),
        deletion_date: None,
        pending_window_in_days: None,
        policy,
        tags,
        rotation: None,
        material: crypto::new_material()?,
    };
    let metadata = metadata(call.state, &call.caller.region, &key);
    call.state
        .region_mut(&call.caller.region)
        .keys
        .insert(key_id, key);
    Ok(json!({ "KeyMetadata": metadata }))
}

/// The `LimitExceededException` of a key with more than 50 tags.
pub fn too_many_tags() -> KmsError {
    KmsError::new(
        "LimitExceededException",
        format!(
            "A key can have at most {} tags; remove some first",
            rules::MAX_TAGS
        ),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyIdRequest {
    key_id: Option<String>,
}

/// DescribeKey.
pub fn describe_key(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: KeyIdRequest = parse(body)?;
    let key_id = call.target(&request.key_id, "keyId", Aliases::Accepted, "DescribeKey")?;
    let key = call.key(&key_id)?;
    Ok(json!({ "KeyMetadata": metadata(call.state, &call.caller.region, key) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    limit: Option<i32>,
    marker: Option<String>,
}

/// ListKeys: the region's keys, in key id order.
pub fn list_keys(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: ListRequest = parse(body)?;
    policy::authorize_iam(call.caller, call.account, "ListKeys")?;
    let keys = call
        .state
        .regions
        .get(&call.caller.region)
        .map(|r| {
            r.keys
                .values()
                .map(|k| {
                    (
                        k.key_id.clone(),
                        json!({"KeyId": k.key_id, "KeyArn": k.arn}),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let (keys, next) = page(keys, request.limit, (100, 1000), request.marker, "keys")?;
    Ok(with_marker(json!({ "Keys": keys }), next))
}

/// The KeyMetadata of `key`, of `region`, as AWS returns it.
pub fn metadata(state: &KmsState, region: &str, key: &KeyRecord) -> Value {
    let (algorithm_field, algorithms) = rules::algorithms(&key.key_spec, &key.key_usage);
    let account = Arn::parse(&key.arn).map_or("", |arn| arn.account);
    let mut metadata = json!({
        "AWSAccountId": account,
        "KeyId": key.key_id,
        "Arn": key.arn,
        "CreationDate": key.creation_date,
        "Enabled": key.key_state == KeyState::Enabled,
        "Description": key.description,
        "KeyUsage": key.key_usage,
        "KeyState": key.key_state.as_str(),
        "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": key.key_spec,
        "KeySpec": key.key_spec,
        "MultiRegion": key.multi_region_key_type.is_some(),
    });
    metadata[algorithm_field] = json!(algorithms);
    // AWS answers it for symmetric encryption keys of AWS_KMS origin (all of the twin's are that origin).
    if key.key_spec == "SYMMETRIC_DEFAULT" {
        metadata["CurrentKeyMaterialId"] = json!(crypto::material_id(key));
    }
    if key.key_state == KeyState::PendingDeletion
        && let Some(date) = key.deletion_date
    {
        metadata["DeletionDate"] = json!(date);
    }
    if key.key_state == KeyState::PendingReplicaDeletion {
        metadata["PendingDeletionWindowInDays"] = json!(key.pending_window_in_days);
    }
    if let Some(kind) = key.multi_region_key_type {
        let primary_region = match kind {
            MultiRegionKeyType::Primary => region,
            MultiRegionKeyType::Replica => key.primary_region.as_deref().unwrap_or(region),
        };
        let replicas = state
            .key(primary_region, &key.key_id)
            .map(|p| p.replica_regions.clone())
            .unwrap_or_default();
        let entry = |r: &str| json!({"Arn": rules::key_arn(r, account, &key.key_id), "Region": r});
        metadata["MultiRegionConfiguration"] = json!({
            "MultiRegionKeyType": match kind {
                MultiRegionKeyType::Primary => "PRIMARY",
                MultiRegionKeyType::Replica => "REPLICA",
            },
            "PrimaryKey": entry(primary_region),
            "ReplicaKeys": replicas.iter().map(|r| entry(r)).collect::<Vec<_>>(),
        });
    }
    metadata
}

/// One page of `items` (sorted by their names) after `marker`: at most `limit` (default and maximum as
/// given), and the marker of the next page when there is one.
pub fn page(
    items: Vec<(String, Value)>,
    limit: Option<i32>,
    (default, max): (i32, i32),
    marker: Option<String>,
    kind: &str,
) -> Result<(Vec<Value>, Option<String>), KmsError> {
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(KmsError::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: \
             Member must have value between 1 and {max}"
        )));
    }
    let start = match marker {
        None => None,
        Some(marker) => Some(
            URL_SAFE_NO_PAD
                .decode(&marker)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.strip_prefix(&format!("{kind}:")).map(str::to_string))
                .ok_or_else(|| {
                    KmsError::new(
                        "InvalidMarkerException",
                        "The marker is not one this operation returned; pass the NextMarker of the \
                         previous page, or no marker to start over",
                    )
                })?,
        ),
    };
    let mut rest = items
        .into_iter()
        .filter(|(name, _)| start.as_ref().is_none_or(|s| name >= s))
        .peekable();
    let taken: Vec<Value> = rest.by_ref().take(limit as usize).map(|(_, v)| v).collect();
    let next = rest
        .peek()
        .map(|(name, _)| URL_SAFE_NO_PAD.encode(format!("{kind}:{name}")));
    Ok((taken, next))
}

/// Adds `Truncated` and, when truncated, `NextMarker` to a list answer.
pub fn with_marker(mut answer: Value, next: Option<String>) -> Value {
    answer["Truncated"] = json!(next.is_some());
    if let Some(next) = next {
        answer["NextMarker"] = json!(next);
    }
    answer
}
