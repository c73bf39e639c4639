//! `aws-kms.replicate-key`: Replicate Key (ReplicateKey).

use aws_sdk_kms::config::Region;
use aws_sdk_kms::types::{self, MultiRegionKeyType};
use indexmap::IndexMap;
use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, LogLevel, Recovery,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::recovery::{describe, key_id_of, pending_deletion, tags_of};
use super::shapes::{
    KeyMetadata, PolicyInput, Tag, example_key_metadata, key_metadata, required, tags_in, tags_out,
};
use super::{CONNECTOR, KmsClient, checks, client, sdk_error};
use super::{Operation, Quota};

/// Copies a multi-Region primary key into another region.
pub struct ReplicateKey;

/// Input of `aws-kms.replicate-key`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicateKeyInput {
    /// The multi-Region primary key (`mrk-…`): its id or ARN.
    pub key_id: String,
    /// The region of the replica (`eu-central-1`), not the connection's.
    #[schemars(pattern(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"))]
    pub replica_region: String,
    /// The replica's key policy, as a mapping or JSON text; the default key policy without it.
    #[serde(default)]
    pub policy: Option<PolicyInput>,
    /// The replica's description; the primary's without it.
    #[serde(default)]
    pub description: Option<String>,
    /// The replica's tags as a map; keys may not start with `aws:`.
    #[serde(default)]
    pub tags: IndexMap<String, String>,
}

/// Output of `aws-kms.replicate-key`: the ReplicateKey response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateKeyOutput {
    /// The replica, in its region.
    pub replica_key_metadata: KeyMetadata,
    /// The replica's key policy as JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_policy: Option<String>,
    /// The replica's tags.
    pub replica_tags: Vec<Tag>,
}

impl Block for ReplicateKey {
    type Input = ReplicateKeyInput;
    type Output = ReplicateKeyOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.replicate-key",
            title: "Replicate Key",
            connector: Some(CONNECTOR),
            description: "Creates a replica of a multi-Region primary key in another region (ReplicateKey), with \
                          the same key material: how a tenant's key reaches its disaster-recovery region. A replica \
                          of the same primary already in that region (a retry or `keyflow resume` after a lost \
                          answer) is answered instead of an AlreadyExistsException.",
            effect: Effect::Create,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::FindFirst,
        }
    }

    fn example_output(&self) -> ReplicateKeyOutput {
        let mut metadata = example_key_metadata();
        metadata.key_id = "mrk-1234abcd12ab34cd56ef1234567890ab".into();
        metadata.arn = Some(
            "arn:aws:kms:eu-central-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab".into(),
        );
        metadata.multi_region = Some(true);
        ReplicateKeyOutput {
            replica_key_metadata: metadata,
            replica_policy: None,
            replica_tags: vec![Tag {
                tag_key: "team".into(),
                tag_value: "data-platform".into(),
            }],
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: ReplicateKeyInput,
    ) -> Result<ReplicateKeyOutput, BlockError> {
        checks::region("replica_region", &input.replica_region)?;
        checks::tags(&input.tags)?;
        let policy = input
            .policy
            .as_ref()
            .map(|p| checks::policy("policy", p))
            .transpose()?;
        let kms = client(ctx)?;
        if input.replica_region == kms.region() {
            return Err(BlockError::invalid_input(format!(
                "`replica_region` is `{}`, the region of the key itself: name another region",
                input.replica_region
            )));
        }
        if ctx.recovering()
            && let Some(found) = replica(ctx, kms, &input.key_id, &input.replica_region).await?
        {
            return Ok(found);
        }
        kms.limit(ctx, Operation::ReplicateKey).await;
        kms.limit_in(ctx, Quota::ReplicaCreateKey, &input.replica_region)
            .await;
        let replicated = kms
            .sdk()
            .replicate_key()
            .key_id(&input.key_id)
            .replica_region(&input.replica_region)
            .set_policy(policy)
            .set_description(input.description)
            .set_tags(if input.tags.is_empty() {
                None
            } else {
                Some(tags_in(&input.tags)?)
            })
            .send()
            .await
            .map_err(|e| sdk_error(Operation::ReplicateKey, e));
        let response = match replicated {
            Err(error) if error.code == "AlreadyExistsException" => {
                return match replica(ctx, kms, &input.key_id, &input.replica_region).await? {
                    Some(found) => Ok(found),
                    None => Err(error),
                };
            }
            other => other?,
        };
        let metadata = required(
            "ReplicateKey",
            "ReplicaKeyMetadata",
            response.replica_key_metadata(),
        )?;
        Ok(ReplicateKeyOutput {
            replica_key_metadata: key_metadata(metadata),
            replica_policy: response.replica_policy().map(str::to_string),
            replica_tags: tags_out(response.replica_tags()),
        })
    }
}

/// The replica of primary `key_id` (an id or ARN) in `region`, as ReplicateKey would have answered it,
/// when there is one that is not pending deletion.
async fn replica(
    ctx: &BlockContext,
    kms: &KmsClient,
    key_id: &str,
    region: &str,
) -> Result<Option<ReplicateKeyOutput>, BlockError> {
    // A replica keeps its primary's key id: in the replica's region, the id names it.
    let id = key_id_of(key_id);
    let Some(metadata) = describe(ctx, kms, id, Some(region)).await? else {
        return Ok(None);
    };
    if !is_replica(&metadata) || pending_deletion(&metadata) {
        return Ok(None);
    }
    ctx.log(
        LogLevel::Info,
        format!("{id} already has a replica in {region}: using it"),
    );
    kms.limit_in(ctx, Operation::GetKeyPolicy.quota(), region)
        .await;
    let policy = kms
        .sdk()
        .get_key_policy()
        .key_id(id)
        .policy_name("default")
        .customize()
        .config_override(
            aws_sdk_kms::config::Builder::default().region(Region::new(region.to_string())),
        )
        .send()
        .await
        .map_err(|e| sdk_error(Operation::GetKeyPolicy, e))?;
    Ok(Some(ReplicateKeyOutput {
        replica_key_metadata: key_metadata(&metadata),
        replica_policy: policy.policy().map(str::to_string),
        replica_tags: tags_of(ctx, kms, id, Some(region)).await?,
    }))
}

/// Whether a key is a multi-Region replica.
fn is_replica(metadata: &types::KeyMetadata) -> bool {
    metadata
        .multi_region_configuration()
        .and_then(|c| c.multi_region_key_type())
        == Some(&MultiRegionKeyType::Replica)
}
