//! `qlik-cloud.create-key-provider`: Create Key Provider (`POST …/keyproviders`).

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, LogLevel, Recovery,
};
use regex::Regex;
use reqwest::Method;
use schemars::JsonSchema;
use serde::Deserialize;

use super::client::Outcome;
use super::recovery::provider_with_arn;
use super::shapes::{KeyProvider, decode, example_provider};
use super::{CONNECTOR, client};

/// Registers an AWS KMS key with the tenant.
pub struct CreateKeyProvider;

/// The kind of key provider.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
pub enum ProviderKind {
    /// AWS KMS, the only kind Qlik Cloud takes.
    #[default]
    #[serde(rename = "AWS-KMS")]
    AwsKms,
}

/// What Qlik checks an ARN against (417 otherwise).
const ARN: &str =
    r"^arn:aws(-us-gov|-cn)?:kms:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$";

/// Input of `qlik-cloud.create-key-provider`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyProviderInput {
    /// The KMS key's ARN (`$.steps.create_key.output.KeyMetadata.Arn`), in the tenant's region.
    #[schemars(pattern(ARN))]
    pub arn: String,
    /// The provider's display name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// The kind of provider (default `AWS-KMS`, the only one).
    #[serde(default)]
    pub keyprovider: ProviderKind,
}

impl Block for CreateKeyProvider {
    type Input = CreateKeyProviderInput;
    type Output = KeyProvider;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.create-key-provider",
            title: "Create Key Provider",
            connector: Some(CONNECTOR),
            description: "Registers an AWS KMS key as a key provider of the tenant; Qlik Cloud checks the ARN, its \
                          access to the key and the key policy. The answer's `arnFingerPrint` names it from then on. \
                          A key already registered (Qlik's 409, as after a retry or `keyflow resume` whose answer \
                          was lost) answers the provider registered for it.",
            effect: Effect::Create,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::FindFirst,
        }
    }

    fn example_output(&self) -> KeyProvider {
        example_provider()
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: CreateKeyProviderInput,
    ) -> Result<KeyProvider, BlockError> {
        let arn = input.arn.trim();
        if !Regex::new(ARN).is_ok_and(|re| re.is_match(arn)) {
            return Err(BlockError::invalid_input(format!(
                "`arn` `{arn}` is not a KMS key ARN such as arn:aws:kms:eu-west-1:111122223333:key/mrk-…"
            )));
        }
        let mut body =
            serde_json::json!({ "arn": arn, "name": input.name, "keyprovider": "AWS-KMS" });
        if let Some(description) = input.description {
            body["description"] = description.into();
        }
        if ctx.recovering()
            && let Some(found) = provider_with_arn(ctx, arn).await?
        {
            return Ok(registered(ctx, found));
        }
        let outcome = client(ctx)?
            .attempt(
                "Create Key Provider",
                Method::POST,
                "/api/v1/encryption/keyproviders",
                Some(&body),
            )
            .await?;
        match outcome {
            Outcome::Done(answer) => decode("Create Key Provider", answer.body),
            // "The provided key is already registered": the same ARN, so the provider asked for exists.
            Outcome::Refused { status: 409, error } => match provider_with_arn(ctx, arn).await? {
                Some(found) => Ok(registered(ctx, found)),
                None => Err(error),
            },
            Outcome::Refused { error, .. } => Err(error),
        }
    }
}

/// The provider found registered for the key, said in the log.
fn registered(ctx: &BlockContext, found: KeyProvider) -> KeyProvider {
    ctx.log(
        LogLevel::Info,
        format!(
            "{} is already registered as key provider {}: using it",
            found.arn, found.arn_finger_print
        ),
    );
    found
}
