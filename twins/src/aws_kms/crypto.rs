//! Encrypt, Decrypt and GenerateDataKey with real authenticated encryption: AES-256-GCM under the key's
//! material, with the encryption context bound as additional data, so a wrong or missing context fails
//! like it does in AWS.
//!
//! A ciphertext blob is `version (1) | key id length (1) | key id | nonce (12) | sealed data | tag (16)`:
//! it names its key, so Decrypt needs no KeyId, and a multi-Region replica (same id, same material)
//! decrypts its primary's ciphertexts.

use std::collections::BTreeMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::call::{Call, usable};
use super::rules::Aliases;
use super::state::KeyRecord;
use super::wire::{KmsError, base64, blob, missing, parse};
use crate::digest::{hex, sha256};

/// The blob format's version.
const VERSION: u8 = 1;

/// Fresh random key material: 32 bytes, base64.
pub fn new_material() -> Result<String, KmsError> {
    Ok(STANDARD.encode(random::<32>()?))
}

/// The id AWS answers for a symmetric key's material (`KeyMaterialId`, `CurrentKeyMaterialId`): 64 hex
/// digits, here the SHA-256 of a label and the material, so that a replica (same material) answers its
/// primary's id and the id reveals nothing usable about the material.
pub fn material_id(key: &KeyRecord) -> String {
    hex(&sha256(&[
        b"keyflow KMS twin key material id\0",
        key.material.as_bytes(),
    ]))
}

fn random<const N: usize>() -> Result<[u8; N], KmsError> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| KmsError::internal("the random generator failed; retry the request"))?;
    Ok(bytes)
}

fn cipher(key: &KeyRecord) -> Result<LessSafeKey, KmsError> {
    let material = STANDARD
        .decode(&key.material)
        .map_err(|_| KmsError::internal(format!("the material of {} is not base64", key.arn)))?;
    let unbound = UnboundKey::new(&AES_256_GCM, &material)
        .map_err(|_| KmsError::internal(format!("the material of {} is not 256 bits", key.arn)))?;
    Ok(LessSafeKey::new(unbound))
}

/// The additional data: the blob's header and the context, each pair length-prefixed in key order.
fn aad(header: &[u8], context: &BTreeMap<String, String>) -> Vec<u8> {
    let mut aad = header.to_vec();
    for (k, v) in context {
        for part in [k, v] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
    }
    aad
}

fn header(key_id: &str) -> Vec<u8> {
    let mut header = vec![VERSION, key_id.len() as u8];
    header.extend_from_slice(key_id.as_bytes());
    header
}

