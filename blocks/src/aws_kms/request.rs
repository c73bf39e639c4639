//! `aws-kms.request`: any AWS KMS operation by name with its JSON body — the "raw API request" block for
//! what the other blocks do not cover (Sign, Verify, GetPublicKey, grants, imported key material, custom
//! key stores…).
//!
//! The request is KMS's own wire format (POST `/`, `X-Amz-Target: TrentService.<Operation>`, JSON 1.1),
//! signed with SigV4 by the connection's credentials (the SDK client's provider: profiles, SSO, roles as
//! for every block) and sent to the connection's endpoint. Calls are paced by the connection's quotas where
//! the operation has one keyflow models; errors keep KMS's code and message and say whether a retry helps,
//! as the other blocks' do. A call's effect and recovery come from [`OPERATIONS`], by the operation it
//! names, so a destructive operation needs `confirm: true` (refused by `validate` when the name is
//! literal) and `--allow-destructive`, and a lost PutKeyPolicy is reapplied where a lost CreateKey is
//! at-least-once. The output is KMS's response as it is: free-form, unchecked before the run (`validate`
//! warns at a reference into it).

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use aws_sdk_kms::config::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, EffectBy, Recovery,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{CONNECTOR, Operation, Quota, client};
use crate::cut;

/// Every AWS KMS API operation, what a call of it does, and how a call whose answer was lost is settled
/// when it is made again (after a timeout, or by `keyflow resume` after a crash). `Read` covers the
/// cryptographic operations too (they change no resource): `Repeat`. `Reapply` where calling again
/// succeeds and leaves the same state (a policy put, a tag set, a key enabled or disabled). The rest cannot
/// be settled by the raw call, `AtLeastOnce`: a repeat makes a second key, grant or rotation, or is refused
/// because the first took effect (`AlreadyExistsException`, a key already pending deletion).
pub const OPERATIONS: &[(&str, Effect, Recovery)] = &[
    ("CancelKeyDeletion", Effect::Update, Recovery::AtLeastOnce),
    (
        "ConnectCustomKeyStore",
        Effect::Update,
        Recovery::AtLeastOnce,
    ),
    ("CreateAlias", Effect::Create, Recovery::AtLeastOnce),
    (
        "CreateCustomKeyStore",
        Effect::Create,
        Recovery::AtLeastOnce,
    ),
    ("CreateGrant", Effect::Create, Recovery::AtLeastOnce),
    ("CreateKey", Effect::Create, Recovery::AtLeastOnce),
    ("Decrypt", Effect::Read, Recovery::Repeat),
    ("DeleteAlias", Effect::Destructive, Recovery::AtLeastOnce),
    (
        "DeleteCustomKeyStore",
        Effect::Destructive,
        Recovery::AtLeastOnce,
    ),
    (
        "DeleteImportedKeyMaterial",
        Effect::Destructive,
        Recovery::AtLeastOnce,
    ),
    ("DeriveSharedSecret", Effect::Read, Recovery::Repeat),
    ("DescribeCustomKeyStores", Effect::Read, Recovery::Repeat),
    ("DescribeKey", Effect::Read, Recovery::Repeat),
    ("DisableKey", Effect::Destructive, Recovery::Reapply),
    ("DisableKeyRotation", Effect::Destructive, Recovery::Reapply),
    (
        "DisconnectCustomKeyStore",
        Effect::Destructive,
        Recovery::AtLeastOnce,
    ),
    ("EnableKey", Effect::Update, Recovery::Reapply),
    ("EnableKeyRotation", Effect::Update, Recovery::Reapply),
    ("Encrypt", Effect::Read, Recovery::Repeat),
    ("GenerateDataKey", Effect::Read, Recovery::Repeat),
    ("GenerateDataKeyPair", Effect::Read, Recovery::Repeat),
    (
        "GenerateDataKeyPairWithoutPlaintext",
        Effect::Read,
        Recovery::Repeat,
    ),
    (
        "GenerateDataKeyWithoutPlaintext",
        Effect::Read,
        Recovery::Repeat,
    ),
    ("GenerateMac", Effect::Read, Recovery::Repeat),
    ("GenerateRandom", Effect::Read, Recovery::Repeat),
    ("GetKeyPolicy", Effect::Read, Recovery::Repeat),
    ("GetKeyRotationStatus", Effect::Read, Recovery::Repeat),
    ("GetParametersForImport", Effect::Read, Recovery::Repeat),
    ("GetPublicKey", Effect::Read, Recovery::Repeat),
    ("ImportKeyMaterial", Effect::Update, Recovery::AtLeastOnce),
    ("ListAliases", Effect::Read, Recovery::Repeat),
    ("ListGrants", Effect::Read, Recovery::Repeat),
    ("ListKeyPolicies", Effect::Read, Recovery::Repeat),
    ("ListKeyRotations", Effect::Read, Recovery::Repeat),
    ("ListKeys", Effect::Read, Recovery::Repeat),
    ("ListResourceTags", Effect::Read, Recovery::Repeat),
    ("ListRetirableGrants", Effect::Read, Recovery::Repeat),
    ("PutKeyPolicy", Effect::Update, Recovery::Reapply),
    ("ReEncrypt", Effect::Read, Recovery::Repeat),
    ("ReplicateKey", Effect::Create, Recovery::AtLeastOnce),
    ("RetireGrant", Effect::Destructive, Recovery::AtLeastOnce),
    ("RevokeGrant", Effect::Destructive, Recovery::AtLeastOnce),
    ("RotateKeyOnDemand", Effect::Update, Recovery::AtLeastOnce),
    (
        "ScheduleKeyDeletion",
        Effect::Destructive,
        Recovery::AtLeastOnce,
    ),
    ("Sign", Effect::Read, Recovery::Repeat),
    ("TagResource", Effect::Update, Recovery::Reapply),
    ("UntagResource", Effect::Destructive, Recovery::Reapply),
    ("UpdateAlias", Effect::Update, Recovery::Reapply),
    ("UpdateCustomKeyStore", Effect::Update, Recovery::Reapply),
    ("UpdateKeyDescription", Effect::Update, Recovery::Reapply),
    ("UpdatePrimaryRegion", Effect::Update, Recovery::AtLeastOnce),
    ("Verify", Effect::Read, Recovery::Repeat),
    ("VerifyMac", Effect::Read, Recovery::Repeat),
];

