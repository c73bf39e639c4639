//! `aws-kms.list-tags`: List Tags from Key (ListResourceTags), every page.

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Operation;
use super::pages::{self, Page};
use super::shapes::{Tag, tags_out};
use super::{CONNECTOR, client, sdk_error};

/// Lists the tags of a key.
pub struct ListTags;

/// Input of `aws-kms.list-tags`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTagsInput {
    /// The key: its id or ARN.
    pub key_id: String,
    /// The most tags to return in all (every page is read until then); all of them without it.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub limit: Option<u32>,
}

/// Output of `aws-kms.list-tags`: every page's tags in one list.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsOutput {
    /// The tags, as AWS gives them (`[{TagKey, TagValue}]`).
    pub tags: Vec<Tag>,
}

impl Block for ListTags {
    type Input = ListTagsInput;
    type Output = ListTagsOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.list-tags",
            title: "List Tags from Key",
            connector: Some(CONNECTOR),
            description: "Lists the tags of a key (ListResourceTags), following every page; `limit` caps the total.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> ListTagsOutput {
        ListTagsOutput {
            tags: vec![Tag {
                tag_key: "team".into(),
                tag_value: "data-platform".into(),
            }],
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: ListTagsInput,
    ) -> Result<ListTagsOutput, BlockError> {
        let kms = client(ctx)?;
        let tags = pages::all(input.limit, pages::TAGS, |marker, size| {
            let key_id = input.key_id.clone();
            async move {
                kms.limit(ctx, Operation::ListResourceTags).await;
                let response = kms
                    .sdk()
                    .list_resource_tags()
                    .key_id(key_id)
                    .limit(size)
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(|e| sdk_error(Operation::ListResourceTags, e))?;
                let next = pages::next(response.truncated(), response.next_marker());
                Ok(Page {
                    entries: tags_out(response.tags()),
                    next,
                })
            }
        })
        .await?;
        Ok(ListTagsOutput { tags })
    }
}
