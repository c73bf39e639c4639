//! `keyflow plugin add|list|remove|update`, and the registry every command checks flows with: the
//! built-in blocks plus the plugins recorded in the project (`.keyflow/plugins/`, found from the flow's
//! folder upwards).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use keyflow_engine::block::Registry;
use keyflow_plugin_host::twin::Twin;
use keyflow_plugin_host::{Graces, Host, PluginRecord, Project, add, diff};
use schemars::JsonSchema;
use serde::Serialize;

use crate::cli::Output;
use crate::exit::{Exit, Failure, ResultExt};
use crate::machine::{FormatVersion, print_json};
use crate::out::Colors;
use crate::style;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Start a plugin executable once, ask it to describe itself, and record its connector, blocks and
    /// sha256 in the project (`.keyflow/plugins/<name>.json`; commit it).
    Add {
        /// The plugin's executable (it speaks `keyflow-plugin/1` on stdin/stdout).
        path: PathBuf,
        #[command(flatten)]
        project: ProjectArg,
    },
    /// The recorded plugins, and whether each executable is installed and unchanged.
    List {
        #[command(flatten)]
        project: ProjectArg,
        /// `json` prints the list as JSON (`schemas/plugins.schema.json`).
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Forget a plugin: remove its record (flows using its blocks no longer validate).
    Remove {
        /// The plugin's name.
        name: String,
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Describe a plugin's executable again, show what changed in its interface, and record it.
    Update {
        /// The plugin's name.
        name: String,
        #[command(flatten)]
        project: ProjectArg,
        /// Write nothing; exit with 1 when the record differs from what the executable describes.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Debug, Args)]
pub struct ProjectArg {
    /// The project: the folder holding `.keyflow/plugins/` (default: the nearest one from the current
    /// folder upwards, else the current folder).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
}

impl ProjectArg {
    fn project(&self) -> Project {
        match &self.project {
            Some(dir) => Project::at(dir),
            None => Project::find(Path::new(".")).unwrap_or_else(|| Project::at(Path::new("."))),
        }
    }
}

/// The blocks a command checks and runs flows with, and the host of their plugins.
pub struct Blocks {
    /// The built-ins and the project's plugins.
    pub registry: Registry,
    /// Runs the plugins' processes.
    pub host: Arc<Host>,
    /// The project the plugins were found in.
    pub project: Option<Project>,
    /// The plugins' records.
    pub records: Vec<PluginRecord>,
}

/// The registry for files in folder `dir`: the built-ins, and the plugins of the project `dir` is in.
pub fn blocks_at(dir: &Path) -> Result<Blocks, Failure> {
    let host = Host::new(Graces::default());
    let project = Project::find(dir);
    let records = match &project {
        Some(project) => project.records().map_err(record_failure)?,
        None => Vec::new(),
    };
    let registry = match &project {
        Some(project) => host
            .register(keyflow_blocks::registry(), project, &records)
            .map_err(|e| Failure::invalid(anyhow!(e)))?,
        None => keyflow_blocks::registry(),
    };
    Ok(Blocks {
        registry,
        host,
        project,
        records,
    })
}

/// The registry for the flow file `path` (`-`: the current folder).
pub fn blocks_for(path: &Path) -> Result<Blocks, Failure> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    blocks_at(dir)
}

/// The records of the plugins whose connectors `plan` uses, each refused when its executable is missing
/// or is not the one recorded (before anything runs).
pub fn used<'a>(
    blocks: &'a Blocks,
    plan: &keyflow_engine::plan::Plan,
) -> Result<Vec<&'a PluginRecord>, Failure> {
    let Some(project) = &blocks.project else {
        return Ok(Vec::new());
    };
    let mut used = Vec::new();
    for record in &blocks.records {
        let connector = record.description.connector.id.as_str();
        if plan
            .connections
            .values()
            .any(|c| c.connector.spec.id == connector)
        {
            keyflow_plugin_host::verify(
                &record.name,
                &record.executable_path(&project.root),
                &record.sha256,
            )
            .map_err(|e| Failure::environment(anyhow!("{}", e.message)))?;
            used.push(record);
        }
    }
    Ok(used)
}

