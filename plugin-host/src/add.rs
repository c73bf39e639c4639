//! Describing an executable for `keyflow plugin add` and `keyflow plugin update`: start it once, agree on
//! the protocol, ask `describe`, check what it says, shut it down, and make the record.

use std::path::Path;

use keyflow_plugin::protocol::{self, Description, Method};

use crate::describe::check_description;
use crate::process::{Graces, Process};
use crate::record::{FORMAT_VERSION, PluginRecord, Project};

/// Starts `executable` in `project`, asks for its description, and gives the record to write.
pub async fn describe(project: &Project, executable: &Path) -> Result<PluginRecord, String> {
    let shown = executable.display().to_string();
    // The plugin runs in the project's folder: its path must not depend on ours.
    let executable = &std::path::absolute(executable).map_err(|e| format!("{shown}: {e}"))?;
    let sha256 = crate::sha256_file(executable).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let (process, init) = Process::start(&shown, executable, &project.root, Graces::default())
        .await
        .map_err(|e| e.message)?;
    let described = process
        .request(
            Method::Describe(protocol::Empty {}),
            None,
            Some(Graces::default().start),
        )
        .await;
    process.shutdown().await;
    let description: Description = serde_json::from_value(described.map_err(|e| e.message)?)
        .map_err(|e| format!("plugin {shown} answered `describe` with something else: {e}"))?;
    check_description(&description)
        .map_err(|p| format!("plugin {shown} describes itself wrongly: {}", p.message))?;
    if !is_name(&init.name) {
        return Err(format!(
            "plugin {shown} calls itself `{}`: a plugin's name is kebab-case (it names its record file)",
            init.name
        ));
    }
    Ok(PluginRecord {
        format_version: FORMAT_VERSION,
        name: init.name,
        version: init.version,
        protocol: init.protocol,
        executable: project.name_of(executable),
        sha256,
        description,
    })
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
