//! Reading what the command line names — a flow file (or `-` for standard input), a parameters file, a
//! `--param name=@path` value — and the parameters from the environment; printing why a flow is invalid.

use std::path::Path;
use std::sync::Arc;

use anyhow::anyhow;
use indexmap::IndexMap;
use keyflow_engine::diagnostic::{Diagnostic, render_all};
use keyflow_engine::plan::{ParamError, ParamValue, Plan};
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate;

use crate::cli::ParamArgs;
use crate::exit::{Failure, ResultExt};
use crate::files;
use crate::machine::diagnostic;
use crate::machine::documents::InvalidDocument;
use crate::style;

/// The flow argument that stands for standard input.
pub const STDIN: &str = "-";

/// How a flow read from standard input is named in diagnostics.
pub const STDIN_NAME: &str = "<stdin>";

/// The prefix of the environment variables that give parameters (`KEYFLOW_PARAM_tenant_id`).
pub const ENV_PREFIX: &str = "KEYFLOW_PARAM_";

/// Reads a flow file, or standard input for `-` (named `<stdin>`; paths in it resolve against the current
/// folder).
pub fn read(path: &Path) -> Result<Arc<SourceFile>, Failure> {
    if path.as_os_str() == STDIN {
        let text = files::capped(
            std::io::stdin().lock(),
            "the flow on standard input",
            STDIN_NAME,
        )?;
        return Ok(SourceFile::new(STDIN_NAME, text));
    }
    let text = files::read(path, "flow file")?;
    Ok(SourceFile::new(path.display().to_string(), text))
}

/// A flow that does not check out: its source and every problem found.
pub type Invalid = (Arc<SourceFile>, Vec<Diagnostic>);

/// Reads and checks a flow; prints its diagnostics to stderr (a valid flow's warnings too). `Err` holds
/// the diagnostics of an invalid flow with its source.
pub fn checked(path: &Path, color: bool) -> Result<Result<Plan, Invalid>, Failure> {
    let blocks = crate::commands::plugin::blocks_for(path)?;
    checked_with(path, color, &blocks.registry)
}

/// [`checked`] with the blocks of `registry` (the built-ins and the project's plugins).
pub fn checked_with(
    path: &Path,
    color: bool,
    registry: &keyflow_engine::block::Registry,
) -> Result<Result<Plan, Invalid>, Failure> {
    let source = read(path)?;
    let templates = crate::project::templates_for(source.dir());
    match validate::check_using(source.clone(), registry, templates) {
        Ok(plan) => {
            print_warnings(&plan.source, &plan.warnings, color);
            Ok(Ok(plan))
        }
        Err(diagnostics) => {
            print_invalid(&source, &diagnostics, color);
            Ok(Err((source, diagnostics)))
        }
    }
}

/// Prints a flow's diagnostics and a one-line verdict to stderr: its errors are its problems, its
/// warnings are counted apart.
pub fn print_invalid(source: &SourceFile, diagnostics: &[Diagnostic], color: bool) {
    errln!("{}", render_all(diagnostics, source, color));
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    errln!(
        "\n{} `{}` is invalid: {errors} {}{}\n",
        style::error_label(color),
        source.name,
        if errors == 1 { "problem" } else { "problems" },
        warnings_counted(diagnostics.len() - errors, ", ")
    );
}

/// Prints the warnings of a valid flow to stderr (nothing when it has none): it runs, but these
/// references are not checked before the run.
pub fn print_warnings(source: &SourceFile, warnings: &[Diagnostic], color: bool) {
    if !warnings.is_empty() {
        errln!("{}\n", render_all(warnings, source, color));
    }
}

/// `, 1 warning` (after `separator`), or nothing for none.
pub fn warnings_counted(warnings: usize, separator: &str) -> String {
    match warnings {
        0 => String::new(),
        1 => format!("{separator}1 warning"),
        n => format!("{separator}{n} warnings"),
    }
}

/// The parameter values given in `--params-file` and `--param` (which wins). A `--param name=@path`
/// value is the text of the file at `path`, without one trailing line break.
pub fn params(args: &ParamArgs) -> Result<IndexMap<String, ParamValue>, Failure> {
    let mut values = IndexMap::new();
    if let Some(file) = &args.params_file {
        let text = files::read(file, "parameters file")?;
        let map: IndexMap<String, serde_json::Value> = serde_yaml::from_str(&text)
            .map_err(|e| {
                anyhow::Error::new(e).context(format!(
                    "`{}` must be a YAML or JSON mapping of parameter names to values",
                    file.display()
                ))
            })
            .invalid()?;
        values.extend(map.into_iter().map(|(k, v)| (k, ParamValue::Json(v))));
    }
    for param in &args.params {
        let Some((name, value)) = param.split_once('=') else {
            return Err(Failure::invalid(anyhow!(
                "`--param {param}` needs a value: write `--param {param}=VALUE` (or `{param}=@FILE`)"
            )));
        };
        let name = name.trim();
        let value = match value.strip_prefix('@') {
            Some(path) => {
                let text = files::read(Path::new(path), &format!("file of parameter `{name}`"))?;
                let text = text.strip_suffix('\n').unwrap_or(&text);
                text.strip_suffix('\r').unwrap_or(text).to_string()
            }
            None => value.to_string(),
        };
        values.insert(name.to_string(), ParamValue::Text(value));
    }
    Ok(values)
}

/// Adds the `KEYFLOW_PARAM_<name>` variables of the environment for the parameters the flow declares and
/// the command line did not give (they have the lowest precedence; variables for other flows' parameters
/// are left alone).
pub fn with_environment(
    mut given: IndexMap<String, ParamValue>,
    plan: &Plan,
) -> Result<IndexMap<String, ParamValue>, Failure> {
    for (key, value) in std::env::vars_os() {
        let Some(name) = key.to_str().and_then(|k| k.strip_prefix(ENV_PREFIX)) else {
            continue;
        };
        if !plan.params.contains_key(name) || given.contains_key(name) {
            continue;
        }
        let value = value
            .into_string()
            .map_err(|_| Failure::invalid(anyhow!("`{ENV_PREFIX}{name}` is not UTF-8 text")))?;
        given.insert(name.to_string(), ParamValue::Text(value));
    }
    Ok(given)
}

/// Prints wrong parameters to stderr, one line each.
pub fn print_param_errors(errors: &[ParamError], color: bool) {
    for error in errors {
        errln!("{} {error}", style::error_label(color));
    }
}

/// The `status: "invalid"` document of wrong parameters.
pub fn invalid_params(file: &str, errors: &[ParamError]) -> InvalidDocument {
    InvalidDocument::new(
        file,
        errors
            .iter()
            .map(|e| diagnostic::of_param(file, e))
            .collect(),
    )
}
