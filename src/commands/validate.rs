//! `keyflow validate FILE…`.

use keyflow_engine::diagnostic::render_each;
use std::path::PathBuf;

use keyflow_engine::validate;
use serde_json::json;

use crate::cli::{Output, ValidateArgs};
use crate::{EXIT_INVALID, flowfile, style};

/// The files named, with folders replaced by the `.yaml` / `.yml` files below them, sorted.
fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut found = Vec::new();
        let mut dirs = vec![path.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let entry = entry.path();
                if entry.is_dir() {
                    dirs.push(entry);
                } else if entry.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    found.push(entry);
                }
            }
        }
        found.sort();
        files.extend(found);
    }
    files
}

pub fn run(args: &ValidateArgs, color: bool) -> anyhow::Result<u8> {
    let registry = keyflow_blocks::registry();
    let mut invalid = 0;
    let mut results = Vec::new();
    for path in &expand(&args.files) {
        let source = match flowfile::read(path) {
            Ok(source) => source,
            Err(error) => {
                invalid += 1;
                eprintln!("{} {error:#}", style::error_label(color));
                results.push(json!({ "file": path.display().to_string(), "valid": false, "error": format!("{error:#}") }));
                continue;
            }
        };
        match validate::check(source.clone(), &registry) {
            Ok(plan) => {
                if args.output == Output::Text {
                    println!(
                        "{}: {} ({} steps)",
                        source.name,
                        style::green(color, "valid"),
                        plan.steps.len()
                    );
                }
                results.push(json!({ "file": source.name, "valid": true, "diagnostics": [] }));
            }
            Err(diagnostics) => {
                invalid += 1;
                if args.output == Output::Text {
                    flowfile::print_invalid(&source, &diagnostics, color);
                }
                let rendered = render_each(&diagnostics, &source, false);
                let list: Vec<serde_json::Value> = diagnostics
                    .iter()
                    .zip(rendered)
                    .map(|(d, rendered)| {
                        json!({
                            "code": d.kind.code(),
                            "message": d.kind.message(),
                            "line": rendered.line,
                            "column": rendered.col,
                            "help": d.kind.help(),
                            "suggestion": d.suggestion,
                            "rendered": rendered.text,
                        })
                    })
                    .collect();
                results.push(json!({ "file": source.name, "valid": false, "diagnostics": list }));
            }
        }
    }
    if args.output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    Ok(if invalid > 0 { EXIT_INVALID } else { 0 })
}
