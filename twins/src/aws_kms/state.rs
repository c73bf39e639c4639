//! What the twin holds, per region: keys (with their material, policy, tags, rotation and deletion date) and
//! aliases. It is plain serde data, so a snapshot saves and restores everything; the time-driven part (a key
//! whose deletion date has passed is gone) is applied by [`KmsState::settle`] before every request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::wire::KmsError;

/// Everything the twin holds, by region (`eu-west-1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KmsState {
    /// The regions that have keys or aliases.
    pub regions: BTreeMap<String, RegionState>,
}

/// The keys and aliases of one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionState {
    /// Keys by key id (a UUID, or `mrk-…` for a multi-Region key).
    pub keys: BTreeMap<String, KeyRecord>,
    /// Aliases by name (`alias/tenant-data`).
    pub aliases: BTreeMap<String, AliasRecord>,
}

/// The states of a customer managed key that the twin models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    /// Usable.
    Enabled,
    /// Not usable in cryptographic operations until enabled.
    Disabled,
    /// Scheduled for deletion at its `deletion_date`.
    PendingDeletion,
    /// A multi-Region primary scheduled for deletion, waiting for its replicas to be deleted first.
    PendingReplicaDeletion,
}

impl KeyState {
    /// The name AWS uses (`PendingDeletion`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
            KeyState::PendingReplicaDeletion => "PendingReplicaDeletion",
        }
    }

    /// Whether the key is scheduled for deletion, in either form.
    pub fn is_pending_deletion(self) -> bool {
        matches!(
            self,
            KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
        )
    }
}

/// The role of a multi-Region key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MultiRegionKeyType {
    /// The primary key, which replicas are made from.
    #[serde(rename = "PRIMARY")]
    Primary,
    /// A replica in another region, sharing the primary's id and material.
    #[serde(rename = "REPLICA")]
    Replica,
}

/// Automatic rotation of a key, when enabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rotation {
    /// Days between rotations (90–2560).
    pub rotation_period_in_days: i32,
    /// The next rotation, in epoch seconds.
    pub next_rotation_date: f64,
}

/// One key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Its id (`1234abcd-…` or `mrk-…`).
    pub key_id: String,
    /// Its ARN (`arn:aws:kms:<region>:<account>:key/<id>`).
    pub arn: String,
    /// When it was created, in epoch seconds.
    pub creation_date: f64,
    /// Its description.
    pub description: String,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, `GENERATE_VERIFY_MAC` or `KEY_AGREEMENT`.
    pub key_usage: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, `HMAC_256`…
    pub key_spec: String,
    /// Its state.
    pub key_state: KeyState,
    /// The role of a multi-Region key; `None` for a single-Region key.
    pub multi_region_key_type: Option<MultiRegionKeyType>,
    /// A replica's primary region.
    #[serde(default)]
    pub primary_region: Option<String>,
    /// A primary's replica regions, in the order they were made.
    #[serde(default)]
    pub replica_regions: Vec<String>,
    /// When it will be deleted (epoch seconds), once scheduled and the waiting period has begun.
    #[serde(default)]
    pub deletion_date: Option<f64>,
    /// The waiting period asked for when deletion was scheduled.
    #[serde(default)]
    pub pending_window_in_days: Option<i32>,
    /// The key policy, as given (a JSON document).
    pub policy: String,
    /// Tags by key.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Automatic rotation, when enabled.
    #[serde(default)]
    pub rotation: Option<Rotation>,
    /// The 256-bit key material, base64; replicas hold the primary's.
    pub material: String,
}

/// One alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasRecord {
    /// Its name (`alias/tenant-data`).
    pub alias_name: String,
    /// Its ARN (`arn:aws:kms:<region>:<account>:alias/tenant-data`).
    pub alias_arn: String,
    /// The id of the key it points to.
    pub target_key_id: String,
    /// When it was created, in epoch seconds.
    pub creation_date: f64,
    /// When it was last pointed elsewhere (or created), in epoch seconds.
    pub last_updated_date: f64,
}

