//! Qlik's Encryption and Tenants API shapes, in Qlik's field names, read leniently: `keyprovider` or
//! `keyProvider`, `id` or `migrationId`, `migratingToFingerprint` or `migratingToFingerPrint`, the zero time
//! `0001-01-01T00:00:00Z` as absent, lists bare or wrapped. Outputs always use one spelling: the spec's.

use keyflow_engine::block::BlockError;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Qlik's "never" is the zero time `0001-01-01T00:00:00Z`: read as absent.
fn time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value: Option<String> = Option::deserialize(deserializer)?;
    Ok(value.filter(|t| !t.is_empty() && !t.starts_with("0001-01-01")))
}

/// A key provider (`KeyProvider`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyProvider {
    /// The key's ARN; `#QLIK_MANAGED_KEY_PROVIDER#` for Qlik's own provider.
    pub arn: String,
    /// The provider's name.
    pub name: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `AWS-KMS`, or `Qlik` for the default provider.
    #[serde(rename = "keyprovider", alias = "keyProvider", default)]
    pub keyprovider: String,
    /// The fingerprint that names the provider in the other blocks (the tenant id for Qlik's own).
    #[serde(default)]
    pub arn_finger_print: String,
    /// The tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Whether the tenant encrypts with this provider now.
    #[serde(default)]
    pub current: bool,
    /// When it was registered (`Qlik managed` for the default provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When it last became current; absent if never.
    #[serde(
        default,
        deserialize_with = "time",
        skip_serializing_if = "Option::is_none"
    )]
    pub promoted_to_current_at: Option<String>,
    /// When it last stopped being current; absent if never.
    #[serde(
        default,
        deserialize_with = "time",
        skip_serializing_if = "Option::is_none"
    )]
    pub demoted_from_current_at: Option<String>,
    /// Whether the key is multi-Region with a replica in the tenant's DR region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_region: Option<bool>,
    /// The replicas of the key.
    #[serde(default)]
    pub replica_keys: Vec<ReplicaKey>,
    /// Whether the key meets the disaster-recovery requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dr_compliant: Option<bool>,
    /// Why the key does not comply, when it does not (absent when it does).
    #[serde(
        default,
        deserialize_with = "compliance",
        skip_serializing_if = "Option::is_none"
    )]
    pub compliance_error: Option<ComplianceError>,
}

/// A replica of a key provider's key.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReplicaKey {
    /// The replica's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The replica's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// What Qlik found wrong with a key (`Encryption-88`: the policy lacks an action in a region…).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ComplianceError {
    /// Qlik's code.
    #[serde(default)]
    pub code: String,
    /// The region where it was found.
    #[serde(default)]
    pub region: String,
    /// What is wrong.
    #[serde(default)]
    pub message: String,
}

/// Qlik sends an object, sometimes an array of them, with empty strings when all is well.
fn compliance<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ComplianceError>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    let first = match value {
        Some(Value::Array(items)) => items
            .into_iter()
            .find_map(|i| serde_json::from_value(i).ok()),
        Some(other) => serde_json::from_value::<ComplianceError>(other).ok(),
        None => None,
    };
    Ok(first.filter(|e: &ComplianceError| !e.code.is_empty() || !e.message.is_empty()))
}

/// A key migration (`MigrationInformation`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationInformation {
    /// The migration's id.
    #[serde(alias = "migrationId", default)]
    pub id: String,
    /// `New`, `InProgress` or `Completed`.
    #[serde(default)]
    pub state: String,
    /// Progress in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// The tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// When it started.
    #[serde(
        default,
        deserialize_with = "time",
        skip_serializing_if = "Option::is_none"
    )]
    pub initiated_at: Option<String>,
    /// When it finished; absent while it runs.
    #[serde(
        default,
        deserialize_with = "time",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at: Option<String>,
    /// The ARN keys move to (`#QLIK_MANAGED_KEY_PROVIDER#` when back to Qlik's).
    #[serde(default)]
    pub migrating_to: String,
    /// The ARN (or Qlik key name) keys move from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrating_from: Option<String>,
    /// The prefix of the new key (`#BYOKv1#:<fingerprint>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrating_to_prefix: Option<String>,
    /// The fingerprint of the provider keys move to.
    #[serde(
        alias = "migratingToFingerPrint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub migrating_to_fingerprint: Option<String>,
}

/// A tenant (`Tenant`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    /// The tenant id: what key policies name in `kms:EncryptionContext:TenantId`.
    pub id: String,
    /// Its display name.
    #[serde(default)]
    pub name: String,
    /// Its hostnames; the first is the display one, the others aliases.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// The Qlik region (`us`, `eu`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The AWS region it runs in (`eu-west-1`): where its key must be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<String>,
    /// `active`, `disabled`, `deleted` or `user-access-disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_user: Option<String>,
}

/// The input of blocks that take none (tenant info, migration details, reset).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

/// The input of blocks acting on one key provider.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FingerprintInput {
    /// The provider's `arnFingerPrint` (`$.steps.create_provider.output.arnFingerPrint`).
    #[schemars(length(min = 1, max = 64))]
    pub fingerprint: String,
}

/// The fingerprint as a path segment, checked as Qlik would (414 beyond 64 characters).
pub fn fingerprint_path(fingerprint: &str) -> Result<String, BlockError> {
    let fingerprint = fingerprint.trim();
    if fingerprint.is_empty() || fingerprint.len() > 64 {
        return Err(BlockError::invalid_input(format!(
            "`fingerprint` must be 1 to 64 characters (an `arnFingerPrint`); got {}",
            fingerprint.len()
        )));
    }
    if let Some(bad) = fingerprint
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
    {
        return Err(BlockError::invalid_input(format!(
            "`fingerprint` has `{bad}`, which no `arnFingerPrint` has"
        )));
    }
    Ok(fingerprint.to_string())
}

