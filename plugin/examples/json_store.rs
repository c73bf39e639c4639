//! A keyflow plugin in Rust: a key-value store kept in a JSON file — where a flow can note what it made
//! (which tenant got which key) for the next run to read. Connector `json-store`, setting `path`; blocks
//! `put` (update), `get` (read), `delete` (destructive). The whole plugin is this `main` and its blocks.
//!
//! `cargo build -p keyflow-plugin --example json_store`, then
//! `keyflow plugin add target/debug/examples/json_store`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use keyflow_plugin::{
    Block, BlockInfo, Call, ConnectorDescription, Effect, Failure, Plugin, Recovery,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Calls run on threads of their own: one file write at a time.
static FILE: Mutex<()> = Mutex::new(());

fn path(call: &Call) -> Result<PathBuf, Failure> {
    Ok(PathBuf::from(call.setting("path")?))
}

fn load(call: &Call) -> Result<BTreeMap<String, Value>, Failure> {
    match std::fs::read_to_string(path(call)?) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| Failure::fatal("CorruptStore", format!("the store is not JSON: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Failure::retryable("StoreUnreadable", e.to_string())),
    }
}

fn save(call: &Call, entries: &BTreeMap<String, Value>) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(entries).unwrap_or_default();
    std::fs::write(path(call)?, text + "\n")
        .map_err(|e| Failure::retryable("StoreUnwritable", e.to_string()))
}

#[derive(Deserialize, JsonSchema)]
struct PutInput {
    /// The entry's key.
    key: String,
    /// Any JSON value.
    value: Value,
}

#[derive(Deserialize, JsonSchema)]
struct KeyInput {
    /// The entry's key.
    key: String,
}

#[derive(Serialize, JsonSchema)]
struct Entry {
    /// The entry's key.
    key: String,
    /// Its value.
    value: Value,
    /// The value it replaced or removed (`null` when there was none).
    previous: Value,
}

struct Put;
impl Block for Put {
    type Input = PutInput;
    type Output = Entry;
    fn info(&self) -> BlockInfo {
        BlockInfo::new(
            "json-store.put",
            "Put Entry",
            "Sets a key to a value (putting the same value again changes nothing).",
            Effect::Update,
            Recovery::Reapply,
        )
    }
    fn example_output(&self) -> Entry {
        Entry {
            key: "tenant-42".into(),
            value: json!({ "key_arn": "arn:aws:kms:eu-west-1:111122223333:key/mrk-1" }),
            previous: Value::Null,
        }
    }
    fn call(&self, call: &Call, input: PutInput) -> Result<Entry, Failure> {
        let _file = FILE.lock().unwrap_or_else(|e| e.into_inner());
        let mut entries = load(call)?;
        let previous = entries
            .insert(input.key.clone(), input.value.clone())
            .unwrap_or(Value::Null);
        save(call, &entries)?;
        Ok(Entry {
            key: input.key,
            value: input.value,
            previous,
        })
    }
}

struct Get;
impl Block for Get {
    type Input = KeyInput;
    type Output = Entry;
    fn info(&self) -> BlockInfo {
        BlockInfo::new(
            "json-store.get",
            "Get Entry",
            "Reads a key's value; fails with `NotFound` when it has none.",
            Effect::Read,
            Recovery::Repeat,
        )
    }
    fn example_output(&self) -> Entry {
        Put.example_output()
    }
    fn call(&self, call: &Call, input: KeyInput) -> Result<Entry, Failure> {
        let entries = load(call)?;
        let value = entries
            .get(&input.key)
            .cloned()
            .ok_or_else(|| Failure::fatal("NotFound", format!("no entry `{}`", input.key)))?;
        Ok(Entry {
            key: input.key,
            value: value.clone(),
            previous: value,
        })
    }
}

struct Delete;
impl Block for Delete {
    type Input = KeyInput;
    type Output = Entry;
    fn info(&self) -> BlockInfo {
        BlockInfo::new(
            "json-store.delete",
            "Delete Entry",
            "Removes a key and its value.",
            Effect::Destructive,
            Recovery::Reapply,
        )
    }
    fn example_output(&self) -> Entry {
        Put.example_output()
    }
    fn call(&self, call: &Call, input: KeyInput) -> Result<Entry, Failure> {
        let _file = FILE.lock().unwrap_or_else(|e| e.into_inner());
        let mut entries = load(call)?;
        let previous = entries.remove(&input.key).unwrap_or(Value::Null);
        save(call, &entries)?;
        Ok(Entry {
            key: input.key,
            value: Value::Null,
            previous,
        })
    }
}

fn main() -> std::io::Result<()> {
    let mut connector = ConnectorDescription::new(
        "json-store",
        "JSON file store",
        "A key-value store kept in one JSON file.",
    );
    connector.settings = json!({
        "type": "object",
        "properties": { "path": { "type": "string", "description": "The store's JSON file." } },
        "required": ["path"],
        "additionalProperties": false
    });
    Plugin::new("json-store", env!("CARGO_PKG_VERSION"), connector)
        .block(Put)
        .block(Get)
        .block(Delete)
        .serve()
}
