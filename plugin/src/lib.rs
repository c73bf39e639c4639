//! Write keyflow connector plugins in Rust.
//!
//! A plugin is an executable that speaks `keyflow-plugin/1` — JSON-RPC 2.0, one message per line on
//! stdin/stdout, its log on stderr (see `docs/plugins.md`). This crate holds the protocol's messages
//! ([`protocol`]) and a serve loop ([`Plugin::serve`]), so that a Rust plugin is a `main` and its blocks:
//!
//! ```no_run
//! use keyflow_plugin::{Block, BlockInfo, Call, ConnectorDescription, Effect, Failure, Plugin, Recovery};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Input { name: String }
//! #[derive(serde::Serialize, schemars::JsonSchema)]
//! struct Output { greeting: String }
//!
//! struct Greet;
//! impl Block for Greet {
//!     type Input = Input;
//!     type Output = Output;
//!     fn info(&self) -> BlockInfo {
//!         BlockInfo::new("greeter.greet", "Greet", "Says hello.", Effect::Read, Recovery::Repeat)
//!     }
//!     fn example_output(&self) -> Output { Output { greeting: "hello, world".into() } }
//!     fn call(&self, _call: &Call, input: Input) -> Result<Output, Failure> {
//!         Ok(Output { greeting: format!("hello, {}", input.name) })
//!     }
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     Plugin::new("greeter", env!("CARGO_PKG_VERSION"), ConnectorDescription::new("greeter", "Greeter", "Says hello."))
//!         .block(Greet)
//!         .serve()
//! }
//! ```

mod block;
pub mod protocol;
mod serve;

pub use block::{Block, BlockInfo, Call, Failure};
pub use protocol::{
    BlockDescription, ConnectorDescription, Description, Effect, Recovery, TwinCommand,
};
pub use serve::Plugin;
