//! ReplicateKey: a replica of a multi-Region primary key in another region, with the same key id and
//! material but its own policy, description and tags.

use serde::Deserialize;
use serde_json::{Value, json};

use super::call::{Call, not_pending};
use super::keys::{metadata, too_many_tags};
use super::policy;
use super::rules::{self, Aliases, Tag};
use super::state::{KeyRecord, KeyState, MultiRegionKeyType};
use super::wire::{KmsError, parse, required};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReplicateRequest {
    key_id: Option<String>,
    replica_region: Option<String>,
    policy: Option<String>,
    #[serde(default)]
    bypass_policy_lockout_safety_check: bool,
    description: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

/// The region a ReplicateKey request replicates to (its form is the API model's, checked before).
pub fn replica_region(body: &Value) -> Result<String, KmsError> {
    let request: ReplicateRequest = parse(body)?;
    Ok(required(&request.replica_region, "replicaRegion")?.to_string())
}

/// ReplicateKey.
pub fn replicate_key(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: ReplicateRequest = parse(body)?;
    let region = replica_region(body)?;
    let description = request.description.unwrap_or_default();
    let tags = rules::tags_of(&request.tags)?;
    if tags.len() > rules::MAX_TAGS {
        return Err(too_many_tags());
    }
    let key_id = call.target(&request.key_id, "keyId", Aliases::Refused, "ReplicateKey")?;
    let primary = call.key(&key_id)?;
    match primary.multi_region_key_type {
        None => {
            return Err(KmsError::unsupported(format!(
                "{} is not a multi-Region key; only multi-Region primary keys can be replicated",
                primary.arn
            )));
        }
        Some(MultiRegionKeyType::Replica) => {
            return Err(KmsError::unsupported(format!(
                "{} is a multi-Region replica key; replicate its primary key instead",
                primary.arn
            )));
        }
        Some(MultiRegionKeyType::Primary) => {}
    }
    not_pending(primary)?;
    if region == call.caller.region
        || primary.replica_regions.contains(&region)
        || call.state.key(&region, &key_id).is_some()
    {
        return Err(KmsError::new(
            "AlreadyExistsException",
            format!("{} already has a key in {region}", primary.arn),
        ));
    }
    let arn = rules::key_arn(&region, call.account, &key_id);
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
    let replica = KeyRecord {
        key_id: key_id.clone(),
        arn,
        creation_date: call.now,
        description,
        key_usage: primary.key_usage.clone(),
        key_spec: primary.key_spec.clone(),
        key_state: KeyState::Enabled,
        multi_region_key_type: Some(MultiRegionKeyType::Replica),
        primary_region: Some(call.caller.region.clone()),
        replica_regions: Vec::new(),
        deletion_date: None,
        pending_window_in_days: None,
        policy: policy.clone(),
        tags: tags.clone(),
        rotation: None,
        material: primary.material.clone(),
    };
    call.key_mut(&key_id)?.replica_regions.push(region.clone());
    call.state
        .region_mut(&region)
        .keys
        .insert(key_id.clone(), replica);
    let replica = call
        .state
        .key(&region, &key_id)
        .ok_or_else(|| KmsError::internal("the replica just made is missing"))?;
    Ok(json!({
        "ReplicaKeyMetadata": metadata(call.state, &region, replica),
        "ReplicaPolicy": policy,
        "ReplicaTags": rules::tag_list(&tags),
    }))
}
