//! The record of installed plugins: one committed file per plugin, `.keyflow/plugins/<name>.json`, in the
//! project (the folder holding `.keyflow/`, found from a flow's folder upwards like any project file).
//!
//! `keyflow plugin add` writes it from the plugin's own `describe`; `validate`, `plan`, `schema` and the
//! editors' schema read only it, so a flow that uses a plugin is checked where the plugin is not installed
//! (CI). `run` starts the executable it names only when its sha256 is still the one recorded.

use std::path::{Path, PathBuf};

use keyflow_plugin::protocol::{BlockDescription, ConnectorDescription, Description};
use serde::{Deserialize, Serialize};

/// The folder, under a project's root, that holds the records.
pub const FOLDER: &str = ".keyflow/plugins";

/// The version of the record's format; a reader refuses another.
pub const FORMAT_VERSION: u32 = 1;

/// One installed plugin, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginRecord {
    /// The version of this file's format (1).
    pub format_version: u32,
    /// The plugin's name, as it gave it (and the file's name).
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// The protocol version agreed when it was added (`keyflow-plugin/1`).
    pub protocol: String,
    /// The executable: relative to the project's root (the folder holding `.keyflow/`), or absolute.
    pub executable: String,
    /// The executable's SHA-256 (hex) when it was described: `run` refuses another.
    pub sha256: String,
    /// What the plugin described: its connector (the `connector` and `blocks` fields of `describe`'s
    /// answer, kept as they are so that a reader sees where each part is).
    #[serde(flatten)]
    pub description: Description,
}

impl PluginRecord {
    /// The executable's path, for a project rooted at `root`.
    pub fn executable_path(&self, root: &Path) -> PathBuf {
        root.join(&self.executable)
    }
}

/// [`PluginRecord`] as read: the same fields, the description's unflattened.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OnDisk {
    format_version: u32,
    name: String,
    version: String,
    protocol: String,
    executable: String,
    sha256: String,
    connector: ConnectorDescription,
    blocks: Vec<BlockDescription>,
}

