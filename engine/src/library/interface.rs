//! A template's interface — its params, outputs and effect — and how two versions of it differ. A change
//! a caller can notice (a param removed or retyped, a new required param, an output removed or retyped,
//! a stronger effect) is breaking: `keyflow template check` refuses it without a new major version, and
//! `keyflow update` prints every change.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::digest;
use crate::block::Effect;
use crate::plan::Template;

/// What a caller of a template relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    /// Its params (the `with:` of a step that uses it), by name.
    pub params: BTreeMap<String, Param>,
    /// Its outputs (the step's output), by name, with their JSON type (`string`, `array`,
    /// `object|null`…; `any` when it is not known).
    pub outputs: BTreeMap<String, String>,
    /// The strongest effect of its steps.
    pub effect: Effect,
}

/// A param of a template's interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Its type: `string`, `integer`, `number`, `boolean`, `object` or `array`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether a caller must give it (it has no default).
    pub required: bool,
}

/// One difference between two versions of an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    ParamAdded {
        name: String,
        required: bool,
    },
    ParamRemoved {
        name: String,
    },
    ParamRetyped {
        name: String,
        from: String,
        to: String,
    },
    ParamRequired {
        name: String,
    },
    ParamOptional {
        name: String,
    },
    OutputAdded {
        name: String,
    },
    OutputRemoved {
        name: String,
    },
    OutputRetyped {
        name: String,
        from: String,
        to: String,
    },
    EffectRaised {
        from: Effect,
        to: Effect,
    },
    EffectLowered {
        from: Effect,
        to: Effect,
    },
}

impl Change {
    /// Whether a caller written for the old interface can break under the new one.
    pub fn breaking(&self) -> bool {
        match self {
            Change::ParamAdded { required, .. } => *required,
            Change::ParamRemoved { .. }
            | Change::ParamRetyped { .. }
            | Change::ParamRequired { .. }
            | Change::OutputRemoved { .. }
            | Change::OutputRetyped { .. }
            | Change::EffectRaised { .. } => true,
            Change::ParamOptional { .. }
            | Change::OutputAdded { .. }
            | Change::EffectLowered { .. } => false,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::ParamAdded { name, required } => write!(
                f,
                "param `{name}` added{}",
                if *required {
                    " (required)"
                } else {
                    " (optional)"
                }
            ),
            Change::ParamRemoved { name } => write!(f, "param `{name}` removed"),
            Change::ParamRetyped { name, from, to } => {
                write!(f, "param `{name}` retyped: {from} -> {to}")
            }
            Change::ParamRequired { name } => {
                write!(f, "param `{name}` is now required (it lost its default)")
            }
            Change::ParamOptional { name } => write!(f, "param `{name}` is now optional"),
            Change::OutputAdded { name } => write!(f, "output `{name}` added"),
            Change::OutputRemoved { name } => write!(f, "output `{name}` removed"),
            Change::OutputRetyped { name, from, to } => {
                write!(f, "output `{name}` retyped: {from} -> {to}")
            }
            Change::EffectRaised { from, to } => {
                write!(f, "effect raised: {} -> {}", from.name(), to.name())
            }
            Change::EffectLowered { from, to } => {
                write!(f, "effect lowered: {} -> {}", from.name(), to.name())
            }
        }
    }
}

