//! Aliases: CreateAlias, UpdateAlias, DeleteAlias and ListAliases. An alias names one customer key of its
//! own region; the `alias/aws/` prefix is AWS's.

use serde::Deserialize;
use serde_json::{Value, json};

use super::call::{Call, not_pending};
use super::keys::{page, with_marker};
use super::policy;
use super::rules::{self, Aliases};
use super::state::{AliasRecord, KeyRecord};
use super::wire::{KmsError, parse, required};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasRequest {
    alias_name: Option<String>,
    target_key_id: Option<String>,
}

/// CreateAlias.
pub fn create_alias(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: AliasRequest = parse(body)?;
    let name = required(&request.alias_name, "aliasName")?.to_string();
    rules::check_alias_name(&name)?;
    let key_id = call.target(
        &request.target_key_id,
        "targetKeyId",
        Aliases::Refused,
        "CreateAlias",
    )?;
    not_pending(call.key(&key_id)?)?;
    let region = call.caller.region.clone();
    let arn = rules::alias_arn(&region, call.account, &name);
    let now = call.now;
    let aliases = &mut call.state.region_mut(&region).aliases;
    if aliases.contains_key(&name) {
        return Err(KmsError::new(
            "AlreadyExistsException",
            format!("An alias with the name {arn} already exists"),
        ));
    }
    aliases.insert(
        name.clone(),
        AliasRecord {
            alias_name: name,
            alias_arn: arn,
            target_key_id: key_id,
            creation_date: now,
            last_updated_date: now,
        },
    );
    Ok(json!({}))
}

/// The id of the key alias `name` points to, authorizing `operation` on it.
fn current_target(call: &Call, name: &str, operation: &str) -> Result<String, KmsError> {
    let alias = call
        .state
        .regions
        .get(&call.caller.region)
        .and_then(|r| r.aliases.get(name))
        .ok_or_else(|| {
            KmsError::not_found(format!(
                "Alias {} is not found.",
                rules::alias_arn(&call.caller.region, call.account, name)
            ))
        })?;
    let key_id = alias.target_key_id.clone();
    call.authorize(&key_id, operation, &Default::default())?;
    Ok(key_id)
}

/// The family of a key spec, which UpdateAlias keeps.
fn family(key: &KeyRecord) -> &str {
    key.key_spec.split('_').next().unwrap_or_default()
}

/// UpdateAlias: points an alias at another key of the same type and usage.
pub fn update_alias(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: AliasRequest = parse(body)?;
    let name = required(&request.alias_name, "aliasName")?.to_string();
    rules::check_alias_name(&name)?;
    let new_id = call.target(
        &request.target_key_id,
        "targetKeyId",
        Aliases::Refused,
        "UpdateAlias",
    )?;
    let old_id = current_target(call, &name, "UpdateAlias")?;
    let (old, new) = (call.key(&old_id)?, call.key(&new_id)?);
    not_pending(new)?;
    if family(old) != family(new) || old.key_usage != new.key_usage {
        return Err(KmsError::validation(format!(
            "Alias {name} points to a {} {} key; it can only be moved to a key of the same type and \
             usage, not a {} {} key",
            old.key_spec, old.key_usage, new.key_spec, new.key_usage
        )));
    }
    let now = call.now;
    let region = call.caller.region.clone();
    if let Some(alias) = call.state.region_mut(&region).aliases.get_mut(&name) {
        alias.target_key_id = new_id;
        alias.last_updated_date = now;
    }
    Ok(json!({}))
}

/// DeleteAlias.
pub fn delete_alias(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: AliasRequest = parse(body)?;
    let name = required(&request.alias_name, "aliasName")?.to_string();
    rules::check_alias_name(&name)?;
    current_target(call, &name, "DeleteAlias")?;
    let region = call.caller.region.clone();
    call.state.region_mut(&region).aliases.remove(&name);
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListAliasesRequest {
    key_id: Option<String>,
    limit: Option<i32>,
    marker: Option<String>,
}

/// ListAliases: the region's aliases in name order, or those of one key.
pub fn list_aliases(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: ListAliasesRequest = parse(body)?;
    policy::authorize_iam(call.caller, call.account, "ListAliases")?;
    let key_id = match &request.key_id {
        Some(_) => Some(call.resolve(&request.key_id, "keyId", Aliases::Refused)?),
        None => None,
    };
    let aliases = call
        .state
        .regions
        .get(&call.caller.region)
        .map(|r| {
            r.aliases
                .values()
                .filter(|a| key_id.as_ref().is_none_or(|k| *k == a.target_key_id))
                .map(|a| {
                    let entry = json!({
                        "AliasName": a.alias_name,
                        "AliasArn": a.alias_arn,
                        "TargetKeyId": a.target_key_id,
                        "CreationDate": a.creation_date,
                        "LastUpdatedDate": a.last_updated_date,
                    });
                    (a.alias_name.clone(), entry)
                })
                .collect()
        })
        .unwrap_or_default();
    let (aliases, next) = page(aliases, request.limit, (50, 100), request.marker, "aliases")?;
    Ok(with_marker(json!({ "Aliases": aliases }), next))
}
