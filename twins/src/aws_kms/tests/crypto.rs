//! Encrypt, Decrypt and GenerateDataKey: real AES-GCM with the encryption context bound.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, KeySpec, KeyUsageType};

use super::*;

async fn encrypt(kms: &Client, key: &str, plaintext: &[u8], tenant: &str) -> Blob {
    let sealed = kms
        .encrypt()
        .key_id(key)
        .plaintext(Blob::new(plaintext))
        .encryption_context("TenantId", tenant)
        .send()
        .await
        .unwrap();
    sealed.ciphertext_blob().unwrap().clone()
}

#[tokio::test]
async fn a_ciphertext_decrypts_with_its_context_only() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let sealed = encrypt(&kms, &id, b"secret", TENANT).await;
    assert!(!sealed.as_ref().windows(6).any(|w| w == b"secret"));

    let opened = kms
        .decrypt()
        .ciphertext_blob(sealed.clone())
        .encryption_context("TenantId", TENANT)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.plaintext().unwrap().as_ref(), b"secret");
    assert!(opened.key_id().unwrap().ends_with(&id));

    let wrong = kms
        .decrypt()
        .ciphertext_blob(sealed.clone())
        .encryption_context("TenantId", "another")
        .send()
        .await;
    assert_eq!(code(wrong), "InvalidCiphertextException");
    let missing = kms.decrypt().ciphertext_blob(sealed.clone()).send().await;
    assert_eq!(code(missing), "InvalidCiphertextException");
    let mut tampered = sealed.into_inner();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    let tampered = kms
        .decrypt()
        .ciphertext_blob(Blob::new(tampered))
        .encryption_context("TenantId", TENANT)
        .send()
        .await;
    assert_eq!(code(tampered), "InvalidCiphertextException");
    let garbage = kms.decrypt().ciphertext_blob(Blob::new(b"xx")).send().await;
    assert_eq!(code(garbage), "InvalidCiphertextException");
}

#[tokio::test]
async fn decrypt_with_a_key_id_must_name_the_ciphertexts_key() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let other = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/data")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let sealed = encrypt(&kms, "alias/data", b"x", TENANT).await;
    for named in [id.as_str(), "alias/data"] {
        let opened = kms
            .decrypt()
            .key_id(named)
            .ciphertext_blob(sealed.clone())
            .encryption_context("TenantId", TENANT)
            .send()
            .await
            .unwrap();
        assert_eq!(opened.plaintext().unwrap().as_ref(), b"x");
    }
    let incorrect = kms
        .decrypt()
        .key_id(&other)
        .ciphertext_blob(sealed)
        .encryption_context("TenantId", TENANT)
        .send()
        .await;
    assert_eq!(code(incorrect), "IncorrectKeyException");
}

#[tokio::test]
async fn a_disabled_or_deleted_key_does_no_cryptography() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let sealed = encrypt(&kms, &id, b"x", TENANT).await;
    kms.disable_key().key_id(&id).send().await.unwrap();
    let refused = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .send()
        .await;
    assert_eq!(code(refused), "DisabledException");
    let refused = kms
        .decrypt()
        .ciphertext_blob(sealed.clone())
        .encryption_context("TenantId", TENANT)
        .send()
        .await;
    assert_eq!(code(refused), "DisabledException");
    kms.enable_key().key_id(&id).send().await.unwrap();
    kms.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let refused = kms
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await;
    assert_eq!(code(refused), "KMSInvalidStateException");
}

#[tokio::test]
async fn generate_data_key_makes_a_key_that_decrypts_to_itself() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let made = kms
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes128)
        .encryption_context("TenantId", TENANT)
        .send()
        .await
        .unwrap();
    let plaintext = made.plaintext().unwrap().as_ref().to_vec();
    assert_eq!(plaintext.len(), 16);
    let opened = kms
        .decrypt()
        .ciphertext_blob(made.ciphertext_blob().unwrap().clone())
        .encryption_context("TenantId", TENANT)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.plaintext().unwrap().as_ref(), plaintext.as_slice());
    let sized = kms
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(1024)
        .send()
        .await
        .unwrap();
    assert_eq!(sized.plaintext().unwrap().as_ref().len(), 1024);
    for refused in [
        kms.generate_data_key()
            .key_id(&id)
            .number_of_bytes(1025)
            .send()
            .await,
        kms.generate_data_key().key_id(&id).send().await,
        kms.generate_data_key()
            .key_id(&id)
            .number_of_bytes(32)
            .key_spec(DataKeySpec::Aes256)
            .send()
            .await,
    ] {
        assert_eq!(code(refused), "ValidationException");
    }
}

#[tokio::test]
async fn plaintexts_are_1_to_4096_bytes_and_only_symmetric_keys_encrypt() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_key(&kms).await;
    let big = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![7u8; 4097]))
        .send()
        .await;
    assert_eq!(code(big), "ValidationException");
    kms.encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![7u8; 4096]))
        .send()
        .await
        .unwrap();
    let signing = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let signing = signing.key_metadata().unwrap().key_id();
    let refused = kms
        .encrypt()
        .key_id(signing)
        .plaintext(Blob::new("x"))
        .send()
        .await;
    assert_eq!(code(refused), "InvalidKeyUsageException");
}

/// AWS names the key material of a symmetric key in DescribeKey (`CurrentKeyMaterialId`) and in what it
/// encrypts or decrypts with it (`KeyMaterialId`); a replica shares its primary's material.
#[tokio::test]
async fn the_key_material_id_is_answered_where_aws_answers_it() {
    let twin = twin().await;
    let kms = client(&twin, REGION);
    let id = create_mrk(&kms).await;
    let described = kms.describe_key().key_id(&id).send().await.unwrap();
    let current = described
        .key_metadata()
        .and_then(|m| m.current_key_material_id())
        .unwrap()
        .to_string();
    assert_eq!(current.len(), 64, "{current}");
    assert!(current.bytes().all(|b| b.is_ascii_hexdigit()), "{current}");

    let data_key = kms
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    assert_eq!(data_key.key_material_id(), Some(current.as_str()));
    let opened = kms
        .decrypt()
        .ciphertext_blob(data_key.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(opened.key_material_id(), Some(current.as_str()));

    kms.replicate_key()
        .key_id(&id)
        .replica_region(DR)
        .send()
        .await
        .unwrap();
    let replica = client(&twin, DR).describe_key().key_id(&id).send().await;
    let replica = replica.unwrap();
    let replica = replica.key_metadata().unwrap();
    assert_eq!(replica.current_key_material_id(), Some(current.as_str()));
    let other = create_key(&kms).await;
    let other = kms.describe_key().key_id(&other).send().await.unwrap();
    let other = other.key_metadata().unwrap().current_key_material_id();
    assert_ne!(other, Some(current.as_str()));
}
