//! Pass: the controls around a step (`for_each`, `concurrency`, `retry`, `timeout`, `until`) can work as
//! written.

use std::time::Duration;

use super::typing::Schemas;
use super::{Compiled, Context};
use crate::diagnostic::{Diagnostic, Kind};
use crate::schema::TypeSet;
use crate::schema::walk::types;

pub(crate) fn check(
    ctx: &Context<'_>,
    compiled: &Compiled,
    schemas: &Schemas<'_>,
    out: &mut Vec<Diagnostic>,
) {
    for (i, (step, model)) in compiled.steps.iter().zip(&ctx.flow.steps).enumerate() {
        let at = &step.at;
        let mut fail = |message: String, path| {
            out.push(Diagnostic::value(Kind::InvalidControl { message }, &path))
        };
        match (model.concurrency, &model.for_each) {
            (Some(_), None) => fail(
                "`concurrency` limits the items of `for_each`; this step has no `for_each`".into(),
                at.key("concurrency"),
            ),
            (Some(0), Some(_)) => fail(
                "`concurrency` must be at least 1".into(),
                at.key("concurrency"),
            ),
            _ => {}
        }
        if model.uses.is_some() {
            if model.retry.is_some() {
                fail(
                    "a template run is not retried as a whole (its creates would run twice): give its steps `retry:`"
                        .into(),
                    at.key("retry"),
                );
            }
            if model.until.is_some() {
                fail(
                    "`until:` polls a block; a template polls inside, with `until:` on its own steps".into(),
                    at.key("until"),
                );
            }
        }
        if let Some(retry) = &model.retry
            && retry.attempts == 0
        {
            fail(
                "`attempts` counts the first attempt too: it must be at least 1".into(),
                at.key("retry").key("attempts"),
            );
        }
        if model.timeout.is_some_and(|t| t.0 == Duration::ZERO) {
            fail(
                "`timeout` must be longer than zero".into(),
                at.key("timeout"),
            );
        }
        if let Some(until) = &model.until {
            let every = until.every.map_or(Duration::from_secs(5), |d| d.0);
            if every == Duration::ZERO {
                fail(
                    "`every` must be longer than zero".into(),
                    at.key("until").key("every"),
                );
            } else if every > until.timeout.0 {
                fail(
                    format!(
                        "`every` ({every:?}) is longer than `timeout` ({:?}): the condition would be checked once",
                        until.timeout.0
                    ),
                    at.key("until").key("every"),
                );
            }
        }
        if let Some(items) = &step.for_each {
            let schema = schemas.of_expr(items, Some(i));
            let found = types(&schema, &schema);
            if !found.is_empty() && !found.may_fit(TypeSet::ARRAY) {
                out.push(Diagnostic::value(
                    Kind::TypeMismatch {
                        what: "`for_each`".into(),
                        expected: "an array".into(),
                        found: found.describe(),
                        hint: Some(
                            "`for_each` takes a reference to an array, such as `$.params.tenants`, or a literal list"
                                .into(),
                        ),
                    },
                    &at.key("for_each"),
                ));
            }
        }
    }
}
