//! Pass: triggers can fire as written. Each cron expression parses (a mistake pointed at its field) and
//! matches some date, each time zone is in the IANA database (a misspelt one answered with the nearest
//! names), ids are unique, the catch-up settings agree, and `params` fit the flow's like `--param`.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::Context;
use crate::diagnostic::{Diagnostic, Kind};
use crate::model::{CatchUp, Trigger as Written};
use crate::plan::ParamSpec;
use crate::schedule::{self, CronExpr, Trigger};
use crate::source::YamlPath;

/// The checked triggers, in file order (those with a problem left out: the flow is then invalid anyway).
pub(crate) fn check(
    ctx: &Context<'_>,
    params: &IndexMap<String, ParamSpec>,
    out: &mut Vec<Diagnostic>,
) -> Vec<Trigger> {
    let mut checked = Vec::new();
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, written) in ctx.flow.triggers.iter().enumerate() {
        let at = YamlPath::root().key("triggers").index(i);
        let found = out.len();
        let id = written.id.clone().unwrap_or_else(|| i.to_string());
        let id_at = if written.id.is_some() {
            at.key("id")
        } else {
            at.key("cron")
        };
        if written.id.is_some() && !is_trigger_id(&id) {
            out.push(Diagnostic::value(
                Kind::InvalidTrigger {
                    message: format!("invalid trigger id `{id}`: use letters, digits, `-` and `_`"),
                },
                &id_at,
            ));
        }
        if let Some(&before) = first.get(&id) {
            out.push(Diagnostic::value(
                Kind::InvalidTrigger {
                    message: format!(
                        "duplicate trigger id `{id}`: trigger {before} has it already{}",
                        if written.id.is_none() {
                            " (a trigger without `id` is known by its index)"
                        } else {
                            ""
                        }
                    ),
                },
                &id_at,
            ));
        } else {
            first.insert(id.clone(), i);
        }
        let cron = match CronExpr::parse(&written.cron) {
            Ok(cron) => Some(cron),
            Err(error) => {
                out.push(Diagnostic::part(
                    Kind::InvalidCron {
                        message: error.message,
                    },
                    &at.key("cron"),
                    error.range,
                ));
                None
            }
        };
        let zone_name = written.timezone.as_deref().unwrap_or("UTC");
        let zone = schedule::zone(zone_name);
        if zone.is_none() {
            let nearest = nearest_zone(ctx, zone_name);
            let mut diagnostic = Diagnostic::value(
                Kind::UnknownTimezone {
                    name: zone_name.to_string(),
                },
                &at.key("timezone"),
            );
            diagnostic.note = match (&cron, nearest.as_deref().and_then(schedule::zone)) {
                (Some(cron), Some(meant)) => fire_times(cron, meant),
                _ => None,
            };
            out.push(diagnostic.suggest(nearest));
        }
        catch_up(written, &at, out);
        if written.pause_after_failures == Some(0) {
            out.push(Diagnostic::value(
                Kind::InvalidTrigger {
                    message:
                        "`pause_after_failures` must be at least 1 (leave it out never to pause)"
                            .into(),
                },
                &at.key("pause_after_failures"),
            ));
        }
        trigger_params(ctx, &id, written, params, &at, out);
        if let (Some(cron), Some(zone), true) = (cron, zone, out.len() == found) {
            checked.push(Trigger {
                id,
                cron,
                zone,
                params: written.params.clone(),
                overlap: written.overlap,
                catch_up: written.catch_up,
                catch_up_window: written.catch_up_window.map(|w| w.0),
                enabled: written.enabled,
                pause_after_failures: written.pause_after_failures,
                allow_destructive: written.allow_destructive,
            });
        }
    }
    checked
}

/// A trigger id: letters, digits, `-` and `_` (it names the trigger in `keyflow schedule list`, the
/// store and the daemon's API).
fn is_trigger_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

