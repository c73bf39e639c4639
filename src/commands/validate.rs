//! `keyflow validate FILE…`: every problem of every flow, for people (stderr), programs (`json`), GitHub
//! Actions (`github`) and code scanning (`sarif`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use keyflow_engine::validate;

use crate::cli::{ValidateArgs, ValidateOutput};
use crate::exit::{Exit, Failure};
use crate::machine::documents::{FileResult, ValidateDocument, Verdict};
use crate::machine::{FormatVersion, diagnostic, github, print_json, sarif};
use crate::out::Colors;
use crate::{flowfile, style};

/// The files named, with each folder replaced by the `.yaml` / `.yml` files below it, sorted. Each real
/// folder is visited once, so a symlink loop ends; a folder without any flow is an error.
pub(crate) fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    let mut visited = HashSet::new();
    for path in paths {
        if path.as_os_str() == flowfile::STDIN || !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let found = flows_below(path, &mut visited);
        if found.is_empty() {
            return Err(Failure::invalid(anyhow!(
                "`{}` holds no flow (no `.yaml` or `.yml` file below it): nothing was validated",
                path.display()
            )));
        }
        files.extend(found);
    }
    Ok(files)
}

/// The flow files below `dir`, sorted, skipping folders already in `visited` (by their real path).
fn flows_below(dir: &Path, visited: &mut HashSet<PathBuf>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let real = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        if !visited.insert(real) {
            continue;
        }
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let entry = entry.path();
            if entry.is_dir() {
                dirs.push(entry);
            } else if entry.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && !entry.ends_with(crate::project::PROJECT_FILE)
            {
                found.push(entry);
            }
        }
    }
    found.sort();
    found
}

pub fn run(args: &ValidateArgs, colors: Colors) -> Result<Exit, Failure> {
    let text = args.output == ValidateOutput::Text;
    let mut results = Vec::new();
    let mut failure: Option<Failure> = None;
    for path in &expand(&args.files)? {
        let source = match flowfile::read(path) {
            Ok(source) => source,
            Err(error) => {
                errln!("{} {error}", style::error_label(colors.err));
                results.push(FileResult {
                    file: path.display().to_string(),
                    valid: false,
                    error: Some(error.to_string()),
                    diagnostics: Vec::new(),
                });
                // The worst class wins: an unreadable file is the environment's failure.
                if failure.as_ref().is_none_or(|f| f.exit() == Exit::Invalid) {
                    failure = Some(error);
                }
                continue;
            }
        };
        let registry = super::plugin::blocks_for(path)?.registry;
        let templates = crate::project::templates_for(source.dir());
        match validate::check_using(source.clone(), &registry, templates) {
            Ok(plan) => {
                // Warnings do not make a flow invalid: they are shown, and the exit code stays 0.
                if text {
                    flowfile::print_warnings(&source, &plan.warnings, colors.err);
                    outln!(
                        "{}: {} ({} steps{})",
                        source.name,
                        style::green(colors.out, "valid"),
                        plan.steps.len(),
                        flowfile::warnings_counted(plan.warnings.len(), ", ")
                    )?;
                }
                results.push(FileResult {
                    file: source.name.clone(),
                    valid: true,
                    error: None,
                    diagnostics: diagnostic::of_flow(&source, &plan.warnings),
                });
            }
            Err(diagnostics) => {
                if text {
                    flowfile::print_invalid(&source, &diagnostics, colors.err);
                }
                results.push(FileResult {
                    file: source.name.clone(),
                    valid: false,
                    error: None,
                    diagnostics: diagnostic::of_flow(&source, &diagnostics),
                });
            }
        }
    }
    let all_valid = results.iter().all(|r| r.valid);
    match args.output {
        ValidateOutput::Text => {}
        ValidateOutput::Json => print_json(&ValidateDocument {
            format_version: FormatVersion,
            status: if all_valid {
                Verdict::Valid
            } else {
                Verdict::Invalid
            },
            files: results.clone(),
        })?,
        ValidateOutput::Github => {
            for result in &results {
                if let Some(error) = &result.error {
                    outln!("{}", github::file_error(&result.file, error))?;
                }
                for d in &result.diagnostics {
                    outln!("{}", github::annotation(d))?;
                }
            }
        }
        ValidateOutput::Sarif => {
            let all: Vec<_> = results
                .iter()
                .flat_map(|r| r.diagnostics.iter().cloned())
                .collect();
            print_json(&sarif::log(&all))?;
        }
    }
    if all_valid {
        return Ok(Exit::Success);
    }
    // A file that exists but cannot be read is the environment's failure, whatever else is wrong.
    Ok(match failure {
        Some(failure) if failure.exit() == Exit::Environment => Exit::Environment,
        _ => Exit::Invalid,
    })
}
