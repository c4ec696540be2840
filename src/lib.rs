//! El Jefe: mission control for LLM agent workflows.

pub mod client;
pub mod config;
pub mod engine;
pub mod format;
pub mod headless;
pub mod logging;
pub mod protocol;
pub mod provider;
pub mod schedule;
pub mod scheduler;
pub mod server;
pub mod session;
pub mod store;
pub mod tools;
pub mod tui;
