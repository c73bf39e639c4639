//! Reading flow files and their parameters, and printing why a flow is invalid.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use indexmap::IndexMap;
use keyflow_engine::diagnostic::{Diagnostic, render_all};
use keyflow_engine::plan::{ParamValue, Plan};
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate;

use crate::cli::ParamArgs;
use crate::style;

/// Reads a flow file.
pub fn read(path: &Path) -> anyhow::Result<Arc<SourceFile>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read flow file `{}`", path.display()))?;
    Ok(SourceFile::new(path.display().to_string(), text))
}

/// Reads and checks a flow; prints its diagnostics to stderr and gives `None` when it is invalid.
pub fn checked(path: &Path, color: bool) -> anyhow::Result<Option<Plan>> {
    let source = read(path)?;
    let registry = keyflow_blocks::registry();
    match validate::check(source.clone(), &registry) {
        Ok(plan) => Ok(Some(plan)),
        Err(diagnostics) => {
            print_invalid(&source, &diagnostics, color);
            Ok(None)
        }
    }
}

/// Prints a flow's diagnostics and a one-line verdict to stderr.
pub fn print_invalid(source: &SourceFile, diagnostics: &[Diagnostic], color: bool) {
    eprintln!("{}", render_all(diagnostics, source, color));
    eprintln!(
        "\n{} `{}` is invalid: {} {}\n",
        style::error_label(color),
        source.name,
        diagnostics.len(),
        if diagnostics.len() == 1 {
            "problem"
        } else {
            "problems"
        }
    );
}

/// The parameter values given on the command line and in `--params-file`.
pub fn params(args: &ParamArgs) -> anyhow::Result<IndexMap<String, ParamValue>> {
    let mut values = IndexMap::new();
    if let Some(file) = &args.params_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read parameters file `{}`", file.display()))?;
        let map: IndexMap<String, serde_json::Value> =
            serde_yaml::from_str(&text).with_context(|| {
                format!(
                    "`{}` must be a YAML or JSON mapping of parameter names to values",
                    file.display()
                )
            })?;
        values.extend(map.into_iter().map(|(k, v)| (k, ParamValue::Json(v))));
    }
    for param in &args.params {
        let Some((name, value)) = param.split_once('=') else {
            bail!("`--param {param}` needs a value: write `--param {param}=VALUE`");
        };
        values.insert(name.trim().to_string(), ParamValue::Text(value.to_string()));
    }
    Ok(values)
}

/// Binds parameters, printing every problem; `None` when some are wrong.
pub fn bind(
    plan: &Plan,
    given: &IndexMap<String, ParamValue>,
    color: bool,
) -> Option<serde_json::Value> {
    match plan.bind_params(given) {
        Ok(params) => Some(params),
        Err(errors) => {
            for error in &errors {
                eprintln!("{} {error}", style::error_label(color));
            }
            None
        }
    }
}
