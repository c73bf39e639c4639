//! Pass: destructive steps carry `confirm: true`, the reviewed acknowledgement in the flow itself. A step
//! is destructive when its block is, when the block's escalating input (`destructive_when`) is given and
//! is not literally `false`, or when the input deciding its effect (a raw request's `operation`) names a
//! destructive operation or is an expression.

use super::{Compiled, Context};
use crate::block::Effect;
use crate::diagnostic::{Diagnostic, Kind};

pub(crate) fn check(ctx: &Context<'_>, compiled: &Compiled, out: &mut Vec<Diagnostic>) {
    for (i, (step, model)) in compiled.steps.iter().zip(&ctx.flow.steps).enumerate() {
        let Some(call) = &step.call else { continue };
        if model.confirm {
            continue;
        }
        let (effect, because) = call.effect_before_run(&step.with);
        if effect == Effect::Destructive {
            out.push(Diagnostic::value(
                Kind::MissingConfirm {
                    step: model.id.clone(),
                    block: ctx.block_name(i),
                    because,
                },
                &step.at.key(if model.uses.is_some() {
                    "uses"
                } else {
                    "block"
                }),
            ));
        }
    }
}
