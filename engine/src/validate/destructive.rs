//! Pass: destructive steps carry `confirm: true`, the reviewed acknowledgement in the flow itself.

use super::{Compiled, Context};
use crate::block::Effect;
use crate::diagnostic::{Diagnostic, Kind};

pub(crate) fn check(ctx: &Context<'_>, compiled: &Compiled, out: &mut Vec<Diagnostic>) {
    for (step, model) in compiled.steps.iter().zip(&ctx.flow.steps) {
        let Some(block) = &step.block else { continue };
        if block.spec.effect == Effect::Destructive && !model.confirm {
            out.push(Diagnostic::value(
                Kind::MissingConfirm {
                    step: model.id.clone(),
                    block: model.block.clone(),
                },
                &step.at.key("block"),
            ));
        }
    }
}
