//! One request being served: the state (locked for its whole duration, so a request is atomic), the caller
//! and the steps most operations share — find the key a member names, authorize the operation by its
//! policy, check its state.

use std::collections::BTreeMap;

use super::policy;
use super::rules::{self, Aliases, Caller};
use super::state::{KeyRecord, KeyState, KmsState};
use super::wire::{KmsError, missing};

/// A request in progress.
pub struct Call<'a> {
    /// Everything the twin holds.
    pub state: &'a mut KmsState,
    /// Who calls, in which region.
    pub caller: &'a Caller,
    /// The twin's account.
    pub account: &'a str,
    /// The request's time, in epoch seconds.
    pub now: f64,
}

impl Call<'_> {
    /// The id of the key that member `member` names in the caller's region.
    pub fn resolve(
        &self,
        reference: &Option<String>,
        member: &str,
        aliases: Aliases,
    ) -> Result<String, KmsError> {
        let reference = reference.as_deref().ok_or_else(|| missing(member))?;
        rules::resolve(self.state, self.caller, self.account, reference, aliases)
    }

    /// The key `key_id` of the caller's region.
    pub fn key(&self, key_id: &str) -> Result<&KeyRecord, KmsError> {
        self.state
            .key(&self.caller.region, key_id)
            .ok_or_else(|| KmsError::not_found(format!("Key '{key_id}' does not exist")))
    }

    /// The key `key_id` of the caller's region, to change.
    pub fn key_mut(&mut self, key_id: &str) -> Result<&mut KeyRecord, KmsError> {
        let region = self.caller.region.clone();
        self.state.existing_mut(&region, key_id)
    }

    /// Authorizes `operation` on key `key_id` with the request's encryption context.
    pub fn authorize(
        &self,
        key_id: &str,
        operation: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<(), KmsError> {
        policy::authorize(self.key(key_id)?, self.caller, operation, context)
    }

    /// Resolves member `member` to a key and authorizes `operation` on it (no encryption context).
    pub fn target(
        &self,
        reference: &Option<String>,
        member: &str,
        aliases: Aliases,
        operation: &str,
    ) -> Result<String, KmsError> {
        let key_id = self.resolve(reference, member, aliases)?;
        self.authorize(&key_id, operation, &BTreeMap::new())?;
        Ok(key_id)
    }
}

/// Refuses a key scheduled for deletion (`KMSInvalidStateException`).
pub fn not_pending(key: &KeyRecord) -> Result<(), KmsError> {
    if key.key_state.is_pending_deletion() {
        return Err(KmsError::invalid_state(format!(
            "{} is pending deletion.",
            key.arn
        )));
    }
    Ok(())
}

/// Refuses a key that cannot be used now: disabled (`DisabledException`) or scheduled for deletion.
pub fn usable(key: &KeyRecord) -> Result<(), KmsError> {
    not_pending(key)?;
    if key.key_state == KeyState::Disabled {
        return Err(KmsError::new(
            "DisabledException",
            format!("{} is disabled.", key.arn),
        ));
    }
    Ok(())
}
