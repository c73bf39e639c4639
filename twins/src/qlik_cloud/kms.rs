//! The checks Qlik Cloud makes on a key before it registers or validates it, made against a real KMS
//! peer (moto, the sandbox): DescribeKey with the account's credentials (symmetric, encrypt/decrypt,
//! enabled, in the tenant's region, replicated to the DR region), then whether Qlik may use the key, in
//! the key's region and in the DR replica's. With the proxy role's credentials (the sandbox) that is
//! [`super::probe`]: the key is used as Qlik's proxy role and the peer's policy evaluation decides.
//! Without them (moto ignores key policies) GetKeyPolicy is read with [`keyflow_blocks::qlik_cloud::policy`].
//!
//! Only `Encryption-88` (policy) is a code seen from Qlik; `Encryption-86` (no access), `-87` (unusable
//! key) and `-89` (no DR replica) are the twin's own, in the same pattern.
//!
//! Against moto 5.2.5 (`KEYFLOW_MOTO_URL`, see the tests): it leaves `KeyUsage` out for keys created
//! without one, and a replica keeps the policy its primary had when it was replicated (each region's
//! policy is then changed on its own, as in AWS).

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType};
use serde_json::Value;

use super::KmsPeer;
use super::model::{ComplianceError, KeyFacts, REPLICA_CODE, Refusal, Replica};
use super::probe::{Clients, Probe};
use keyflow_blocks::aws_kms::facts::Arn;
use keyflow_blocks::qlik_cloud::policy::{self, Finding, Partition, PolicyRequirements};
use keyflow_blocks::qlik_cloud::regions;

fn policy_message(region: &str, findings: &[Finding]) -> String {
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    format!(
        "The policy of the provided key does not allow the required access [{region}]: {}",
        messages.join("; ")
    )
}

/// The KMS peer: the account's clients, and the proxy role's when the peer evaluates key policies.
pub struct Checker {
    account: Clients,
    proxy: Option<Probe>,
}

impl Checker {
    /// Checks against the KMS `peer`.
    pub fn new(peer: KmsPeer) -> Checker {
        let (key_id, secret) = peer
            .credentials
            .unwrap_or_else(|| ("testing".into(), "testing".into()));
        Checker {
            account: Clients::new(&peer.endpoint_url, &key_id, &secret),
            proxy: peer.proxy.map(|role| Probe::new(&peer.endpoint_url, &role)),
        }
    }

    /// Calls made so far, with either credentials.
    pub fn calls(&self) -> u64 {
        self.account.calls() + self.proxy.as_ref().map_or(0, Probe::calls)
    }

    /// The account's client of `region`, for one call.
    fn client(&self, region: &str) -> aws_sdk_kms::Client {
        self.account.get(region)
    }