fn catch_up(written: &Written, at: &YamlPath, out: &mut Vec<Diagnostic>) {
    match (written.catch_up, written.catch_up_window) {
        (CatchUp::None, Some(_)) => out.push(Diagnostic::key(
            Kind::InvalidTrigger {
                message: "`catch_up_window` has no effect with `catch_up: none` (no missed firing runs)"
                    .into(),
            },
            &at.key("catch_up_window"),
        )),
        (CatchUp::All, None) => out.push(Diagnostic::value(
            Kind::InvalidTrigger {
                message: "`catch_up: all` needs a `catch_up_window` (how far back to run missed firings, \
                          such as `1d`)"
                    .into(),
            },
            &at.key("catch_up"),
        )),
        _ => {}
    }
}

/// The trigger's params against the flow's: every name declared, every value of its type, every required
/// one given (defaults fill in the others).
fn trigger_params(
    ctx: &Context<'_>,
    id: &str,
    written: &Written,
    specs: &IndexMap<String, ParamSpec>,
    at: &YamlPath,
    out: &mut Vec<Diagnostic>,
) {
    let problem = |name: &str, message: String| Kind::TriggerParam {
        trigger: id.to_string(),
        name: name.to_string(),
        message,
    };
    for (name, value) in &written.params {
        let value_at = at.key("params").key(name);
        match specs.get(name) {
            None => {
                let message = if specs.is_empty() {
                    "the flow declares no parameters".to_string()
                } else {
                    "the flow has no such parameter".to_string()
                };
                out.push(
                    Diagnostic::key(problem(name, message), &value_at)
                        .suggest(ctx.suggester.suggest(name, specs.keys())),
                );
            }
            Some(spec) => {
                if let Err(message) = spec.accept(value) {
                    out.push(Diagnostic::value(problem(name, message), &value_at));
                }
            }
        }
    }
    let missing_at = if !written.params.is_empty() {
        at.key("params")
    } else if written.id.is_some() {
        at.key("id")
    } else {
        at.key("cron")
    };
    for (name, spec) in specs {
        if spec.default.is_none() && !written.params.contains_key(name) {
            let what = spec
                .description
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            out.push(Diagnostic::key(
                problem(
                    name,
                    format!("required{what}; give it under the trigger's `params:`"),
                ),
                &missing_at,
            ));
        }
    }
}

/// The next fire times of expression `cron` read in `zone`, for the help of a zone that was misspelt:
/// what the trigger would do with the zone it was probably meant to have.
fn fire_times(cron: &CronExpr, zone: chrono_tz::Tz) -> Option<String> {
    let meant = Trigger {
        id: String::new(),
        cron: cron.clone(),
        zone,
        params: IndexMap::new(),
        overlap: Default::default(),
        catch_up: Default::default(),
        catch_up_window: None,
        enabled: true,
        pause_after_failures: None,
        allow_destructive: false,
    };
    let format = if cron.has_seconds() {
        "%a %Y-%m-%d %H:%M:%S %Z"
    } else {
        "%a %Y-%m-%d %H:%M %Z"
    };
    let times: Vec<String> = schedule::upcoming(&meant, chrono::Utc::now(), 3)
        .into_iter()
        .map(|t| t.with_timezone(&zone).format(format).to_string())
        .collect();
    (!times.is_empty()).then(|| {
        format!(
            "in `{}` it would fire next at {}",
            zone.name(),
            times.join(", ")
        )
    })
}

/// The zone name closest to `name`: by the whole name (`Europe/Berln`), else by its city
/// (`Berlin`, `new york`).
fn nearest_zone(ctx: &Context<'_>, name: &str) -> Option<String> {
    if let Some(close) = ctx.suggester.suggest(name, schedule::zone_names()) {
        return Some(close);
    }
    let city = name.trim().replace(' ', "_");
    let cities: Vec<&str> = schedule::zone_names()
        .map(|zone| zone.rsplit('/').next().unwrap_or(zone))
        .collect();
    let close = ctx.suggester.suggest(&city, &cities).or_else(|| {
        cities
            .iter()
            .find(|c| c.eq_ignore_ascii_case(&city))
            .map(|c| c.to_string())
    })?;
    schedule::zone_names()
        .filter(|zone| zone.rsplit('/').next() == Some(close.as_str()))
        .min_by_key(|zone| zone.len())
        .map(str::to_string)
}