/// The sandbox of a run with the twins of the plugins it uses: each plugin's own twin, started; a
/// plugin without one reaches its real service only when `outside` allows it, else its steps fail
/// saying so.
pub async fn sandbox(
    blocks: &Blocks,
    plugins: &[&PluginRecord],
    mut sandbox: keyflow_engine::exec::sandbox::Sandbox,
    outside: bool,
) -> anyhow::Result<(keyflow_engine::exec::sandbox::Sandbox, Vec<Twin>)> {
    let mut started = Vec::new();
    let Some(project) = &blocks.project else {
        return Ok((sandbox, started));
    };
    for record in plugins {
        let connector = &record.description.connector.id;
        match Twin::start(project, record).await.map_err(|e| anyhow!(e))? {
            Some(twin) => {
                sandbox = sandbox.with_described(connector, twin.settings.clone());
                started.push(twin);
            }
            None if outside => sandbox = sandbox.outside(connector),
            None => {
                sandbox = sandbox.with_described(
                    connector,
                    serde_json::json!({ keyflow_plugin_host::NO_TWIN: true }),
                )
            }
        }
    }
    Ok((sandbox, started))
}

fn record_failure(error: keyflow_plugin_host::RecordError) -> Failure {
    match error {
        keyflow_plugin_host::RecordError::Io { .. } => Failure::environment(error),
        keyflow_plugin_host::RecordError::Invalid { .. } => Failure::invalid(error),
    }
}

pub fn run(command: &PluginCommand, colors: Colors) -> Result<Exit, Failure> {
    let color = colors.out;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .environment()?;
    match command {
        PluginCommand::Add { path, project } => {
            let project = project.project();
            let record = runtime
                .block_on(add::describe(&project, path))
                .map_err(|e| Failure::invalid(anyhow!(e)))?;
            if project
                .record(&record.name)
                .map_err(record_failure)?
                .is_some()
            {
                return Err(Failure::invalid(anyhow!(
                    "plugin `{0}` is already recorded: `keyflow plugin update {0}` describes it again",
                    record.name
                )));
            }
            let others = project.records().map_err(record_failure)?;
            Host::new(Graces::default())
                .register(
                    keyflow_blocks::registry(),
                    &project,
                    &[others, vec![record.clone()]].concat(),
                )
                .map_err(|e| Failure::invalid(anyhow!(e)))?;
            let written = project.write(&record).map_err(record_failure)?;
            outln!(
                "{} plugin `{}` {} ({} blocks of connector `{}`): {}",
                style::green(color, "added"),
                record.name,
                record.version,
                record.description.blocks.len(),
                record.description.connector.id,
                written.display()
            )?;
            for block in &record.description.blocks {
                outln!("  {}  {}", block.id, block.title)?;
            }
            Ok(Exit::Success)
        }
        PluginCommand::List { project, output } => {
            let project = project.project();
            let plugins: Vec<PluginSummary> = project
                .records()
                .map_err(record_failure)?
                .iter()
                .map(|r| PluginSummary::of(&project, r))
                .collect();
            match output {
                Output::Json => print_json(&PluginsDocument {
                    format_version: FormatVersion,
                    plugins,
                })?,
                Output::Text => {
                    if plugins.is_empty() {
                        outln!(
                            "no plugins in {} (`keyflow plugin add PATH` adds one)",
                            project.folder().display()
                        )?;
                    }
                    for plugin in plugins {
                        outln!(
                            "{}  {}  {} blocks of `{}`  {}  {}",
                            plugin.name,
                            plugin.version,
                            plugin.blocks.len(),
                            plugin.connector,
                            plugin.executable,
                            match plugin.installed {
                                Installed::Ok => style::green(color, "installed"),
                                Installed::Changed => style::red(color, "changed since added"),
                                Installed::Missing => style::yellow(color, "not installed"),
                            }
                        )?;
                    }
                }
            }
            Ok(Exit::Success)
        }
        PluginCommand::Remove { name, project } => {
            let project = project.project();
            if !project.remove(name).map_err(record_failure)? {
                return Err(Failure::invalid(anyhow!(
                    "no plugin `{name}` in {} (`keyflow plugin list` shows them)",
                    project.folder().display()
                )));
            }
            outln!("{} plugin `{name}`", style::green(color, "removed"))?;
            Ok(Exit::Success)
        }
        PluginCommand::Update {
            name,
            project,
            check,
        } => {
            let project = project.project();
            let Some(old) = project.record(name).map_err(record_failure)? else {
                return Err(Failure::invalid(anyhow!(
                    "no plugin `{name}` in {} (`keyflow plugin add PATH` adds one)",
                    project.folder().display()
                )));
            };
            let executable = old.executable_path(&project.root);
            let new = runtime
                .block_on(add::describe(&project, &executable))
                .map_err(|e| Failure::invalid(anyhow!(e)))?;
            if new.name != old.name {
                return Err(Failure::invalid(anyhow!(
                    "{} now calls itself `{}`, not `{name}`: remove `{name}` and add it again",
                    executable.display(),
                    new.name
                )));
            }
            let mut changes = diff::changes(&old.description, &new.description);
            if old.version != new.version {
                changes.insert(0, format!("~ version {} → {}", old.version, new.version));
            }
            if old.sha256 != new.sha256 {
                changes.push(format!("~ sha256 {} → {}", old.sha256, new.sha256));
            }
            if changes.is_empty() && new == old {
                outln!("plugin `{name}` is up to date")?;
                return Ok(Exit::Success);
            }
            for change in &changes {
                outln!("  {change}")?;
            }
            if *check {
                errln!(
                    "{} the record of plugin `{name}` is stale: `keyflow plugin update {name}` writes it",
                    style::error_label(colors.err)
                );
                return Ok(Exit::RunFailed);
            }
            project.write(&new).map_err(record_failure)?;
            outln!("{} plugin `{name}`", style::green(color, "updated"))?;
            Ok(Exit::Success)
        }
    }
}

