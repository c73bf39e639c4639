//! A rule over whole flows: a step that names an alias a step of the same flow creates waits for that
//! step. A literal alias name (`key_id: alias/qlik/t-42`) is not a reference, so nothing orders the two:
//! the step may run first and fail with `NotFoundException`, or only when the machine is busy.

use keyflow_engine::block::{CheckedFlow, Finding, FlowCheck};
use serde_json::Value;

const CREATE_ALIAS: &str = "aws-kms.create-alias";

/// The inputs of AWS KMS blocks that name a key, and so may name it by alias.
const KEY_INPUTS: &[&str] = &["key_id", "target_key_id"];

/// The rule.
pub struct AliasCreatedFirst;

impl FlowCheck for AliasCreatedFirst {
    fn blocks(&self) -> &'static [&'static str] {
        &[CREATE_ALIAS]
    }

    fn check(&self, flow: &CheckedFlow) -> Vec<Finding> {
        let input_of =
            |index: usize, name: &str| flow.steps[index].input.get(name).and_then(Value::as_str);
        let mut found = Vec::new();
        for creator in flow.calling(CREATE_ALIAS) {
            // A name previewed as `<why>` could not be known before the run.
            let Some(alias) =
                input_of(creator.index, "alias_name").filter(|a| a.starts_with("alias/"))
            else {
                continue;
            };
            for user in flow.steps.iter().filter(|s| {
                s.index != creator.index
                    && s.connector == creator.connector
                    && s.connection == creator.connection
            }) {
                let Some(input) = KEY_INPUTS
                    .iter()
                    .find(|name| input_of(user.index, name) == Some(alias))
                else {
                    continue;
                };
                // Before the alias exists (a check that it is free) is an order too.
                if flow.waits_for(user.index, creator.index)
                    || flow.waits_for(creator.index, user.index)
                {
                    continue;
                }
                let message = format!(
                    "`{input}` names `{alias}`, which step `{}` creates, but nothing makes step `{}` wait for it: \
                     it may run first and fail with NotFoundException (a literal alias name is not a reference)",
                    creator.id, user.id
                );
                found.push(
                    Finding::at_input(&user.id, input, "alias-not-created-yet", message)
                        .help(format!("add `after: {}` to step `{}`", creator.id, user.id)),
                );
            }
        }
        found
    }
}