impl Interface {
    /// The interface of a checked template.
    pub fn of(template: &Template) -> Interface {
        let params = template
            .plan
            .params
            .values()
            .map(|p| {
                let param = Param {
                    ty: p.ty.name().to_string(),
                    required: p.default.is_none(),
                };
                (p.name.clone(), param)
            })
            .collect();
        let outputs = template
            .output_schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, schema)| (name.clone(), type_of(schema)))
            .collect();
        Interface {
            params,
            outputs,
            effect: template.spec.effect,
        }
    }

    /// `sha256:<hex>` of the interface (of its JSON, whose maps are sorted).
    pub fn hash(&self) -> String {
        digest::of_bytes(serde_json::to_string(self).unwrap_or_default().as_bytes())
    }

    /// What changed from `self` to `new`, params first, then outputs, then the effect.
    pub fn changes(&self, new: &Interface) -> Vec<Change> {
        let mut changes = Vec::new();
        for (name, old) in &self.params {
            match new.params.get(name) {
                None => changes.push(Change::ParamRemoved { name: name.clone() }),
                Some(now) if now.ty != old.ty => changes.push(Change::ParamRetyped {
                    name: name.clone(),
                    from: old.ty.clone(),
                    to: now.ty.clone(),
                }),
                Some(now) if now.required && !old.required => {
                    changes.push(Change::ParamRequired { name: name.clone() });
                }
                Some(now) if !now.required && old.required => {
                    changes.push(Change::ParamOptional { name: name.clone() });
                }
                Some(_) => {}
            }
        }
        for (name, now) in &new.params {
            if !self.params.contains_key(name) {
                changes.push(Change::ParamAdded {
                    name: name.clone(),
                    required: now.required,
                });
            }
        }
        for (name, old) in &self.outputs {
            match new.outputs.get(name) {
                None => changes.push(Change::OutputRemoved { name: name.clone() }),
                Some(now) if now != old && old != "any" => changes.push(Change::OutputRetyped {
                    name: name.clone(),
                    from: old.clone(),
                    to: now.clone(),
                }),
                Some(_) => {}
            }
        }
        for name in new.outputs.keys() {
            if !self.outputs.contains_key(name) {
                changes.push(Change::OutputAdded { name: name.clone() });
            }
        }
        let (from, to) = (self.effect, new.effect);
        if strength(to) > strength(from) {
            changes.push(Change::EffectRaised { from, to });
        } else if strength(to) < strength(from) {
            changes.push(Change::EffectLowered { from, to });
        }
        changes
    }
}

/// How strong an effect is: read < create < update < destructive.
pub fn strength(effect: Effect) -> u8 {
    match effect {
        Effect::Read => 0,
        Effect::Create => 1,
        Effect::Update => 2,
        Effect::Destructive => 3,
    }
}

/// The JSON type(s) a schema allows, `|`-joined and sorted; `any` when it says none.
fn type_of(schema: &Value) -> String {
    match schema.get("type") {
        Some(Value::String(ty)) => ty.clone(),
        Some(Value::Array(types)) => {
            let mut names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            names.sort_unstable();
            names.join("|")
        }
        _ => "any".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interface(
        params: &[(&str, &str, bool)],
        outputs: &[(&str, &str)],
        effect: Effect,
    ) -> Interface {
        Interface {
            params: params
                .iter()
                .map(|(n, t, r)| {
                    let param = Param {
                        ty: (*t).into(),
                        required: *r,
                    };
                    ((*n).to_string(), param)
                })
                .collect(),
            outputs: outputs
                .iter()
                .map(|(n, t)| ((*n).to_string(), (*t).to_string()))
                .collect(),
            effect,
        }
    }

    #[test]
    fn each_kind_of_change_is_found_and_judged() {
        let old = interface(
            &[
                ("region", "string", false),
                ("gone", "string", false),
                ("n", "integer", false),
            ],
            &[("arn", "string"), ("old", "string")],
            Effect::Create,
        );
        let new = interface(
            &[
                ("region", "string", true),
                ("n", "string", false),
                ("extra", "string", false),
                ("must", "array", true),
            ],
            &[("arn", "string"), ("fp", "string")],
            Effect::Destructive,
        );
        let changes: Vec<(String, bool)> = old
            .changes(&new)
            .iter()
            .map(|c| (c.to_string(), c.breaking()))
            .collect();
        assert_eq!(
            changes,
            [
                ("param `gone` removed", true),
                ("param `n` retyped: integer -> string", true),
                ("param `region` is now required (it lost its default)", true),
                ("param `extra` added (optional)", false),
                ("param `must` added (required)", true),
                ("output `old` removed", true),
                ("output `fp` added", false),
                ("effect raised: create -> destructive", true),
            ]
            .map(|(c, b)| (c.to_string(), b))
        );
        assert!(old.changes(&old).is_empty());
        assert_ne!(old.hash(), new.hash());
        assert_eq!(old.hash(), old.clone().hash());
    }
}
