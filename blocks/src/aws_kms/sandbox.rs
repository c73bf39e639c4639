//! Where an `aws-kms` connection lands under `--sandbox`: the KMS twin's endpoint and throwaway
//! credentials; the flow's region stays (the twin serves every region), else the twin's default.
//! [`KmsTwin`] is what the sandbox tells this connector, defined here beside the code that reads it.

use keyflow_engine::block::BlockError;
use keyflow_engine::exec::sandbox::TwinDescription;
use serde::{Deserialize, Serialize};

use super::{AwsKmsSettings, CONNECTOR};

/// What the AWS KMS twin tells an `aws-kms` connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsTwin {
    /// The twin's URL (`http://127.0.0.1:PORT`).
    pub endpoint_url: String,
    /// The access key id of the twin's principal.
    pub access_key_id: String,
    /// Its secret access key (throwaway, known to the twin only).
    pub secret_access_key: String,
    /// The region of a connection that names none.
    pub region: String,
}

impl TwinDescription for KmsTwin {
    const CONNECTOR: &'static str = CONNECTOR;
    const TWIN: &'static str = "the AWS KMS twin";
}

/// `settings` pointed at the twin: its endpoint and credentials replace the flow's; profiles and roles
/// are not used; client-side quotas stay.
pub fn settings(
    settings: AwsKmsSettings,
    twin: &serde_json::Value,
) -> Result<AwsKmsSettings, BlockError> {
    let twin = KmsTwin::read(twin)?;
    Ok(AwsKmsSettings {
        region: settings.region.or(Some(twin.region)),
        profile: None,
        role_arn: None,
        external_id: None,
        session_name: None,
        endpoint_url: Some(twin.endpoint_url),
        quotas: settings.quotas,
        sandbox_credentials: Some((twin.access_key_id, twin.secret_access_key.into())),
    })
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;
    use serde_json::json;

    use super::*;

    fn twin() -> KmsTwin {
        KmsTwin {
            endpoint_url: "http://127.0.0.1:9".into(),
            access_key_id: "AKIA".into(),
            secret_access_key: "s".into(),
            region: "eu-west-1".into(),
        }
    }

    #[test]
    fn the_twin_replaces_endpoint_credentials_and_roles_but_not_the_region() {
        let given = AwsKmsSettings {
            region: Some("us-east-1".into()),
            role_arn: Some("arn:aws:iam::111122223333:role/r".into()),
            profile: Some("prod".into()),
            ..AwsKmsSettings::default()
        };
        let value = serde_json::to_value(twin()).unwrap();
        let sandboxed = settings(given, &value).unwrap();
        assert_eq!(sandboxed.region.as_deref(), Some("us-east-1"));
        assert_eq!(
            sandboxed.endpoint_url.as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!((sandboxed.role_arn, sandboxed.profile), (None, None));
        let (id, secret) = sandboxed.sandbox_credentials.expect("credentials");
        assert_eq!((id.as_str(), secret.expose_secret()), ("AKIA", "s"));
        let default = settings(AwsKmsSettings::default(), &value).unwrap();
        assert_eq!(default.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn an_incomplete_description_is_refused() {
        let error = settings(AwsKmsSettings::default(), &json!({"region": "x"})).unwrap_err();
        assert!(
            error.message.contains("the AWS KMS twin is not described"),
            "{}",
            error.message
        );
    }
}
