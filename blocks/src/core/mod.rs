//! Core blocks: no connector, no network. They shape data, log, wait, check and fail.

mod assert;
mod fail;
mod log;
mod render;
mod set;
mod sleep;

pub use assert::Assert;
pub use fail::Fail;
pub use log::Log;
pub use render::Render;
pub use set::Set;
pub use sleep::Sleep;
