//! A key's life: EnableKey, DisableKey, ScheduleKeyDeletion and CancelKeyDeletion, with AWS's state rules
//! (a key pending deletion can only have its deletion cancelled, which leaves it disabled; a multi-Region
//! primary waits for its replicas to be deleted before its own waiting period begins).

use serde::Deserialize;
use serde_json::{Value, json};

use super::call::{Call, not_pending};
use super::rules::Aliases;
use super::state::{KeyState, MultiRegionKeyType};
use super::wire::{KmsError, parse};

use keyflow_blocks::aws_kms::facts::DELETION_WINDOW_DAYS as WINDOW;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyIdRequest {
    key_id: Option<String>,
}

/// EnableKey and DisableKey: set the key to `to` (`Enabled`/`Disabled`).
fn set_enabled(
    call: &mut Call,
    body: &Value,
    operation: &str,
    to: KeyState,
) -> Result<(), KmsError> {
    let request: KeyIdRequest = parse(body)?;
    let key_id = call.target(&request.key_id, "keyId", Aliases::Refused, operation)?;
    let key = call.key_mut(&key_id)?;
    not_pending(key)?;
    key.key_state = to;
    Ok(())
}

/// EnableKey.
pub fn enable_key(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    set_enabled(call, body, "EnableKey", KeyState::Enabled)?;
    Ok(json!({}))
}

/// DisableKey.
pub fn disable_key(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    set_enabled(call, body, "DisableKey", KeyState::Disabled)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScheduleRequest {
    key_id: Option<String>,
    pending_window_in_days: Option<i32>,
}

/// ScheduleKeyDeletion: the key becomes unusable now and is deleted after the waiting period.
pub fn schedule_key_deletion(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: ScheduleRequest = parse(body)?;
    let days = request.pending_window_in_days.unwrap_or(WINDOW.1);
    if days < WINDOW.0 {
        return Err(KmsError::validation(format!(
            "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy \
             constraint: Member must have value greater than or equal to {}",
            WINDOW.0
        )));
    }
    if days > WINDOW.1 {
        return Err(KmsError::validation(format!(
            "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy \
             constraint: Member must have value less than or equal to {}",
            WINDOW.1
        )));
    }
    let key_id = call.target(
        &request.key_id,
        "keyId",
        Aliases::Refused,
        "ScheduleKeyDeletion",
    )?;
    let now = call.now;
    let key = call.key_mut(&key_id)?;
    not_pending(key)?;
    key.pending_window_in_days = Some(days);
    let waits_for_replicas = key.multi_region_key_type == Some(MultiRegionKeyType::Primary)
        && !key.replica_regions.is_empty();
    if waits_for_replicas {
        key.key_state = KeyState::PendingReplicaDeletion;
        key.deletion_date = None;
        return Ok(json!({
            "KeyId": key.arn,
            "KeyState": key.key_state.as_str(),
            "PendingWindowInDays": days,
        }));
    }
    let date = now + f64::from(days) * 86_400.0;
    key.key_state = KeyState::PendingDeletion;
    key.deletion_date = Some(date);
    Ok(json!({
        "KeyId": key.arn,
        "DeletionDate": date,
        "KeyState": key.key_state.as_str(),
        "PendingWindowInDays": days,
    }))
}

/// CancelKeyDeletion: a key pending deletion becomes disabled again.
pub fn cancel_key_deletion(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: KeyIdRequest = parse(body)?;
    let key_id = call.target(
        &request.key_id,
        "keyId",
        Aliases::Refused,
        "CancelKeyDeletion",
    )?;
    let key = call.key_mut(&key_id)?;
    if !key.key_state.is_pending_deletion() {
        return Err(KmsError::invalid_state(format!(
            "{} is not pending deletion; only a key scheduled for deletion can have it cancelled.",
            key.arn
        )));
    }
    key.key_state = KeyState::Disabled;
    key.deletion_date = None;
    key.pending_window_in_days = None;
    Ok(json!({ "KeyId": key.arn }))
}