/// The input that decides a call's effect and recovery, and how.
const EFFECT_BY: EffectBy = EffectBy {
    input: "operation",
    table: OPERATIONS,
};

/// Input of `aws-kms.request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    /// The KMS API operation (`GetPublicKey`, `Sign`, `CreateGrant`…): it decides the call's effect.
    #[schemars(schema_with = "operation_schema")]
    pub operation: String,
    /// The request body as the KMS API reference gives it (PascalCase fields: `{ KeyId: …, Message: … }`;
    /// binary fields base64).
    #[serde(default)]
    pub body: Map<String, Value>,
}

fn operation_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    json!({
        "type": "string",
        "enum": EFFECT_BY.names(),
        "description": "The KMS API operation (`GetPublicKey`, `Sign`, `CreateGrant`…): it decides the call's effect.",
    })
    .try_into()
    .unwrap_or_default()
}

/// Output of `aws-kms.request`: KMS's JSON response as it is (`{}` for an operation without a body).
pub type RequestOutput = Value;

/// Calls any AWS KMS operation.
pub struct Request;

impl Block for Request {
    type Input = RequestInput;
    type Output = RequestOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.request",
            title: "KMS API Request",
            connector: Some(CONNECTOR),
            description: "Calls any AWS KMS operation by name with its JSON body, signed with the connection's \
                          credentials and paced by its quotas. Its effect is the operation's (read, create, \
                          update, destructive: a destructive one needs `confirm: true`), and so is its \
                          recovery (a read is repeated, an idempotent update such as PutKeyPolicy or \
                          TagResource reapplied, the rest at-least-once); its output is KMS's response, \
                          free-form: a reference into it is checked only by the run, and `validate` warns \
                          where one is written.",
            effect: Effect::Destructive,
            secret_outputs: &["Plaintext", "PrivateKeyPlaintext", "SharedSecret"],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::AtLeastOnce,
        }
    }

    fn effect_by(&self) -> Option<EffectBy> {
        Some(EFFECT_BY)
    }

    fn example_output(&self) -> Value {
        json!({
            "KeyId": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "KeySpec": "ECC_NIST_P256",
            "KeyUsage": "SIGN_VERIFY",
            "PublicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE…",
        })
    }

    async fn run(&self, ctx: &BlockContext, input: RequestInput) -> Result<Value, BlockError> {
        let kms = client(ctx)?;
        let operation = input.operation.as_str();
        if let Some(quota) = quota_of(operation) {
            kms.limit_in(ctx, quota, kms.region()).await;
        }
        let body = serde_json::to_vec(&input.body).unwrap_or_default();
        let url = kms.endpoint();
        let target = format!("TrentService.{operation}");
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ];
        let signed = signed_headers(kms, &url, &headers, &body).await?;
        let mut request = http().post(&url).body(body);
        for (name, value) in headers.iter().copied().chain(
            signed
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        ) {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| {
            let retryable = BlockError::retryable(
                if e.is_timeout() {
                    "Timeout"
                } else {
                    "DispatchFailure"
                },
                format!(
                    "{operation}: cannot reach AWS KMS at {url}: {}",
                    cut::text(&e.to_string(), cut::TEXT_CHARS)
                ),
            );
            // A request that may have been sent may have been applied.
            if e.is_timeout() {
                retryable.in_doubt()
            } else {
                retryable
            }
        })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| {
            BlockError::retryable("ResponseError", format!("{operation}: {e}")).in_doubt()
        })?;
        let value: Value = if bytes.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(&bytes).map_err(|_| {
                BlockError::fatal(
                    "ResponseError",
                    format!(
                        "{operation}: AWS KMS answered {status} with what is not JSON: {}",
                        cut::text(&String::from_utf8_lossy(&bytes), cut::TEXT_CHARS)
                    ),
                )
            })?
        };
        if (200..300).contains(&status) {
            return Ok(value);
        }
        Err(service_error(operation, status, &value))
    }
}

