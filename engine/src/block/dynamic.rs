//! Blocks and connectors known only at run time — a plugin's, described by the plugin rather than by Rust
//! types. They enter the same [`super::Registry`] as the built-ins and are checked, planned and run the
//! same way; only how a call is made differs. The SDK does not say *how* (a process, a socket): whoever
//! registers them (the plugin host, outside the engine) implements [`DynamicBlock`] and
//! [`DynamicConnector`].

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use futures::future::BoxFuture;
use serde_json::Value;

use super::erased::Connected;
use super::{BlockContext, BlockError};

/// A block whose call is made at run time by its registrant.
pub trait DynamicBlock: Send + Sync + 'static {
    /// Calls the block with its resolved input; the output must match the block's output schema.
    fn call<'a>(
        &'a self,
        ctx: &'a BlockContext,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, BlockError>>;
}

/// A connector whose client is built at run time by its registrant.
pub trait DynamicConnector: Send + Sync + 'static {
    /// Builds the client from the connection's settings (secrets read); with `twin`, pointed at the
    /// connector's sandbox twin (what the sandbox says about it).
    fn connect<'a>(
        &'a self,
        settings: Value,
        twin: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<Connected, BlockError>>;
}

/// Where a block comes from, as `keyflow blocks list` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into keyflow.
    BuiltIn,
    /// From the plugin of this name (its record is `.keyflow/plugins/<name>.json`).
    Plugin(&'static str),
}

/// `text` as a `&'static str` kept once for the process: the specs of blocks described at run time hold
/// their strings as the built-ins' do, so the checker, planner and executor need not know the difference.
/// A process describes a bounded set of plugins, so what is kept is bounded too.
pub fn intern(text: &str) -> &'static str {
    static STRINGS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut strings = STRINGS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(kept) = strings.get(text) {
        return kept;
    }
    let kept: &'static str = Box::leak(text.to_string().into_boxed_str());
    strings.insert(kept);
    kept
}

/// A list of strings as a `&'static [&'static str]` (secret outputs, secret settings), kept for the process.
pub fn intern_all(texts: &[String]) -> &'static [&'static str] {
    if texts.is_empty() {
        return &[];
    }
    Box::leak(
        texts
            .iter()
            .map(|t| intern(t))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_strings_are_kept_once() {
        let a = intern("vault-transit.encrypt");
        let b = intern(&String::from("vault-transit.encrypt"));
        assert!(std::ptr::eq(a, b));
        assert_eq!(intern_all(&["x".into(), "y".into()]), &["x", "y"]);
    }
}