    /// Checks key `arn` (already well formed) for `tenant_id`, whose data lives in `datacenter`.
    pub async fn inspect(
        &self,
        arn: &str,
        tenant_id: &str,
        datacenter: &str,
    ) -> Result<KeyFacts, Refusal> {
        let region = Arn::parse(arn).map_or("", |arn| arn.region);
        let described = self
            .client(region)
            .describe_key()
            .key_id(arn)
            .send()
            .await
            .map_err(|e| refusal("DescribeKey", e))?;
        let Some(meta) = described.key_metadata() else {
            return Err(Refusal::Forbidden(format!(
                "DescribeKey of `{arn}` returned no key metadata"
            )));
        };
        let spec = meta.key_spec().map_or("unknown", KeySpec::as_str);
        if meta.key_spec() != Some(&KeySpec::SymmetricDefault) {
            return Err(Refusal::Unusable(format!(
                "the key spec is `{spec}`: Qlik Cloud needs a symmetric key (`SYMMETRIC_DEFAULT`)"
            )));
        }
        // A SYMMETRIC_DEFAULT key can only be ENCRYPT_DECRYPT; moto 5.2.5 leaves the usage out when
        // CreateKey did not name it, so only a usage that is there and different refuses the key.
        if let Some(usage) = meta
            .key_usage()
            .filter(|usage| **usage != KeyUsageType::EncryptDecrypt)
        {
            let usage = usage.as_str();
            return Err(Refusal::Unusable(format!(
                "the key usage is `{usage}`: Qlik Cloud needs `ENCRYPT_DECRYPT`"
            )));
        }
        if meta.key_state() != Some(&KeyState::Enabled) {
            let state = meta.key_state().map_or("unknown", KeyState::as_str);
            return Err(Refusal::Unusable(format!(
                "the key is `{state}`: Qlik Cloud needs an `Enabled` key"
            )));
        }
        if region != datacenter {
            return Err(Refusal::Unusable(format!(
                "the key is in `{region}` but tenant `{tenant_id}` lives in `{datacenter}`: use a key of \
                 `{datacenter}`"
            )));
        }
        let key_arn = meta.arn().unwrap_or(arn).to_string();
        let multi_region = meta.multi_region().unwrap_or(false);
        let replica_keys: Vec<Replica> = meta
            .multi_region_configuration()
            .map(|config| config.replica_keys())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| {
                Some(Replica {
                    arn: r.arn()?.to_string(),
                    region: r.region()?.to_string(),
                })
            })
            .collect();
        let req = PolicyRequirements {
            tenant_id,
            partition: Partition::of_arn(arn).unwrap_or(Partition::Aws),
            multi_region,
        };
        self.usable_by_qlik(region, &key_arn, &req).await?;
        let compliance_error = self.dr_fault(datacenter, &replica_keys, &req).await;
        Ok(KeyFacts {
            multi_region,
            replica_keys,
            dr_compliant: compliance_error.is_none(),
            compliance_error,
        })
    }

    /// What keeps the key from the DR region, `None` when its replica there is usable or none is needed.
    async fn dr_fault(
        &self,
        datacenter: &str,
        replicas: &[Replica],
        req: &PolicyRequirements<'_>,
    ) -> Option<ComplianceError> {
        let dr = regions::dr_region(datacenter)?;
        let Some(replica) = replicas.iter().find(|r| r.region == dr) else {
            return Some(ComplianceError {
                code: REPLICA_CODE.into(),
                region: dr.into(),
                message: format!(
                    "The provided key has no replica key in the DR region [{dr}]: make it a multi-Region key \
                     and replicate it to `{dr}`"
                ),
            });
        };
        self.usable_by_qlik(dr, &replica.arn, req)
            .await
            .err()
            .map(|refusal| refusal.compliance(dr))
    }

    /// Whether Qlik may use key `key_arn` of `region`: by using it as the proxy role when the peer has its
    /// credentials, by the rules over its policy otherwise.
    async fn usable_by_qlik(
        &self,
        region: &str,
        key_arn: &str,
        req: &PolicyRequirements<'_>,
    ) -> Result<(), Refusal> {
        if let Some(probe) = &self.proxy {
            return probe
                .run(region, key_arn, req.tenant_id, req.multi_region)
                .await;
        }
        let findings = self.findings(region, key_arn, req).await?;
        if findings.is_empty() {
            return Ok(());
        }
        Err(Refusal::Policy {
            region: region.to_string(),
            message: policy_message(region, &findings),
        })
    }

    /// The findings on the policy of key `key_arn` in `region`.
    async fn findings(
        &self,
        region: &str,
        key_arn: &str,
        req: &PolicyRequirements<'_>,
    ) -> Result<Vec<Finding>, Refusal> {
        let answer = self
            .client(region)
            .get_key_policy()
            .key_id(key_arn)
            .policy_name("default")
            .send()
            .await
            .map_err(|e| refusal("GetKeyPolicy", e))?;
        let document = answer
            .policy()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null);
        Ok(policy::check(&document, req))
    }
}

/// An SDK error as a refusal: the key missing or closed → Forbidden, the peer silent → Unreachable.
fn refusal<E>(operation: &str, error: SdkError<E, HttpResponse>) -> Refusal
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = err.code().unwrap_or("UnknownError");
            let message = err.message().unwrap_or_default();
            let why = format!("{operation}: {code}: {message}");
            match code {
                "NotFoundException"
                | "AccessDeniedException"
                | "InvalidArnException"
                | "UnrecognizedClientException" => Refusal::Forbidden(why),
                _ => Refusal::Unusable(why),
            }
        }
        _ => Refusal::Unreachable(format!(
            "{operation}: AWS KMS did not answer: {}",
            DisplayErrorContext(&error)
        )),
    }
}