/// The client-side quota a call of `operation` counts against, where keyflow models one.
fn quota_of(operation: &str) -> Option<Quota> {
    if let Some(known) = Operation::from_name(operation) {
        return Some(known.quota());
    }
    // AWS's shared quota of the symmetric cryptographic operations.
    matches!(
        operation,
        "ReEncrypt"
            | "GenerateDataKeyWithoutPlaintext"
            | "GenerateRandom"
            | "GenerateMac"
            | "VerifyMac"
    )
    .then_some(Quota::Cryptographic)
}

/// SigV4 headers for a POST of `body` to `url` with `headers`, by the connection's credentials.
async fn signed_headers(
    kms: &super::KmsClient,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<(String, String)>, BlockError> {
    let no_credentials = |detail: String| {
        BlockError::fatal(
            "NoCredentials",
            format!(
                "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, use SSO \
                 (`aws sso login`), or give the connection a `role_arn` ({detail})"
            ),
        )
    };
    let provider = kms
        .credentials()
        .ok_or_else(|| no_credentials("no credentials provider".into()))?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| no_credentials(cut::text(&e.to_string(), cut::TEXT_CHARS).into_owned()))?;
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(kms.region())
        .name("kms")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| BlockError::fatal("SigningError", e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| BlockError::fatal("SigningError", e.to_string()))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| BlockError::fatal("SigningError", e.to_string()))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect())
}

/// KMS's error answer (`{"__type": "…#NotFoundException", "message": "…"}`) as a block error.
fn service_error(operation: &str, status: u16, body: &Value) -> BlockError {
    let kind = body["__type"]
        .as_str()
        .or_else(|| body["code"].as_str())
        .unwrap_or("UnknownError");
    let code = kind.rsplit('#').next().unwrap_or(kind);
    let message = body["message"]
        .as_str()
        .or_else(|| body["Message"].as_str())
        .unwrap_or("no message");
    let retryable = super::errors::RETRYABLE.contains(&code) || status >= 500 || status == 429;
    BlockError {
        code: cut::text(code, cut::CODE_CHARS).into_owned(),
        message: format!("{operation}: {}", cut::text(message, cut::TEXT_CHARS)),
        retryable,
        retry_after: None,
        in_doubt: status >= 500,
    }
}

/// One HTTP client for every raw request (connections differ only in endpoint and credentials).
fn http() -> &'static reqwest::Client {
    static HTTP: OnceLock<reqwest::Client> = OnceLock::new();
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .user_agent(concat!("keyflow/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            // A step's `retry:` is the only retry layer.
            .retry(reqwest::retry::never())
            .build()
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_unique_and_covers_every_operation_keyflow_models() {
        let names: Vec<&str> = OPERATIONS.iter().map(|(name, _, _)| *name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        for op in Operation::ALL {
            assert!(names.contains(&op.name()), "{op} is missing");
        }
        assert_eq!(
            EFFECT_BY.effect(&json!("ScheduleKeyDeletion")),
            Effect::Destructive
        );
        assert_eq!(EFFECT_BY.effect(&json!("GetPublicKey")), Effect::Read);
        assert_eq!(EFFECT_BY.effect(&json!("CreateGrant")), Effect::Create);
        assert_eq!(
            EFFECT_BY.effect(&json!("NoSuchOperation")),
            Effect::Destructive
        );
    }

    #[test]
    fn each_operation_is_settled_by_its_own_rule() {
        for (name, effect, recovery) in OPERATIONS {
            // A read is repeated; nothing else is: it changed something.
            assert_eq!(
                *effect == Effect::Read,
                *recovery == Recovery::Repeat,
                "{name}"
            );
            // A raw create cannot find what a lost one made.
            if *effect == Effect::Create {
                assert_eq!(*recovery, Recovery::AtLeastOnce, "{name}");
            }
        }
        for (name, recovery) in [
            ("GetPublicKey", Recovery::Repeat),
            ("PutKeyPolicy", Recovery::Reapply),
            ("TagResource", Recovery::Reapply),
            ("UpdateAlias", Recovery::Reapply),
            ("EnableKeyRotation", Recovery::Reapply),
            ("DisableKey", Recovery::Reapply),
            ("CreateKey", Recovery::AtLeastOnce),
            ("ScheduleKeyDeletion", Recovery::AtLeastOnce),
            ("NoSuchOperation", Recovery::AtLeastOnce),
        ] {
            assert_eq!(EFFECT_BY.recovery(&json!(name)), recovery, "{name}");
        }
    }

    #[test]
    fn an_error_answer_keeps_its_code_and_says_whether_to_retry() {
        let error = service_error(
            "Sign",
            400,
            &json!({ "__type": "com.amazonaws.kms#NotFoundException", "message": "no key" }),
        );
        assert_eq!(error.code, "NotFoundException");
        assert_eq!(error.message, "Sign: no key");
        assert!(!error.retryable);
        let throttled = service_error("Sign", 400, &json!({ "__type": "ThrottlingException" }));
        assert!(throttled.retryable);
    }
}
