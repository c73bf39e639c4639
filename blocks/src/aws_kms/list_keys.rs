//! `aws-kms.list-keys`: List Keys (ListKeys), every page.

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Operation;
use super::pages::{self, Page};
use super::{CONNECTOR, client, sdk_error};

/// Lists the keys of the account and region.
pub struct ListKeys;

/// Input of `aws-kms.list-keys`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListKeysInput {
    /// The most keys to return in all (every page is read until then); all of them without it.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub limit: Option<u32>,
}

/// A key of the list.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    /// The key's id.
    pub key_id: String,
    /// The key's ARN.
    pub key_arn: String,
}

/// Output of `aws-kms.list-keys`: every page's keys in one list.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysOutput {
    /// The keys (AWS managed and customer managed; `aws-kms.describe-key` tells them apart).
    pub keys: Vec<KeyListEntry>,
}

impl Block for ListKeys {
    type Input = ListKeysInput;
    type Output = ListKeysOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.list-keys",
            title: "List Keys",
            connector: Some(CONNECTOR),
            description: "Lists the keys of the account and region (ListKeys), following every page; `limit` caps \
                          the total.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> ListKeysOutput {
        ListKeysOutput {
            keys: vec![KeyListEntry {
                key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
                key_arn:
                    "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                        .into(),
            }],
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: ListKeysInput,
    ) -> Result<ListKeysOutput, BlockError> {
        let kms = client(ctx)?;
        let keys = pages::all(input.limit, pages::KEYS, |marker, size| async move {
            kms.limit(ctx, Operation::ListKeys).await;
            let response = kms
                .sdk()
                .list_keys()
                .limit(size)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| sdk_error(Operation::ListKeys, e))?;
            let entries = response
                .keys()
                .iter()
                .map(|k| KeyListEntry {
                    key_id: k.key_id().unwrap_or_default().to_string(),
                    key_arn: k.key_arn().unwrap_or_default().to_string(),
                })
                .collect();
            Ok(Page {
                entries,
                next: pages::next(response.truncated(), response.next_marker()),
            })
        })
        .await?;
        Ok(ListKeysOutput { keys })
    }
}