/// The body of an answer read as `T`, or an error naming the operation.
pub fn decode<T: DeserializeOwned>(operation: &str, body: Option<Value>) -> Result<T, BlockError> {
    let body = body.ok_or_else(|| {
        BlockError::fatal(
            "InvalidResponse",
            format!("{operation}: the answer has no body"),
        )
    })?;
    serde_json::from_value(body).map_err(|e| {
        BlockError::fatal(
            "InvalidResponse",
            format!("{operation}: unexpected answer: {e}"),
        )
    })
}

/// A list answer: a bare array, or one wrapped under `errors` or `data` (both seen from Qlik).
pub fn decode_list<T: DeserializeOwned>(
    operation: &str,
    body: Option<Value>,
) -> Result<Vec<T>, BlockError> {
    let items = match body {
        Some(Value::Array(items)) => items,
        Some(Value::Object(mut map)) => match map.remove("data").or_else(|| map.remove("errors")) {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(BlockError::fatal(
                    "InvalidResponse",
                    format!("{operation}: the answer is not a list"),
                ));
            }
        },
        None => Vec::new(),
        Some(_) => {
            return Err(BlockError::fatal(
                "InvalidResponse",
                format!("{operation}: the answer is not a list"),
            ));
        }
    };
    items
        .into_iter()
        .map(|item| decode(operation, Some(item)))
        .collect()
}

/// A realistic key provider for example outputs.
pub fn example_provider() -> KeyProvider {
    KeyProvider {
        arn: "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab".into(),
        name: "CMK - 01".into(),
        description: Some("Customer-managed key".into()),
        keyprovider: "AWS-KMS".into(),
        arn_finger_print: "9f352c5a9c1618485051892cb57467e4".into(),
        tenant_id: Some("ImTRa-bkJTD-NZRYjNBa_rDhwSVA6Qo8".into()),
        current: false,
        created_at: Some("2026-11-23T09:00:00Z".into()),
        promoted_to_current_at: None,
        demoted_from_current_at: None,
        multi_region: Some(true),
        replica_keys: vec![ReplicaKey {
            arn: Some(
                "arn:aws:kms:eu-west-3:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
                    .into(),
            ),
            region: Some("eu-west-3".into()),
        }],
        dr_compliant: Some(true),
        compliance_error: None,
    }
}

/// A realistic migration for example outputs.
pub fn example_migration() -> MigrationInformation {
    MigrationInformation {
        id: "c75088bc-cfba-410a-aeda-2a5dd797f528".into(),
        state: "InProgress".into(),
        progress: Some(42.0),
        tenant_id: Some("ImTRa-bkJTD-NZRYjNBa_rDhwSVA6Qo8".into()),
        initiated_at: Some("2026-11-23T09:00:00Z".into()),
        completed_at: None,
        migrating_to: "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
            .into(),
        migrating_from: Some("#QLIK_MANAGED_KEY_PROVIDER#".into()),
        migrating_to_prefix: Some("#BYOKv1#:9f352c5a9c1618485051892cb57467e4".into()),
        migrating_to_fingerprint: Some("9f352c5a9c1618485051892cb57467e4".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_documented_quirks_are_read_and_written_one_way() {
        let providers: Vec<KeyProvider> = decode_list(
            "list",
            Some(json!({"errors": [
                {"arn": "#QLIK_MANAGED_KEY_PROVIDER#", "name": "Qlik Internal Kms", "keyprovider": "Qlik",
                 "arnFingerPrint": "T1", "createdAt": "Qlik managed", "current": true,
                 "promotedToCurrentAt": "2023-06-21T18:45:57Z", "demotedFromCurrentAt": "0001-01-01T00:00:00Z"},
                {"arn": "arn:aws:kms:eu-west-1:111122223333:key/k", "name": "CMK", "keyProvider": "AWS-KMS",
                 "arnFingerPrint": "9f35", "complianceError": [{"code": "Encryption-88", "region": "eu-west-3", "message": "no GenerateDataKey"}]}
            ]})),
        )
        .expect("wrapped list");
        assert_eq!(providers[0].demoted_from_current_at, None);
        assert_eq!(providers[0].created_at.as_deref(), Some("Qlik managed"));
        assert!(!providers[1].current);
        let out = serde_json::to_value(&providers[1]).expect("serialize");
        assert_eq!(out["keyprovider"], "AWS-KMS");
        assert_eq!(out["complianceError"]["code"], "Encryption-88");
        let compliant: KeyProvider =
            decode("get", Some(json!({"arn": "a", "name": "n", "keyprovider": "AWS-KMS", "arnFingerPrint": "f", "complianceError": {"code": "", "region": "", "message": ""}})))
                .expect("provider");
        assert!(compliant.compliance_error.is_none());

        let migration: MigrationInformation = decode(
            "migrate",
            Some(json!({"migrationId": "m-1", "state": "New", "migratingTo": "arn", "migratingToFingerPrint": "9f35", "completedAt": "0001-01-01T00:00:00Z"})),
        )
        .expect("migration");
        let out = serde_json::to_value(&migration).expect("serialize");
        assert_eq!(out["id"], "m-1");
        assert_eq!(out["migratingToFingerprint"], "9f35");
        assert!(out.get("completedAt").is_none());
    }

    #[test]
    fn fingerprints_are_checked_before_a_call() {
        assert_eq!(
            fingerprint_path(" 9f352c5a ").ok().as_deref(),
            Some("9f352c5a")
        );
        assert!(fingerprint_path(&"a".repeat(65)).is_err());
        assert!(fingerprint_path("a/../b").is_err());
    }
}