/// One key as a "what exists" summary shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeySummary {
    /// Its region.
    pub region: String,
    /// Its id.
    pub key_id: String,
    /// Its ARN.
    pub arn: String,
    /// Its state (`Enabled`).
    pub key_state: &'static str,
    /// Its description.
    pub description: String,
    /// The names of the aliases pointing to it.
    pub aliases: Vec<String>,
}

impl KmsState {
    /// Every key, region by region, with its aliases: what a sandbox run created.
    pub fn summary(&self) -> Vec<KeySummary> {
        let mut keys = Vec::new();
        for (region, state) in &self.regions {
            for key in state.keys.values() {
                keys.push(KeySummary {
                    region: region.clone(),
                    key_id: key.key_id.clone(),
                    arn: key.arn.clone(),
                    key_state: key.key_state.as_str(),
                    description: key.description.clone(),
                    aliases: state
                        .aliases
                        .values()
                        .filter(|a| a.target_key_id == key.key_id)
                        .map(|a| a.alias_name.clone())
                        .collect(),
                });
            }
        }
        keys
    }

    /// The region's state, created empty on first use.
    pub fn region_mut(&mut self, region: &str) -> &mut RegionState {
        self.regions.entry(region.to_string()).or_default()
    }

    /// The key `key_id` of `region`.
    pub fn key(&self, region: &str, key_id: &str) -> Option<&KeyRecord> {
        self.regions.get(region)?.keys.get(key_id)
    }

    /// The key `key_id` of `region`, mutable.
    pub fn key_mut(&mut self, region: &str, key_id: &str) -> Option<&mut KeyRecord> {
        self.regions.get_mut(region)?.keys.get_mut(key_id)
    }

    /// The key `key_id` of `region`, or the error of a key that does not exist.
    pub fn existing_mut(&mut self, region: &str, key_id: &str) -> Result<&mut KeyRecord, KmsError> {
        self.key_mut(region, key_id)
            .ok_or_else(|| KmsError::not_found(format!("Key '{key_id}' does not exist")))
    }

    /// Applies the passage of time up to `now`: keys past their deletion date are removed with their
    /// aliases, and a primary waiting for its replicas starts its own waiting period once none is left.
    /// Returns the next deletion date: until then, settling again changes nothing (unless a request
    /// schedules a deletion).
    pub fn settle(&mut self, now: f64) -> f64 {
        let mut deleted = Vec::new();
        for (region, state) in &mut self.regions {
            let gone: Vec<String> = state
                .keys
                .values()
                .filter(|k| {
                    k.key_state == KeyState::PendingDeletion
                        && k.deletion_date.is_some_and(|at| at <= now)
                })
                .map(|k| k.key_id.clone())
                .collect();
            for key_id in gone {
                state.keys.remove(&key_id);
                state.aliases.retain(|_, a| a.target_key_id != key_id);
                deleted.push((region.clone(), key_id));
            }
        }
        for (region, key_id) in &deleted {
            for state in self.regions.values_mut() {
                if let Some(key) = state.keys.get_mut(key_id) {
                    key.replica_regions.retain(|r| r != region);
                }
            }
        }
        for state in self.regions.values_mut() {
            for key in state.keys.values_mut() {
                if key.key_state == KeyState::PendingReplicaDeletion
                    && key.replica_regions.is_empty()
                {
                    let days = f64::from(key.pending_window_in_days.unwrap_or(30));
                    key.key_state = KeyState::PendingDeletion;
                    key.deletion_date = Some(now + days * 86_400.0);
                }
            }
        }
        self.regions
            .retain(|_, s| !s.keys.is_empty() || !s.aliases.is_empty());
        self.regions
            .values()
            .flat_map(|s| s.keys.values())
            .filter(|k| k.key_state == KeyState::PendingDeletion)
            .filter_map(|k| k.deletion_date)
            .fold(f64::INFINITY, f64::min)
    }
}
