//! A plugin's sandbox twin: the command its description names, started from the plugin's folder, which
//! prints one line — the connection settings that point at it — and serves until it is stopped.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::record::{PluginRecord, Project};

/// How long a twin may take to say where it is.
const START: Duration = Duration::from_secs(10);

/// A running twin.
pub struct Twin {
    child: Child,
    /// The settings it printed: they replace a connection's under `--sandbox`.
    pub settings: Value,
}

impl Twin {
    /// Starts the twin of `record`; `None` when the plugin has none.
    pub async fn start(project: &Project, record: &PluginRecord) -> Result<Option<Twin>, String> {
        let Some(twin) = &record.description.connector.twin else {
            return Ok(None);
        };
        let name = &record.name;
        let executable = record.executable_path(&project.root);
        let dir = executable.parent().unwrap_or(Path::new("."));
        let Some((program, args)) = twin.command.split_first() else {
            return Err(format!("plugin `{name}`: its twin's command is empty"));
        };
        let mut child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("plugin `{name}`: cannot start its twin `{program}`: {e}"))?;
        let Some(stdout) = child.stdout.take() else {
            return Err(format!("plugin `{name}`: its twin has no stdout"));
        };
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let read =
            tokio::time::timeout(START, (&mut reader).take(64 * 1024).read_line(&mut line)).await;
        let settings = match read {
            Ok(Ok(n)) if n > 0 => serde_json::from_str::<Value>(&line)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| {
                    format!(
                        "plugin `{name}`: its twin's first line is not a JSON object of settings"
                    )
                }),
            Ok(_) => Err(format!(
                "plugin `{name}`: its twin ended without saying where it is"
            )),
            Err(_) => Err(format!(
                "plugin `{name}`: its twin did not say where it is within {}s",
                START.as_secs()
            )),
        };
        let settings = match settings {
            Ok(settings) => settings,
            Err(e) => {
                let _ = child.kill().await;
                return Err(e);
            }
        };
        // What else it prints is read and dropped, so that it never blocks on a full pipe.
        tokio::spawn(async move { tokio::io::copy(&mut reader, &mut tokio::io::sink()).await });
        Ok(Some(Twin { child, settings }))
    }

    /// Stops the twin and reaps it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