/// `keyflow plugin list --output json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PluginsDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// The recorded plugins, by name.
    pub plugins: Vec<PluginSummary>,
}

/// One recorded plugin.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PluginSummary {
    /// Its name (its record is `.keyflow/plugins/<name>.json`).
    pub name: String,
    /// Its own version.
    pub version: String,
    /// The protocol agreed (`keyflow-plugin/1`).
    pub protocol: String,
    /// Its connector's id.
    pub connector: String,
    /// Its blocks' ids.
    pub blocks: Vec<String>,
    /// Its executable, as recorded.
    pub executable: String,
    /// The executable's recorded sha256.
    pub sha256: String,
    /// Whether the executable is here and unchanged (`run` refuses a changed one).
    pub installed: Installed,
}

/// Whether a recorded plugin's executable can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Installed {
    /// Present, with the recorded sha256.
    Ok,
    /// Present, with another sha256: `keyflow plugin update` after a review.
    Changed,
    /// Not here (flows still validate; they do not run).
    Missing,
}

impl PluginSummary {
    fn of(project: &Project, record: &PluginRecord) -> PluginSummary {
        let installed =
            match keyflow_plugin_host::sha256_file(&record.executable_path(&project.root)) {
                Ok(sha) if sha == record.sha256 => Installed::Ok,
                Ok(_) => Installed::Changed,
                Err(_) => Installed::Missing,
            };
        PluginSummary {
            name: record.name.clone(),
            version: record.version.clone(),
            protocol: record.protocol.clone(),
            connector: record.description.connector.id.clone(),
            blocks: record
                .description
                .blocks
                .iter()
                .map(|b| b.id.clone())
                .collect(),
            executable: record.executable.clone(),
            sha256: record.sha256.clone(),
            installed,
        }
    }
}
