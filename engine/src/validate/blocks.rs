//! Pass: every step names a block the registry has (steps with `uses:` are checked by [`super::templates`]).

use super::Context;
use crate::diagnostic::{Diagnostic, Kind, suggest};
use crate::source::YamlPath;

pub(crate) fn check(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (i, step) in ctx.flow.steps.iter().enumerate() {
        let (Some(block), None) = (&step.block, &step.uses) else {
            continue;
        };
        if ctx.registry.get(block).is_none() {
            let ids: Vec<&str> = ctx.registry.blocks().map(|b| b.spec.id).collect();
            out.push(
                Diagnostic::value(
                    Kind::UnknownBlock {
                        block: block.clone(),
                    },
                    &YamlPath::root().key("steps").index(i).key("block"),
                )
                .suggest(suggest(block, ids)),
            );
        }
    }
}
