//! What a key is set to: its policy (PutKeyPolicy, GetKeyPolicy), description (UpdateKeyDescription) and
//! automatic rotation (EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus).

use serde::Deserialize;
use serde_json::{Value, json};

use super::call::{Call, not_pending, usable};
use super::policy::{self, POLICY_NAME};
use super::rules::Aliases;
use super::state::{KeyRecord, MultiRegionKeyType, Rotation};
use super::wire::{KmsError, missing, parse};

/// The default rotation period is the second of the shortest, default and longest, in days.
use keyflow_blocks::aws_kms::facts::ROTATION_PERIOD_DAYS as ROTATION;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyRequest {
    key_id: Option<String>,
    policy_name: Option<String>,
    policy: Option<String>,
    #[serde(default)]
    bypass_policy_lockout_safety_check: bool,
}

fn check_policy_name(name: Option<&str>) -> Result<(), KmsError> {
    match name {
        None | Some(POLICY_NAME) => Ok(()),
        Some(other) => Err(KmsError::validation(format!(
            "PolicyName `{other}` is not valid: the only key policy name is `{POLICY_NAME}`"
        ))),
    }
}

/// PutKeyPolicy: replaces the key's policy after the form and lockout checks.
pub fn put_key_policy(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: PolicyRequest = parse(body)?;
    check_policy_name(request.policy_name.as_deref())?;
    let policy = request.policy.ok_or_else(|| missing("policy"))?;
    let key_id = call.target(&request.key_id, "keyId", Aliases::Refused, "PutKeyPolicy")?;
    let arn = call.key(&key_id)?.arn.clone();
    policy::check_new(
        &policy,
        call.caller,
        &arn,
        request.bypass_policy_lockout_safety_check,
    )?;
    call.key_mut(&key_id)?.policy = policy;
    Ok(json!({}))
}

/// GetKeyPolicy.
pub fn get_key_policy(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: PolicyRequest = parse(body)?;
    check_policy_name(request.policy_name.as_deref())?;
    let key_id = call.target(&request.key_id, "keyId", Aliases::Refused, "GetKeyPolicy")?;
    let key = call.key(&key_id)?;
    Ok(json!({ "Policy": key.policy, "PolicyName": POLICY_NAME }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescriptionRequest {
    key_id: Option<String>,
    description: Option<String>,
}

/// UpdateKeyDescription.
pub fn update_key_description(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: DescriptionRequest = parse(body)?;
    let description = request.description.ok_or_else(|| missing("description"))?;
    let key_id = call.target(
        &request.key_id,
        "keyId",
        Aliases::Refused,
        "UpdateKeyDescription",
    )?;
    let key = call.key_mut(&key_id)?;
    not_pending(key)?;
    key.description = description;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RotationRequest {
    key_id: Option<String>,
    rotation_period_in_days: Option<i32>,
}

/// Refuses rotation of a key that cannot rotate automatically: not a symmetric encryption key, or a
/// multi-Region replica (whose rotation follows its primary).
fn rotatable(key: &KeyRecord) -> Result<(), KmsError> {
    if key.key_spec != "SYMMETRIC_DEFAULT" {
        return Err(KmsError::unsupported(format!(
            "{} is a {} key; automatic rotation is supported only for symmetric encryption keys",
            key.arn, key.key_spec
        )));
    }
    if key.multi_region_key_type == Some(MultiRegionKeyType::Replica) {
        return Err(KmsError::unsupported(format!(
            "{} is a multi-Region replica key; manage rotation on its primary key",
            key.arn
        )));
    }
    Ok(())
}

/// EnableKeyRotation (and DisableKeyRotation when `enable` is false).
fn set_rotation(call: &mut Call, body: &Value, enable: bool) -> Result<(), KmsError> {
    let request: RotationRequest = parse(body)?;
    // Its range (90 to 2560 days) is the API model's, checked before the request gets here.
    let days = request.rotation_period_in_days.unwrap_or(ROTATION.1);
    let operation = if enable {
        "EnableKeyRotation"
    } else {
        "DisableKeyRotation"
    };
    let key_id = call.target(&request.key_id, "keyId", Aliases::Refused, operation)?;
    let now = call.now;
    let key = call.key_mut(&key_id)?;
    usable(key)?;
    rotatable(key)?;
    key.rotation = enable.then(|| Rotation {
        rotation_period_in_days: days,
        next_rotation_date: now + f64::from(days) * 86_400.0,
    });
    Ok(())
}

/// EnableKeyRotation.
pub fn enable_key_rotation(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    set_rotation(call, body, true)?;
    Ok(json!({}))
}

/// DisableKeyRotation.
pub fn disable_key_rotation(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    set_rotation(call, body, false)?;
    Ok(json!({}))
}

/// GetKeyRotationStatus; a replica answers its primary's rotation.
pub fn get_key_rotation_status(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: RotationRequest = parse(body)?;
    let key_id = call.target(
        &request.key_id,
        "keyId",
        Aliases::Refused,
        "GetKeyRotationStatus",
    )?;
    let key = call.key(&key_id)?;
    if key.key_spec != "SYMMETRIC_DEFAULT" {
        rotatable(key)?;
    }
    let rotation = match (&key.multi_region_key_type, &key.primary_region) {
        (Some(MultiRegionKeyType::Replica), Some(primary)) => call
            .state
            .key(primary, &key_id)
            .and_then(|p| p.rotation.clone()),
        _ => key.rotation.clone(),
    };
    let mut answer = json!({
        "KeyId": key.arn,
        "KeyRotationEnabled": rotation.is_some(),
    });
    if let Some(rotation) = rotation {
        answer["RotationPeriodInDays"] = json!(rotation.rotation_period_in_days);
        answer["NextRotationDate"] = json!(rotation.next_rotation_date);
    }
    Ok(answer)
}
