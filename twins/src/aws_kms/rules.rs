//! AWS's rules on names and values: key references (id, ARN, alias name, alias ARN) and how they resolve,
//! key specs and their usages, alias names, tags, regions, and the ids and ARNs the twin mints.

use std::collections::BTreeMap;

use keyflow_blocks::aws_kms::facts::{self, ALIAS_PREFIX, Arn, RESERVED_ALIAS_PREFIX};

use super::state::{KeyRecord, KmsState};
use super::wire::KmsError;

pub use keyflow_blocks::aws_kms::facts::{MAX_TAGS, is_account_id, usages_of};

/// Who calls and where: the region of the request's credential scope and the signing principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The region the request is for (`eu-west-1`).
    pub region: String,
    /// The principal's ARN.
    pub arn: String,
    /// The principal's account.
    pub account: String,
}

/// The ARN of key `key_id`.
pub fn key_arn(region: &str, account: &str, key_id: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{key_id}")
}

/// The ARN of alias `name` (`alias/x`).
pub fn alias_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:{name}")
}

/// A new key id: a random UUID, or `mrk-` and 32 hex digits for a multi-Region key.
pub fn new_key_id(multi_region: bool) -> Result<String, KmsError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| KmsError::internal("the random generator failed; retry the request"))?;
    let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
    Ok(if multi_region {
        format!("mrk-{}", uuid.simple())
    } else {
        uuid.hyphenated().to_string()
    })
}

/// Whether aliases may name the key in a member (`DescribeKey`'s `KeyId` may; `EnableKey`'s may not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aliases {
    /// An alias name or alias ARN is accepted.
    Accepted,
    /// Only a key id or key ARN.
    Refused,
}

/// The id of the key that `reference` names in the caller's region: a key id, key ARN, alias name or alias
/// ARN (the last two where `aliases` accepts them). A key of another region or account is not found.
pub fn resolve(
    state: &KmsState,
    caller: &Caller,
    account: &str,
    reference: &str,
    aliases: Aliases,
) -> Result<String, KmsError> {
    let not_found = || KmsError::not_found(format!("Invalid keyId '{reference}'"));
    let region = state.regions.get(&caller.region);
    let local = if reference.starts_with("arn:") {
        let Some(arn) = Arn::parse(reference) else {
            return Err(not_found());
        };
        if arn.partition != "aws" || arn.service != "kms" {
            return Err(not_found());
        }
        if arn.region != caller.region || arn.account != account {
            return Err(KmsError::not_found(format!(
                "Key '{reference}' does not exist in region {} of account {account}",
                caller.region
            )));
        }
        arn.resource.to_string()
    } else {
        reference.to_string()
    };
    if let Some(key_id) = local.strip_prefix("key/") {
        return found(region.and_then(|r| r.keys.get(key_id)), reference);
    }
    if local.starts_with("alias/") {
        if aliases == Aliases::Refused {
            return Err(KmsError::not_found(format!(
                "Invalid keyId '{reference}': this operation takes a key id or key ARN, not an alias"
            )));
        }
        let alias = region
            .and_then(|r| r.aliases.get(&local))
            .ok_or_else(|| KmsError::not_found(format!("Alias '{reference}' does not exist")))?;
        return found(
            region.and_then(|r| r.keys.get(&alias.target_key_id)),
            reference,
        );
    }
    if reference.starts_with("arn:") {
        return Err(not_found());
    }
    found(region.and_then(|r| r.keys.get(&local)), reference)
}

fn found(key: Option<&KeyRecord>, reference: &str) -> Result<String, KmsError> {
    key.map(|k| k.key_id.clone())
        .ok_or_else(|| KmsError::not_found(format!("Key '{reference}' does not exist")))
}

