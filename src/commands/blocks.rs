//! `keyflow blocks list` and `keyflow blocks describe ID`.

use anyhow::anyhow;
use keyflow_engine::block::RegisteredBlock;
use keyflow_engine::diagnostic::suggest;
use keyflow_engine::schema::flow::block_descriptor;
use keyflow_engine::schema::walk::{Lookup, allowed_values, items, resolve, types};
use serde_json::Value;

use crate::cli::{BlocksCommand, Output};
use crate::exit::{Exit, Failure};
use crate::machine::documents::{BlockDocument, BlockSummary, BlocksDocument};
use crate::machine::{FormatVersion, print_json};
use crate::out::Colors;

pub fn run(command: &BlocksCommand, _colors: Colors) -> Result<Exit, Failure> {
    let registry = super::plugin::blocks_at(std::path::Path::new("."))?.registry;
    match command {
        BlocksCommand::List {
            output: Output::Json,
        } => print_json(&BlocksDocument {
            format_version: FormatVersion,
            blocks: registry
                .blocks()
                .map(|b| BlockSummary {
                    id: b.spec.id.to_string(),
                    title: b.spec.title.to_string(),
                    connector: b.spec.connector.map(str::to_string),
                    effect: b.spec.effect,
                    description: b.spec.description.to_string(),
                    plugin: plugin_of(b).map(str::to_string),
                })
                .collect(),
        })?,
        BlocksCommand::List {
            output: Output::Text,
        } => {
            let width = registry
                .blocks()
                .map(|b| b.spec.id.len())
                .max()
                .unwrap_or(10);
            for block in registry.blocks() {
                let effect = match plugin_of(block) {
                    Some(name) => format!("{:<11} (plugin `{name}`)", block.spec.effect.name()),
                    None => block.spec.effect.name().to_string(),
                };
                outln!(
                    "{:<width$}  {:<28} {effect}",
                    block.spec.id,
                    block.spec.title,
                )?;
            }
        }
        BlocksCommand::Describe { id, output } => {
            let Some(block) = registry.get(id) else {
                let ids: Vec<&str> = registry.blocks().map(|b| b.spec.id).collect();
                let hint = suggest(id, ids)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(Failure::invalid(anyhow!(
                    "unknown block `{id}`{hint}\n`keyflow blocks list` shows every block"
                )));
            };
            match output {
                Output::Json => print_json(&document(block))?,
                Output::Text => out!("{}", describe(block))?,
            }
        }
    }
    Ok(Exit::Success)
}

/// The plugin a block comes from, if it is not built in.
fn plugin_of(block: &RegisteredBlock) -> Option<&'static str> {
    match block.origin {
        keyflow_engine::block::Origin::Plugin(name) => Some(name),
        keyflow_engine::block::Origin::BuiltIn => None,
    }
}

/// What `blocks describe --output json` prints and `schemas/blocks/<id>.json` holds.
pub fn document(block: &RegisteredBlock) -> BlockDocument {
    BlockDocument {
        format_version: FormatVersion,
        descriptor: block_descriptor(block),
    }
}

/// The text `keyflow blocks describe` prints.
pub fn describe(block: &RegisteredBlock) -> String {
    let spec = &block.spec;
    let mut out = format!("{} — {}\n\n{}\n\n", spec.id, spec.title, spec.description);
    if let Some(name) = plugin_of(block) {
        out.push_str(&format!(
            "plugin:    `{name}` (recorded in .keyflow/plugins/{name}.json)\n"
        ));
    }
    out.push_str(&format!(
        "connector: {}\neffect:    {}{}\n",
        spec.connector.unwrap_or("none (core block)"),
        spec.effect.name(),
        match (spec.effect, spec.destructive_when) {
            (keyflow_engine::block::Effect::Destructive, _) => {
                " (needs `confirm: true` and `--allow-destructive`)".to_string()
            }
            (_, Some(input)) => format!(
                "; destructive when `{input}` is true (then needs `confirm: true` and `--allow-destructive`)"
            ),
            _ => String::new(),
        }
    ));
    out.push_str("\ninputs (under `with:`):\n");
    if spec.output_mirrors_input {
        out.push_str("  any names and values; the output repeats them, resolved\n");
    } else {
        fields(
            &block.input_schema,
            &block.input_schema,
            "",
            0,
            Side::Input,
            &mut out,
        );
    }
    out.push_str("\noutput (`$.steps.<id>.output`):\n");
    if spec.output_mirrors_input {
        out.push_str("  the inputs, with references and templates resolved\n");
    } else {
        fields(
            &block.output_schema,
            &block.output_schema,
            "",
            0,
            Side::Output,
            &mut out,
        );
    }
    if !spec.secret_outputs.is_empty() {
        out.push_str(&format!(
            "\nsecret outputs (redacted in reports and logs): {}\n",
            spec.secret_outputs.join(", ")
        ));
    }
    let takes_secrets = if spec.output_mirrors_input {
        "every input (the output carries the secrets on)".to_string()
    } else if spec.secret_inputs.is_empty() {
        "none: a step that passes one a secret needs `reveal: true`".to_string()
    } else {
        spec.secret_inputs.join(", ")
    };
    out.push_str(&format!("\ninputs that take secrets: {takes_secrets}\n"));
    out.push_str(&format!(
        "\nexample output:\n{}\n",
        serde_json::to_string_pretty(&block.example_output).unwrap_or_default()
    ));
    out
}

/// Which side of a block a schema describes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Input,
    Output,
}

/// One line per field: dotted name, type, whether it is required (inputs) or may be absent (outputs),
/// description; nested objects and list items below.
fn fields(root: &Value, schema: &Value, prefix: &str, depth: usize, side: Side, out: &mut String) {
    let schema = resolve(root, schema);
    let properties = schema.get("properties").and_then(Value::as_object);
    let Some(properties) = properties else {
        if prefix.is_empty() {
            out.push_str("  (none)\n");
        }
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, property) in properties {
        let property = resolve(root, property);
        let path = format!("{prefix}{name}");
        let mut kind = types(root, property).describe();
        if let Some(values) = allowed_values(root, property) {
            let names: Vec<String> = values
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect();
            kind = format!("one of {}", names.join(", "));
        }
        let mark = match (side, required.contains(&name.as_str())) {
            (Side::Input, true) => "required",
            (Side::Output, false) => "optional",
            _ => "",
        };
        let description = property
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .replace('\n', " ");
        if path.len() > 28 || kind.len() > 24 {
            // Whatever does not fit its column starts a block of its own, so the table stays aligned.
            out.push_str(&format!("  {path}\n      {kind}"));
            if !mark.is_empty() {
                out.push_str(&format!(", {mark}"));
            }
            out.push_str(&format!("\n      {description}\n"));
        } else {
            out.push_str(&format!(
                "  {path:<28} {kind:<24} {mark:<8} {description}\n"
            ));
        }
        if depth < 3 {
            fields(root, property, &format!("{path}."), depth + 1, side, out);
            if let Lookup::Found(item) = items(root, property) {
                fields(root, &item, &format!("{path}[]."), depth + 1, side, out);
            }
        }
    }
}
