//! Pass: destructive steps carry `confirm: true`, the reviewed acknowledgement in the flow itself. A step
//! is destructive when its block is, or when the block's escalating input (`destructive_when`) is given and
//! is not literally `false`.

use serde_json::Value;

use super::{Compiled, Context};
use crate::block::Effect;
use crate::diagnostic::{Diagnostic, Kind};
use crate::expr::ValueExpr;

pub(crate) fn check(ctx: &Context<'_>, compiled: &Compiled, out: &mut Vec<Diagnostic>) {
    for (i, (step, model)) in compiled.steps.iter().zip(&ctx.flow.steps).enumerate() {
        let Some(call) = &step.call else { continue };
        if model.confirm {
            continue;
        }
        let escalation = call.spec().destructive_when.filter(|input| {
            step.with
                .get(*input)
                .is_some_and(|expr| !matches!(expr, ValueExpr::Literal(Value::Bool(false))))
        });
        if call.spec().effect == Effect::Destructive || escalation.is_some() {
            out.push(Diagnostic::value(
                Kind::MissingConfirm {
                    step: model.id.clone(),
                    block: ctx.block_name(i),
                    because: escalation.map(str::to_string),
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