/// The algorithm lists of a key's metadata: encryption, signing and MAC algorithms.
pub fn algorithms(spec: &str, usage: &str) -> (&'static str, &'static [&'static str]) {
    match (spec, usage) {
        ("SYMMETRIC_DEFAULT", _) => ("EncryptionAlgorithms", &["SYMMETRIC_DEFAULT"]),
        (s, "ENCRYPT_DECRYPT") if s.starts_with("RSA_") => (
            "EncryptionAlgorithms",
            &["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
        ),
        ("HMAC_224", _) => ("MacAlgorithms", &["HMAC_SHA_224"]),
        ("HMAC_256", _) => ("MacAlgorithms", &["HMAC_SHA_256"]),
        ("HMAC_384", _) => ("MacAlgorithms", &["HMAC_SHA_384"]),
        ("HMAC_512", _) => ("MacAlgorithms", &["HMAC_SHA_512"]),
        (s, "SIGN_VERIFY") if s.starts_with("RSA_") => (
            "SigningAlgorithms",
            &[
                "RSASSA_PSS_SHA_256",
                "RSASSA_PSS_SHA_384",
                "RSASSA_PSS_SHA_512",
                "RSASSA_PKCS1_V1_5_SHA_256",
                "RSASSA_PKCS1_V1_5_SHA_384",
                "RSASSA_PKCS1_V1_5_SHA_512",
            ],
        ),
        ("ECC_NIST_P256" | "ECC_SECG_P256K1", "SIGN_VERIFY") => {
            ("SigningAlgorithms", &["ECDSA_SHA_256"])
        }
        ("ECC_NIST_P384", "SIGN_VERIFY") => ("SigningAlgorithms", &["ECDSA_SHA_384"]),
        ("ECC_NIST_P521", "SIGN_VERIFY") => ("SigningAlgorithms", &["ECDSA_SHA_512"]),
        ("ECC_NIST_EDWARDS25519", _) => ("SigningAlgorithms", &["ED25519_SHA_512"]),
        (s, _) if s.starts_with("ML_DSA_") => ("SigningAlgorithms", &["ML_DSA_SHAKE_256"]),
        _ => ("KeyAgreementAlgorithms", &["ECDH"]),
    }
}

/// Checks an alias name: `alias/` then something, not under `alias/aws/`. Its characters and length are
/// the API model's, checked before the request gets here.
pub fn check_alias_name(name: &str) -> Result<(), KmsError> {
    let body = name.strip_prefix(ALIAS_PREFIX).ok_or_else(|| {
        KmsError::validation(format!(
            "Alias must start with the prefix \"alias/\"; `{name}` does not"
        ))
    })?;
    if body.is_empty() {
        return Err(KmsError::validation(
            "Alias `alias/` names nothing: add a name after the prefix",
        ));
    }
    if name.starts_with(RESERVED_ALIAS_PREFIX) {
        return Err(KmsError::new(
            "NotAuthorizedException",
            format!(
                "Cannot create, update or delete alias `{name}`: the prefix alias/aws/ is reserved for \
                 AWS managed keys"
            ),
        ));
    }
    Ok(())
}

/// A `Tags` member (`[{TagKey, TagValue}]`) as a map, refusing AWS's reserved keys (the lengths of keys
/// and values are the API model's, checked before the request gets here).
pub fn tags_of(tags: &[Tag]) -> Result<BTreeMap<String, String>, KmsError> {
    let mut map = BTreeMap::new();
    for tag in tags {
        check_tag_key(&tag.tag_key)?;
        map.insert(tag.tag_key.clone(), tag.tag_value.clone());
    }
    Ok(map)
}

/// Refuses a tag key starting with `aws:`, which AWS keeps for itself.
pub fn check_tag_key(key: &str) -> Result<(), KmsError> {
    if facts::is_reserved_tag_key(key) {
        return Err(KmsError::new(
            "TagException",
            format!("Tag key `{key}` starts with the reserved prefix aws:; choose another key"),
        ));
    }
    Ok(())
}

/// One tag of a request or answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The key.
    pub tag_key: String,
    /// The value.
    #[serde(default)]
    pub tag_value: String,
}

/// A map of tags as AWS lists them.
pub fn tag_list(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag {
            tag_key: k.clone(),
            tag_value: v.clone(),
        })
        .collect()
}

/// Now, in epoch seconds with millisecond precision (what AWS's timestamps carry).
pub fn now() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}
