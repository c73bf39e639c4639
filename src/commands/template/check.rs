//! `keyflow template check --against REF`: for the CI of the team publishing a library, every template
//! of the library compared with the same file at REF (read from git), failing on an incompatible
//! interface change without a new major version.

use std::path::Path;
use std::sync::Arc;

use anyhow::anyhow;
use keyflow_engine::library::{
    Interface, LibraryScope, NoLibraries, TemplateSource, parse_version,
};
use keyflow_engine::plan::Template;
use keyflow_engine::validate;
use semver::Version;

use crate::exit::{Exit, Failure};
use crate::out::Colors;
use crate::project::args::CheckArgs;
use crate::project::git;
use crate::project::resolve::version_in;
use crate::project::{Project, templates_for, yaml_below};
use crate::style;

/// `keyflow template check`.
pub fn check(args: &CheckArgs, colors: Colors) -> Result<Exit, Failure> {
    let dir = &args.dir;
    let top = git::top_level(dir).map_err(|e| {
        Failure::invalid(anyhow!(
            "`{}` is not inside a git work tree: {e}",
            dir.display()
        ))
    })?;
    let real = dir
        .canonicalize()
        .map_err(|e| Failure::invalid(anyhow!("`{}`: {e}", dir.display())))?;
    let inside = real
        .strip_prefix(top.canonicalize().unwrap_or(top.clone()))
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let scratch =
        std::env::temp_dir().join(format!("keyflow-template-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let exported = git::export(&top, &args.against, &scratch.join("tree"));
    let result = exported
        .map_err(|e| {
            Failure::invalid(anyhow!(
                "cannot read `{}` of `{}`: {e}",
                args.against,
                top.display()
            ))
        })
        .and_then(|()| {
            compare(
                &real,
                &scratch.join("tree").join(&inside),
                &args.against,
                colors,
            )
        });
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Compares every template of the library at `new_root` with the same file under `old_root`.
fn compare(
    new_root: &Path,
    old_root: &Path,
    against: &str,
    colors: Colors,
) -> Result<Exit, Failure> {
    let registry = keyflow_blocks::registry();
    let templates: Arc<dyn TemplateSource> = if Project::locate(new_root).is_some() {
        templates_for(new_root)
    } else {
        Arc::new(NoLibraries)
    };
    let check_at = |root: &Path, file: &Path| {
        let scope = Arc::new(LibraryScope {
            name: "library".into(),
            root: root.to_path_buf(),
        });
        let path = root.join(file).display().to_string();
        validate::check_template(&path, root, Some(scope), &registry, templates.clone())
    };
    let mut failed = false;
    let mut compared = 0;
    for file in yaml_below(new_root) {
        let Ok(rel) = file.strip_prefix(new_root) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if version_in(&text).is_none() || !text.lines().any(|l| l.starts_with("steps:")) {
            continue; // not a template
        }
        let name = rel.with_extension("").to_string_lossy().replace('\\', "/");
        let new = match check_at(new_root, rel) {
            Ok(t) => t,
            Err(e) => {
                errln!("{} `{name}`: {}", style::error_label(colors.err), e.message);
                if let Some(help) = e.help {
                    errln!("{help}");
                }
                failed = true;
                continue;
            }
        };
        // The new version's warnings: its references into free-form outputs, which a caller cannot check.
        crate::flowfile::print_warnings(&new.plan.source, &new.plan.warnings, colors.err);
        if !old_root.join(rel).is_file() {
            outln!("{name}: new since {against}")?;
            continue;
        }
        let Ok(old) = check_at(old_root, rel) else {
            outln!("{name}: did not check at {against}; nothing to compare with")?;
            continue;
        };
        compared += 1;
        let version = |t: &Template| {
            t.plan
                .version
                .as_deref()
                .and_then(|v| parse_version(v).ok())
        };
        let (Some(from), Some(to)) = (version(&old), version(&new)) else {
            continue;
        };
        let changes = Interface::of(&old).changes(&Interface::of(&new));
        let breaking: Vec<_> = changes.iter().filter(|c| c.breaking()).collect();
        let major = |v: &Version| {
            if v.major == 0 {
                (0, v.minor)
            } else {
                (v.major, 0)
            }
        };
        if !breaking.is_empty() && major(&to) <= major(&from) {
            failed = true;
            errln!(
                "{} `{name}` {from} -> {to} changes its interface incompatibly without a new major version:",
                style::error_label(colors.err)
            );
            for change in &breaking {
                errln!("    {change}");
            }
            errln!(
                "  = help: publish it as {}.0.0, or keep the old interface (a new param with a default, a new output)",
                if from.major == 0 { 1 } else { from.major + 1 }
            );
        } else if changes.is_empty() {
            outln!("{name}: {from} -> {to}: interface unchanged")?;
        } else {
            outln!(
                "{name}: {from} -> {to}: {} change(s), none breaking without its major version",
                changes.len()
            )?;
            for change in &changes {
                outln!("    {change}")?;
            }
        }
    }
    for file in yaml_below(old_root) {
        if let Ok(rel) = file.strip_prefix(old_root)
            && !new_root.join(rel).exists()
            && version_in(&std::fs::read_to_string(&file).unwrap_or_default()).is_some()
        {
            outln!(
                "{}: removed since {against} (its published versions stay callable)",
                rel.with_extension("").display()
            )?;
        }
    }
    if failed {
        return Ok(Exit::RunFailed);
    }
    outln!(
        "{compared} template(s) compared with {against}: no incompatible change without a major version"
    )?;
    Ok(Exit::Success)
}
