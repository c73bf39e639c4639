//! `keyflow template list|show|check`: the templates a project can call with their versions, one
//! template's interface, and — for the team publishing a library — whether a template changed its
//! interface incompatibly without a new major version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::anyhow;
use clap::{Args, Subcommand, ValueEnum};
use keyflow_engine::library::{
    Interface, Library, LibraryScope, LibraryUse, LockFile, NoLibraries, TemplateSource,
    parse_version,
};
use keyflow_engine::plan::Template;
use keyflow_engine::validate;
use schemars::JsonSchema;
use semver::Version;
use serde::Serialize;

use crate::exit::{Exit, Failure};
use crate::machine::{FormatVersion, print_json};
use crate::out::Colors;
use crate::project::git::{self, Mirror};
use crate::project::resolve::{Mode, Resolver, version_in};
use crate::project::{Project, cache_of, templates_for, yaml_below};
use crate::style;

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Every template the project's libraries hold, with its versions and those keyflow.lock pins
    /// (from what `keyflow lock` fetched: no network).
    List(ListArgs),
    /// A template's interface (params, outputs), effect and description: `NAME:PATH[@VERSION]`.
    Show(ShowArgs),
    /// For a library's CI: fail when a template changed its interface incompatibly since REF without a
    /// new major version (a param or output removed or retyped, a new required param, a raised effect).
    Check(CheckArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// `json` prints the templates as a JSON document on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// A folder of the project: its `keyflow.yaml` is there or above.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The template, `LIBRARY:PATH`, and a version (`@1.2.0`; default: the one keyflow.lock pins, else
    /// the highest there is).
    #[arg(value_name = "NAME[@VERSION]")]
    pub name: String,
    /// `json` prints the interface as a JSON document on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// A folder of the project: its `keyflow.yaml` is there or above.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The git commit, tag or branch to compare with (`main`, `origin/main`, the last release's tag).
    #[arg(long, value_name = "REF")]
    pub against: String,
    /// The library's root folder, inside a git work tree.
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

/// `keyflow template list --output json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplatesDocument {
    pub format_version: FormatVersion,
    /// Every template of every library, by library then path.
    pub templates: Vec<Listed>,
}

/// One template of a library.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Listed {
    /// `LIBRARY:PATH`, as `uses:` names it (with `@RANGE`).
    pub name: String,
    /// Its library.
    pub library: String,
    /// Its versions, lowest first (a directory library: the one it holds).
    pub versions: Vec<String>,
    /// The `uses:` keyflow.lock pins to one of them, with the version.
    pub locked: BTreeMap<String, String>,
}

/// `keyflow template show --output json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateDocument {
    pub format_version: FormatVersion,
    /// `LIBRARY:PATH`.
    pub name: String,
    /// The version shown.
    pub version: String,
    /// The flow's `name:`.
    pub title: String,
    /// Its description.
    pub description: Option<String>,
    /// The file it was read from.
    pub file: String,
    /// Its params (with their descriptions and defaults), outputs and effect.
    pub interface: Interface,
    /// What each param is for, where the template says.
    pub param_descriptions: BTreeMap<String, String>,
}

pub fn run(command: &TemplateCommand, colors: Colors) -> Result<Exit, Failure> {
    match command {
        TemplateCommand::List(args) => list(args, colors),
        TemplateCommand::Show(args) => show(args, colors),
        TemplateCommand::Check(args) => check(args, colors),
    }
}

fn list(args: &ListArgs, colors: Colors) -> Result<Exit, Failure> {
    let (project, lock) = match super::lock::project(&args.project, colors)? {
        Ok(read) => read,
        Err(exit) => return Ok(exit),
    };
    let mut listed = Vec::new();
    let mut unfetched = Vec::new();
    for (name, library) in &project.file.libraries {
        let versions = match versions_of(&project, library) {
            Some(versions) => versions,
            None => {
                unfetched.push(name.clone());
                BTreeMap::new()
            }
        };
        for (template, versions) in versions {
            let locked = lock
                .templates
                .iter()
                .filter(|e| &e.library == name && e.template == template)
                .map(|e| (e.uses.clone(), e.version.clone()))
                .collect();
            listed.push(Listed {
                name: format!("{name}:{template}"),
                library: name.clone(),
                versions: versions.iter().map(ToString::to_string).collect(),
                locked,
            });
        }
    }
    if args.output == Output::Json {
        print_json(&TemplatesDocument {
            format_version: FormatVersion,
            templates: listed,
        })?;
    } else {
        for t in &listed {
            let locked: Vec<String> = t
                .locked
                .iter()
                .map(|(uses, v)| format!("{v} for `{uses}`"))
                .collect();
            let locked = if locked.is_empty() {
                String::new()
            } else {
                format!("  (locked: {})", locked.join(", "))
            };
            outln!(
                "{}  {}{locked}",
                style::bold(colors.out, &t.name),
                t.versions.join(", ")
            )?;
        }
    }
    for name in unfetched {
        errln!("library `{name}` has not been fetched on this machine yet: run `keyflow lock`");
    }
    Ok(Exit::Success)
}