/// Why a record cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file is not a record of this format: where and what.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what to do.
        message: String,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A project: the folder holding `.keyflow/plugins/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The project's root.
    pub root: PathBuf,
}

impl Project {
    /// The project `start` (a folder) is in: the nearest folder, from `start` upwards, that holds
    /// `.keyflow/plugins/`.
    pub fn find(start: &Path) -> Option<Project> {
        let start = std::path::absolute(start).ok()?;
        start
            .ancestors()
            .find(|dir| dir.join(FOLDER).is_dir())
            .map(|root| Project {
                root: root.to_path_buf(),
            })
    }

    /// The project rooted at `root` (whether or not it has records yet).
    pub fn at(root: &Path) -> Project {
        Project {
            root: std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()),
        }
    }

    /// The folder of the records.
    pub fn folder(&self) -> PathBuf {
        self.root.join(FOLDER)
    }

    /// The record file of plugin `name`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.folder().join(format!("{name}.json"))
    }

    /// Every record, by name.
    pub fn records(&self) -> Result<Vec<PluginRecord>, RecordError> {
        let folder = self.folder();
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(RecordError::Io {
                    path: folder.display().to_string(),
                    source,
                });
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        paths.iter().map(|p| read(p)).collect()
    }

    /// The record of plugin `name`, if there is one.
    pub fn record(&self, name: &str) -> Result<Option<PluginRecord>, RecordError> {
        let path = self.file(name);
        if !path.is_file() {
            return Ok(None);
        }
        read(&path).map(Some)
    }

    /// Writes `record` (creating the folder), as pretty JSON ending with a line break, so that it
    /// reviews well in a diff.
    pub fn write(&self, record: &PluginRecord) -> Result<PathBuf, RecordError> {
        let folder = self.folder();
        std::fs::create_dir_all(&folder).map_err(|source| RecordError::Io {
            path: folder.display().to_string(),
            source,
        })?;
        let path = self.file(&record.name);
        let mut text = serde_json::to_string_pretty(record).unwrap_or_default();
        text.push('\n');
        std::fs::write(&path, text).map_err(|source| RecordError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(path)
    }

    /// Removes the record of plugin `name`; `false` when there was none.
    pub fn remove(&self, name: &str) -> Result<bool, RecordError> {
        let path = self.file(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(RecordError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// How the record names `executable`: relative to the root when it is inside the project (so the
    /// record holds on every checkout), else absolute.
    pub fn name_of(&self, executable: &Path) -> String {
        let absolute = std::path::absolute(executable).unwrap_or_else(|_| executable.to_path_buf());
        match absolute.strip_prefix(&self.root) {
            Ok(relative) => relative.display().to_string(),
            Err(_) => absolute.display().to_string(),
        }
    }
}

/// Reads one record, with file:line:column for what is wrong in it.
pub fn read(path: &Path) -> Result<PluginRecord, RecordError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| RecordError::Io {
        path: shown.clone(),
        source,
    })?;
    parse(&shown, &text)
}

/// Reads a record's text; `shown` names it in errors.
pub fn parse(shown: &str, text: &str) -> Result<PluginRecord, RecordError> {
    let invalid = |line: usize, column: usize, message: String| RecordError::Invalid {
        path: shown.to_string(),
        line,
        column,
        message,
    };
    // The version first: a record of another format is named as such, not as a pile of field errors.
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        invalid(
            e.line(),
            e.column(),
            format!("not JSON: {}", without_position(&e)),
        )
    })?;
    match value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        other => {
            let (line, column) = position_of(text, "\"format_version\"");
            let found = other.map_or("none".to_string(), |v| v.to_string());
            return Err(invalid(
                line,
                column,
                format!(
                    "a plugin record of format_version {FORMAT_VERSION} is expected, found {found}: add the plugin again with this keyflow (`keyflow plugin add`)"
                ),
            ));
        }
    }
    // Read without `flatten` (which buffers, losing where a value was): errors point into the file.
    let record: OnDisk = serde_json::from_str(text).map_err(|e| {
        invalid(
            e.line(),
            e.column(),
            format!(
                "not a plugin record: {}; `keyflow plugin update` writes it again",
                without_position(&e)
            ),
        )
    })?;
    let record = PluginRecord {
        format_version: record.format_version,
        name: record.name,
        version: record.version,
        protocol: record.protocol,
        executable: record.executable,
        sha256: record.sha256,
        description: Description {
            connector: record.connector,
            blocks: record.blocks,
        },
    };
    if let Err(problem) = crate::describe::check_description(&record.description) {
        let (line, column) = position_of(text, &problem.near);
        return Err(invalid(line, column, problem.message));
    }
    Ok(record)
}

/// serde_json's message without its ` at line L column C` (the error says where already).
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The line and column of the first occurrence of `needle` in `text` (1:1 when absent).
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let Some(offset) = (!needle.is_empty()).then(|| text.find(needle)).flatten() else {
        return (1, 1);
    };
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |n| offset - n - 1) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{
  "format_version": 1,
  "name": "kv",
  "version": "1.0.0",
  "protocol": "keyflow-plugin/1",
  "executable": "kv.py",
  "sha256": "00",
  "connector": { "id": "kv", "title": "KV", "description": "A store." },
  "blocks": [
    { "id": "kv.get", "title": "Get", "description": "Gets.", "effect": "read", "recovery": "repeat",
      "input": { "type": "object" }, "output": { "type": "object", "properties": { "value": { "type": "string" } } },
      "example_output": { "value": "v" } }
  ]
}
"#;

    #[test]
    fn a_record_reads_and_writes_back_the_same() {
        let record = parse("kv.json", RECORD).expect("a record");
        assert_eq!(record.description.blocks[0].id, "kv.get");
        let dir = tempfile::tempdir().expect("tempdir");
        let project = Project::at(dir.path());
        let path = project.write(&record).expect("write");
        assert_eq!(read(&path).expect("read back"), record);
        let found = Project::find(&dir.path().join(".keyflow")).expect("found from below");
        assert_eq!(found.root, project.root);
        assert_eq!(project.records().expect("records").len(), 1);
        assert!(project.remove("kv").expect("remove"));
        assert!(!project.remove("kv").expect("remove again"));
    }

    #[test]
    fn errors_say_where_in_the_file() {
        let wrong = RECORD.replace("\"read\"", "\"reads\"");
        let error = parse("kv.json", &wrong).expect_err("a wrong effect");
        let RecordError::Invalid { line, message, .. } = &error else {
            panic!("{error}");
        };
        assert_eq!(*line, 10, "{error}");
        assert!(!message.contains("at line"), "said once: {message}");
        assert!(message.contains("reads"), "{message}");
        let old = RECORD.replace("\"format_version\": 1", "\"format_version\": 7");
        let error = parse("kv.json", &old)
            .expect_err("another format")
            .to_string();
        assert!(
            error.starts_with("kv.json:2:3: a plugin record of format_version 1"),
            "{error}"
        );
        let foreign = RECORD.replace("\"kv.get\"", "\"other.get\"");
        let error = parse("kv.json", &foreign)
            .expect_err("a foreign id")
            .to_string();
        assert!(error.starts_with("kv.json:10:13:"), "{error}");
        assert!(error.contains("`other.get`"), "{error}");
    }
}
