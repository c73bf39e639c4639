//! `aws-kms.list-aliases`: List Aliases (ListAliases), every page.

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Operation;
use super::pages::{self, Page};
use super::shapes::time;
use super::{CONNECTOR, client, sdk_error};

/// Lists aliases.
pub struct ListAliases;

/// Input of `aws-kms.list-aliases`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAliasesInput {
    /// Only the aliases of this key (its id or ARN).
    #[serde(default)]
    pub key_id: Option<String>,
    /// The most aliases to return in all (every page is read until then); all of them without it.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub limit: Option<u32>,
}

/// An alias.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    /// `alias/…`.
    pub alias_name: Option<String>,
    /// The alias's ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_arn: Option<String>,
    /// The id of the key it points to (absent for aliases of no key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_key_id: Option<String>,
    /// When it was created (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    /// When it last pointed to another key (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_date: Option<String>,
}

/// Output of `aws-kms.list-aliases`: every page's aliases in one list.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesOutput {
    /// The aliases.
    pub aliases: Vec<AliasListEntry>,
}

impl Block for ListAliases {
    type Input = ListAliasesInput;
    type Output = ListAliasesOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "aws-kms.list-aliases",
            title: "List Aliases",
            connector: Some(CONNECTOR),
            description: "Lists the aliases of the account and region, or of one key (ListAliases), following every \
                          page; `limit` caps the total.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> ListAliasesOutput {
        ListAliasesOutput {
            aliases: vec![AliasListEntry {
                alias_name: Some("alias/qlik-tenant-1".into()),
                alias_arn: Some("arn:aws:kms:eu-west-1:111122223333:alias/qlik-tenant-1".into()),
                target_key_id: Some("1234abcd-12ab-34cd-56ef-1234567890ab".into()),
                creation_date: Some("2026-11-23T09:00:00Z".into()),
                last_updated_date: Some("2026-11-23T09:00:00Z".into()),
            }],
        }
    }

    async fn run(
        &self,
        ctx: &BlockContext,
        input: ListAliasesInput,
    ) -> Result<ListAliasesOutput, BlockError> {
        let kms = client(ctx)?;
        let aliases = pages::all(input.limit, pages::ALIASES, |marker, size| {
            let key_id = input.key_id.clone();
            async move {
                kms.limit(ctx, Operation::ListAliases).await;
                let response = kms
                    .sdk()
                    .list_aliases()
                    .set_key_id(key_id)
                    .limit(size)
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(|e| sdk_error(Operation::ListAliases, e))?;
                let entries = response
                    .aliases()
                    .iter()
                    .map(|a| AliasListEntry {
                        alias_name: a.alias_name().map(str::to_string),
                        alias_arn: a.alias_arn().map(str::to_string),
                        target_key_id: a.target_key_id().map(str::to_string),
                        creation_date: time(a.creation_date()),
                        last_updated_date: time(a.last_updated_date()),
                    })
                    .collect();
                Ok(Page {
                    entries,
                    next: pages::next(response.truncated(), response.next_marker()),
                })
            }
        })
        .await?;
        Ok(ListAliasesOutput { aliases })
    }
}