/// Each template's versions in `library`, from the git mirror's tags or the folder's files; `None` for
/// a git library never fetched here.
fn versions_of(project: &Project, library: &Library) -> Option<BTreeMap<String, Vec<Version>>> {
    let mut found: BTreeMap<String, Vec<Version>> = BTreeMap::new();
    if let Some(url) = &library.git {
        let mirror = Mirror::at(cache_of(url).join("repo.git"));
        if !mirror.dir.join("HEAD").is_file() {
            return None;
        }
        for tag in mirror.tags().ok()? {
            if let Some((template, version)) = tag.name.rsplit_once("/v")
                && let Ok(version) = Version::parse(version)
            {
                found.entry(template.to_string()).or_default().push(version);
            }
        }
    } else {
        let root = project.root(library, None);
        for file in yaml_below(&root) {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let is_flow = text.lines().any(|l| l.starts_with("steps:"));
            if let (Some(version), true, Ok(rel)) =
                (version_in(&text), is_flow, file.strip_prefix(&root))
            {
                let rel = rel.with_extension("");
                found
                    .entry(rel.to_string_lossy().replace('\\', "/"))
                    .or_default()
                    .push(version);
            }
        }
    }
    for versions in found.values_mut() {
        versions.sort();
    }
    Some(found)
}

fn show(args: &ShowArgs, colors: Colors) -> Result<Exit, Failure> {
    let (project, lock) = match super::lock::project(&args.project, colors)? {
        Ok(read) => read,
        Err(exit) => return Ok(exit),
    };
    let (name, version) = match args.name.rsplit_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (args.name.as_str(), None),
    };
    let Some((library, template)) = name.split_once(':') else {
        return Err(Failure::invalid(anyhow!(
            "`{name}` is not a template name: write `LIBRARY:PATH`, e.g. `platform:tenant/rotate-key` (`keyflow template list` shows them)"
        )));
    };
    let version = match version {
        Some(v) => Some(parse_version(v).map_err(|e| Failure::invalid(anyhow!(e)))?),
        None => lock
            .templates
            .iter()
            .filter(|e| e.library == library && e.template == template)
            .filter_map(|e| parse_version(&e.version).ok())
            .max(),
    };
    let range = version
        .as_ref()
        .map_or_else(|| "*".to_string(), |v| format!("={v}"));
    let uses = format!("{library}:{template}@{range}");
    if LibraryUse::parse(&uses).is_none_or(|u| u.is_err()) {
        return Err(Failure::invalid(anyhow!(
            "`{name}` is not a template name: write `LIBRARY:PATH`"
        )));
    }
    let resolver = Arc::new(Resolver::new(&project, LockFile::new(), Mode::Offline));
    let registry = keyflow_blocks::registry();
    let checked =
        validate::check_template(&uses, Path::new("."), None, &registry, resolver.clone());
    let template = match checked {
        Ok(template) => template,
        Err(e) => {
            errln!("{} {}", style::error_label(colors.err), e.message);
            if let Some(help) = e.help {
                errln!("  = help: {help}");
            }
            return Ok(Exit::Invalid);
        }
    };
    let document = describe(name, &template);
    if args.output == Output::Json {
        print_json(&document)?;
        return Ok(Exit::Success);
    }
    outln!(
        "{} {}  ({})",
        style::bold(colors.out, &document.name),
        document.version,
        document.title
    )?;
    if let Some(description) = &document.description {
        outln!("{}", description.trim())?;
    }
    outln!("effect: {}", document.interface.effect.name())?;
    outln!("params:")?;
    for (param, facet) in &document.interface.params {
        let required = if facet.required { ", required" } else { "" };
        let what = document
            .param_descriptions
            .get(param)
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        outln!("  {param} ({}{required}){what}", facet.ty)?;
    }
    outln!("outputs:")?;
    for (output, ty) in &document.interface.outputs {
        outln!("  {output} ({ty})")?;
    }
    outln!("file: {}", document.file)?;
    Ok(Exit::Success)
}

fn describe(name: &str, template: &Template) -> TemplateDocument {
    let plan = &template.plan;
    TemplateDocument {
        format_version: FormatVersion,
        name: name.to_string(),
        version: plan
            .version
            .as_deref()
            .and_then(|v| parse_version(v).ok())
            .map_or_else(
                || plan.version.clone().unwrap_or_default(),
                |v| v.to_string(),
            ),
        title: plan.name.clone(),
        description: plan.description.clone(),
        file: plan.source.name.clone(),
        interface: Interface::of(template),
        param_descriptions: plan
            .params
            .values()
            .filter_map(|p| Some((p.name.clone(), p.description.clone()?.trim().to_string())))
            .collect(),
    }
}

fn check(args: &CheckArgs, colors: Colors) -> Result<Exit, Failure> {
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