fn seal(
    key: &KeyRecord,
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, KmsError> {
    let mut blob = header(&key.key_id);
    let nonce = random::<NONCE_LEN>()?;
    let mut sealed = plaintext.to_vec();
    cipher(key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(&blob, context)),
            &mut sealed,
        )
        .map_err(|_| KmsError::internal("sealing failed; retry the request"))?;
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

fn invalid_ciphertext() -> KmsError {
    KmsError::new(
        "InvalidCiphertextException",
        "The ciphertext is not one of this key's, or the encryption context differs from the one it was \
         encrypted with",
    )
}

/// The key id a blob names, and where its nonce starts.
fn parse_blob(blob: &[u8]) -> Result<(String, usize), KmsError> {
    let Some((&[version, length], rest)) = blob.split_first_chunk::<2>() else {
        return Err(invalid_ciphertext());
    };
    let length = usize::from(length);
    if version != VERSION || rest.len() < length + NONCE_LEN + 16 {
        return Err(invalid_ciphertext());
    }
    let key_id = std::str::from_utf8(&rest[..length]).map_err(|_| invalid_ciphertext())?;
    Ok((key_id.to_string(), 2 + length))
}

fn open(
    key: &KeyRecord,
    blob: &[u8],
    at: usize,
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, KmsError> {
    let nonce = Nonce::try_assume_unique_for_key(&blob[at..at + NONCE_LEN])
        .map_err(|_| invalid_ciphertext())?;
    let mut sealed = blob[at + NONCE_LEN..].to_vec();
    let plaintext = cipher(key)?
        .open_in_place(nonce, Aad::from(aad(&blob[..at], context)), &mut sealed)
        .map_err(|_| invalid_ciphertext())?;
    Ok(plaintext.to_vec())
}

/// Refuses a key that is not a symmetric encryption key, or an algorithm other than its own.
fn symmetric(key: &KeyRecord, operation: &str, algorithm: Option<&str>) -> Result<(), KmsError> {
    if key.key_spec != "SYMMETRIC_DEFAULT" || key.key_usage != "ENCRYPT_DECRYPT" {
        return Err(KmsError::new(
            "InvalidKeyUsageException",
            format!(
                "{} is a {} key with usage {}, which is not valid for {operation}; use a symmetric \
                 encryption key",
                key.arn, key.key_spec, key.key_usage
            ),
        ));
    }
    if let Some(other) = algorithm.filter(|a| *a != "SYMMETRIC_DEFAULT") {
        return Err(KmsError::new(
            "InvalidKeyUsageException",
            format!("{} supports only SYMMETRIC_DEFAULT, not {other}", key.arn),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CryptoRequest {
    key_id: Option<String>,
    plaintext: Option<String>,
    ciphertext_blob: Option<String>,
    #[serde(default)]
    encryption_context: BTreeMap<String, String>,
    encryption_algorithm: Option<String>,
    number_of_bytes: Option<i32>,
    key_spec: Option<String>,
}

/// Resolves the request's key and checks it may do `operation` now.
fn crypto_key(call: &Call, request: &CryptoRequest, operation: &str) -> Result<String, KmsError> {
    let key_id = call.resolve(&request.key_id, "keyId", Aliases::Accepted)?;
    call.authorize(&key_id, operation, &request.encryption_context)?;
    let key = call.key(&key_id)?;
    usable(key)?;
    symmetric(key, operation, request.encryption_algorithm.as_deref())?;
    Ok(key_id)
}

/// Encrypt.
pub fn encrypt(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: CryptoRequest = parse(body)?;
    // Its length (1 to 4096 bytes) is the API model's, checked before the request gets here.
    let plaintext = blob(&request.plaintext, "plaintext")?;
    let key_id = crypto_key(call, &request, "Encrypt")?;
    let key = call.key(&key_id)?;
    let sealed = seal(key, &plaintext, &request.encryption_context)?;
    Ok(json!({
        "CiphertextBlob": base64(&sealed),
        "KeyId": key.arn,
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }))
}

/// Decrypt: the key comes from the blob; a KeyId, when given, must name that same key.
pub fn decrypt(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: CryptoRequest = parse(body)?;
    let sealed = blob(&request.ciphertext_blob, "ciphertextBlob")?;
    let (key_id, at) = parse_blob(&sealed)?;
    if request.key_id.is_some() {
        let named = call.resolve(&request.key_id, "keyId", Aliases::Accepted)?;
        if named != key_id {
            return Err(KmsError::new(
                "IncorrectKeyException",
                "The key ID in the request does not identify a CMK that can perform this operation.",
            ));
        }
    }
    if call.state.key(&call.caller.region, &key_id).is_none() {
        return Err(KmsError::not_found(format!(
            "The ciphertext names key '{key_id}', which does not exist in {}",
            call.caller.region
        )));
    }
    call.authorize(&key_id, "Decrypt", &request.encryption_context)?;
    let key = call.key(&key_id)?;
    usable(key)?;
    symmetric(key, "Decrypt", request.encryption_algorithm.as_deref())?;
    let plaintext = open(key, &sealed, at, &request.encryption_context)?;
    Ok(json!({
        "KeyId": key.arn,
        "Plaintext": base64(&plaintext),
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "KeyMaterialId": material_id(key),
    }))
}

/// GenerateDataKey: random bytes, in plaintext and encrypted under the key.
pub fn generate_data_key(call: &mut Call, body: &Value) -> Result<Value, KmsError> {
    let request: CryptoRequest = parse(body)?;
    // KeySpec's values and NumberOfBytes' range (1 to 1024) are the API model's, checked before the
    // request gets here; that exactly one is given is this operation's rule.
    let length = match (request.key_spec.as_deref(), request.number_of_bytes) {
        (Some(_), Some(_)) => {
            return Err(KmsError::validation(
                "Give either KeySpec or NumberOfBytes, not both",
            ));
        }
        (None, None) => return Err(missing("keySpec")),
        (Some("AES_128"), None) => 16,
        (Some(_), None) => 32,
        (None, Some(n)) => usize::try_from(n).unwrap_or_default(),
    };
    let key_id = crypto_key(call, &request, "GenerateDataKey")?;
    let key = call.key(&key_id)?;
    let mut plaintext = vec![0u8; length];
    aws_lc_rs::rand::fill(&mut plaintext)
        .map_err(|_| KmsError::internal("the random generator failed; retry the request"))?;
    let sealed = seal(key, &plaintext, &request.encryption_context)?;
    Ok(json!({
        "CiphertextBlob": base64(&sealed),
        "Plaintext": base64(&plaintext),
        "KeyId": key.arn,
        "KeyMaterialId": material_id(key),
    }))
}
